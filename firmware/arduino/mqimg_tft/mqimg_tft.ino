// mqimg on an ESP32-class board and a 320x240 ILI9341 driven by TFT_eSPI, over PubSubClient. Send with:
//   mqimg send photo.jpg --profile ili9341-rgb565 --chunk-size 1024 --topic cam/1 --url mqtt://BROKER
// (1 KiB chunks: PubSubClient drops any message larger than its buffer, set below.) Install firmware/ as an
// Arduino library (copy or link it to ~/Arduino/libraries/mqimg_rx; or copy the two files that
// firmware/scripts/amalgamate.sh writes, mqimg_rx.c and mqimg_rx.h, next to this sketch) and PubSubClient and
// TFT_eSPI (configured for your panel and pins in its User_Setup.h). The frame buffer goes to PSRAM where the board
// has it (ESP32, S3 with PSRAM enabled), else to internal RAM (C3, C6: 150 KiB of it). NOT BUILT WITH THE ARDUINO
// IDE AND UNTESTED ON HARDWARE: CI compiles this sketch for rv32imc against stand-ins of the APIs it calls, with
// ESP-IDF's warnings (firmware/scripts/examples-test.sh, firmware/README.md).
#include <PubSubClient.h>
#include <TFT_eSPI.h>
#include <WiFi.h>
#include <inttypes.h>
#include "mqimg_rx.h"

static const char *WIFI_SSID = "your-ssid";
static const char *WIFI_PASSWORD = "your-password";
static const char *BROKER = "192.0.2.10";
#define TOPIC "cam/1"
static const uint16_t W = 320, H = 240;

WiFiClient net;
PubSubClient mqtt(net);
TFT_eSPI tft;
static uint8_t *fb;  // W * H * 2 bytes of little-endian RGB565 (the profile's), in PSRAM if there is some
static char rxId[24];
// 150 chunks of 1 KiB and their 3 hash pages at most: about 5.6 KiB.
static uint8_t state[MQIMG_RX_STATE_SIZE(MQIMG_RX_CHUNKS(320 * 240 * 2, 1024), MQIMG_RX_PAGES(150, 1024))];
static mqimg_rx *rx;

// PubSubClient publishes at QoS 0 only, which the protocol allows: a lost status is repeated by the next one.
static int publishStatus(void *, const char *topic, const char *payload, size_t len) {
  return mqtt.publish(topic, (const uint8_t *)payload, len, false) ? 0 : -1;
}
static int writeFb(void *, uint32_t offset, const uint8_t *data, size_t len) {
  if (offset + len > (uint32_t)W * H * 2) return -1;
  memcpy(fb + offset, data, len);
  return 0;
}
static int readFb(void *, uint32_t offset, uint8_t *data, size_t len) {
  memcpy(data, fb + offset, len);
  return 0;
}
static uint32_t nowMs(void *) { return millis(); }
static int begin(void *, const mqimg_rx_info *i) {
  Serial.printf("receiving %s: %s %" PRIu32 "x%" PRIu32 " in %" PRIu32 " chunks\n", i->id, i->type, i->width, i->height,
                i->chunks);
  if (i->pixel_format != MQIMG_RX_PX_RGB565LE || i->width != W || i->height != H) return MQIMG_RX_NOT_AN_IMAGE;
  return 0;
}
static int complete(void *, const mqimg_rx_info *) {
  tft.pushImage(0, 0, W, H, (uint16_t *)fb);  // setSwapBytes(true): little-endian in memory, big-endian on SPI
  return 0;
}
static void failed(void *, const mqimg_rx_info *i, mqimg_rx_code code) {
  Serial.printf("transfer %s failed: %s\n", i->id, mqimg_rx_code_name(code));
}

static void onMessage(char *topic, byte *payload, unsigned int len) {
  mqimg_rx_on_message(rx, topic, strlen(topic), payload, len);
}

static void connectMqtt() {
  while (!mqtt.connected()) {
    if (mqtt.connect(rxId)) {
      // Manifests first at QoS 1, then pages and chunks at one QoS (0: the protocol repairs losses itself).
      mqtt.subscribe(TOPIC "/mqimg/+/m", 1);
      mqtt.subscribe(TOPIC "/mqimg/retained", 1);
      mqtt.subscribe(TOPIC "/mqimg/+/h/+", 0);
      mqtt.subscribe(TOPIC "/mqimg/+/c/+", 0);
    } else {
      delay(1000);
    }
  }
}

void setup() {
  Serial.begin(115200);
  fb = (uint8_t *)(psramFound() ? ps_malloc((size_t)W * H * 2) : malloc((size_t)W * H * 2));
  if (!fb) {
    Serial.println("no memory for the frame buffer");
    for (;;) delay(1000);
  }
  tft.init();
  tft.setRotation(1);  // landscape, 320x240
  tft.setSwapBytes(true);
  tft.fillScreen(TFT_BLACK);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  while (WiFi.status() != WL_CONNECTED) delay(200);
  uint8_t mac[6];
  WiFi.macAddress(mac);
  snprintf(rxId, sizeof rxId, "tft-%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  mqimg_rx_config cfg = {};
  cfg.rx_id = rxId;
  cfg.max_size = (uint32_t)W * H * 2;
  cfg.win = 8;  // PubSubClient reads one message per loop(): keep the broker's queue for us short
  cfg.publish = publishStatus;
  cfg.write = writeFb;
  cfg.read = readFb;
  cfg.now_ms = nowMs;
  cfg.begin = begin;
  cfg.complete = complete;
  cfg.failed = failed;
  rx = mqimg_rx_init(state, sizeof state, MQIMG_RX_CHUNKS(320 * 240 * 2, 1024), MQIMG_RX_PAGES(150, 1024), &cfg);
  if (!rx) {
    Serial.println((const char *)state);  // why: the buffer, the config, or options that differ from the library's
    for (;;) delay(1000);
  }
  mqtt.setServer(BROKER, 1883);
  mqtt.setBufferSize(1024 + 128);  // one 1 KiB chunk and its topic
  mqtt.setCallback(onMessage);
}

void loop() {
  connectMqtt();
  mqtt.loop();
  // The status flush, heartbeat, page requests and timeout, and a few chunks of catching up after a gap fills
  // (mqimg_rx_work_left() says when more waits: loop() comes back at once, after mqtt.loop() has had its turn).
  mqimg_rx_poll(rx);
}
