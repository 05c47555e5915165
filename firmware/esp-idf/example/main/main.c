/* mqimg on an ESP32-class board with a 320x240 ILI9341 over SPI: esp-mqtt hands every message to mqimg_rx, which
 * writes verified chunks into a frame buffer; the finished image goes to the panel. Send with:
 *   mqimg send photo.jpg --profile ili9341-rgb565 --byte-order be --topic cam/1 --url mqtt://BROKER
 * (4 KiB chunks arrive in pieces of esp-mqtt's buffer; manifests must fit it whole). Wi-Fi: `idf.py menuconfig`,
 * Example Connection Configuration. Targets: ESP32 and ESP32-S3 with PSRAM (the frame buffer goes there), ESP32-C3
 * and ESP32-C6 (no PSRAM: the 150 KiB frame buffer is a static array in internal RAM). The pins below are per target.
 * NOT BUILT WITH ESP-IDF AND UNTESTED ON HARDWARE: CI compiles this file for rv32imc against stand-ins of the ESP-IDF
 * APIs it calls, with ESP-IDF's warnings (firmware/scripts/examples-test.sh, firmware/README.md). */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "driver/spi_master.h"
#include "esp_event.h"
#include "esp_heap_caps.h"
#include "esp_lcd_ili9341.h"
#include "esp_lcd_panel_io.h"
#include "esp_lcd_panel_ops.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_netif.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "mqtt_client.h"
#include "mqimg_rx.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"
#include "sdkconfig.h"

#define BROKER_URI "mqtt://192.0.2.10"
#define TOPIC "cam/1"
#define W 320
#define H 240
/* SPI pins that exist on each target and are not strapping, flash or USB pins (GPIO 23 is on the ESP32 only). */
#if CONFIG_IDF_TARGET_ESP32
#define PIN_SCLK 18
#define PIN_MOSI 23
#define PIN_CS 5
#define PIN_DC 16
#define PIN_RST 17
#elif CONFIG_IDF_TARGET_ESP32S3 || CONFIG_IDF_TARGET_ESP32S2
#define PIN_SCLK 12
#define PIN_MOSI 11
#define PIN_CS 10
#define PIN_DC 9
#define PIN_RST 8
#elif CONFIG_IDF_TARGET_ESP32C3
#define PIN_SCLK 6
#define PIN_MOSI 7
#define PIN_CS 10
#define PIN_DC 4
#define PIN_RST 5
#elif CONFIG_IDF_TARGET_ESP32C6
#define PIN_SCLK 6
#define PIN_MOSI 7
#define PIN_CS 18
#define PIN_DC 19
#define PIN_RST 20
#else
#error "choose SPI pins for this target"
#endif

static const char *TAG = "mqimg";
static esp_mqtt_client_handle_t client;
static esp_lcd_panel_handle_t panel;
/* W * H * 2 bytes, big-endian RGB565 as the ILI9341 takes it: in PSRAM where there is some, else a static array in
 * internal RAM (150 KiB of the C3's and C6's 400 and 512 KiB; the link fails if it does not fit). */
#if CONFIG_SPIRAM
static uint8_t *fb;
#else
static uint8_t fb_internal[W * H * 2];
static uint8_t *fb = fb_internal;
#endif
#define STRIPE 20   /* rows per SPI transfer, from a DMA-capable bounce buffer (DMA cannot read PSRAM on all ESP32s) */
static uint8_t *stripe;
static SemaphoreHandle_t stripe_done;
static SemaphoreHandle_t lock; /* the library is single-threaded: esp-mqtt's task and the poll loop share it */
/* Under `lock`: a verified image waits to be drawn. The poll loop draws it without the lock (about 40 ms of SPI);
 * until then `begin` answers a new transfer `too_many_transfers`, which the sender repeats a second later, so that
 * nothing writes to the frame buffer while it is drawn. */
static bool show;
static char rx_id[24];
/* 150 chunks of 1 KiB at most, 38 of 4 KiB: size for the smallest chunk the sender may pick. */
static uint8_t state[MQIMG_RX_STATE_SIZE(MQIMG_RX_CHUNKS(W * H * 2, 1024), MQIMG_RX_PAGES(150, 1024))];
static mqimg_rx *rx;

static int publish(void *u, const char *topic, const char *payload, size_t len) {
  return esp_mqtt_client_enqueue(client, topic, payload, (int)len, 1, 0, true) >= 0 ? 0 : -1;
}
static int write_fb(void *u, uint32_t offset, const uint8_t *data, size_t len) {
  if (offset + len > W * H * 2) return -1;
  memcpy(fb + offset, data, len);
  return 0;
}
static int read_fb(void *u, uint32_t offset, uint8_t *data, size_t len) {
  memcpy(data, fb + offset, len);
  return 0;
}
static uint32_t now_ms(void *u) { return (uint32_t)(esp_timer_get_time() / 1000); }
static int begin(void *u, const mqimg_rx_info *i) {
  if (show) return MQIMG_RX_TOO_MANY_TRANSFERS; /* the last image is still being drawn: the sender retries */
  ESP_LOGI(TAG, "receiving %s: %s %" PRIu32 "x%" PRIu32 ", %" PRIu32 " chunks", i->id, i->type, i->width, i->height,
           i->chunks);
  if (i->pixel_format != MQIMG_RX_PX_RGB565BE || i->width != W || i->height != H) return MQIMG_RX_NOT_AN_IMAGE;
  return 0;
}
static int complete(void *u, const mqimg_rx_info *i) {
  show = true; /* drawn by the poll loop, outside the lock */
  return 0;
}
static void draw(void) {
  for (int y = 0; y < H; y += STRIPE) {
    xSemaphoreTake(stripe_done, portMAX_DELAY); /* the previous stripe has left the buffer */
    memcpy(stripe, fb + (size_t)y * W * 2, (size_t)W * STRIPE * 2);
    if (esp_lcd_panel_draw_bitmap(panel, 0, y, W, y + STRIPE, stripe) != ESP_OK) {
      ESP_LOGE(TAG, "drawing failed");
      xSemaphoreGive(stripe_done);
      return;
    }
  }
}
static bool on_stripe_sent(esp_lcd_panel_io_handle_t io, esp_lcd_panel_io_event_data_t *d, void *ctx) {
  BaseType_t woken = pdFALSE;
  xSemaphoreGiveFromISR(stripe_done, &woken);
  return woken == pdTRUE;
}
static void failed(void *u, const mqimg_rx_info *i, mqimg_rx_code code) {
  ESP_LOGW(TAG, "transfer %s failed: %s", i->id, mqimg_rx_code_name(code));
}

static void on_mqtt(void *arg, esp_event_base_t base, int32_t id, void *data) {
  esp_mqtt_event_handle_t e = data;
  if (id == MQTT_EVENT_CONNECTED) {
    /* Manifests first at QoS 1, then pages and chunks at one QoS (0: the protocol repairs losses itself). */
    esp_mqtt_client_subscribe(client, TOPIC "/mqimg/+/m", 1);
    esp_mqtt_client_subscribe(client, TOPIC "/mqimg/retained", 1);
    esp_mqtt_client_subscribe(client, TOPIC "/mqimg/+/h/+", 0);
    esp_mqtt_client_subscribe(client, TOPIC "/mqimg/+/c/+", 0);
  } else if (id == MQTT_EVENT_DATA) {
    /* A message larger than buffer.size comes in pieces (the topic with the first only): the library takes them. */
    xSemaphoreTake(lock, portMAX_DELAY);
    mqimg_rx_on_message_part(rx, e->topic, (size_t)e->topic_len, (const uint8_t *)e->data, (size_t)e->data_len,
                             (size_t)e->current_data_offset, (size_t)e->total_data_len);
    xSemaphoreGive(lock);
  }
}

static void lcd_init(void) {
  spi_bus_config_t bus = {.sclk_io_num = PIN_SCLK, .mosi_io_num = PIN_MOSI, .miso_io_num = -1,
                          .quadwp_io_num = -1, .quadhd_io_num = -1, .max_transfer_sz = W * STRIPE * 2};
  ESP_ERROR_CHECK(spi_bus_initialize(SPI2_HOST, &bus, SPI_DMA_CH_AUTO));
  esp_lcd_panel_io_handle_t io;
  esp_lcd_panel_io_spi_config_t io_cfg = {.dc_gpio_num = PIN_DC, .cs_gpio_num = PIN_CS, .pclk_hz = 40000000,
                                          .lcd_cmd_bits = 8, .lcd_param_bits = 8, .spi_mode = 0,
                                          .trans_queue_depth = 10, .on_color_trans_done = on_stripe_sent};
  ESP_ERROR_CHECK(esp_lcd_new_panel_io_spi((esp_lcd_spi_bus_handle_t)SPI2_HOST, &io_cfg, &io));
  esp_lcd_panel_dev_config_t dev = {.reset_gpio_num = PIN_RST, .bits_per_pixel = 16};
  ESP_ERROR_CHECK(esp_lcd_new_panel_ili9341(io, &dev, &panel));
  esp_lcd_panel_reset(panel);
  esp_lcd_panel_init(panel);
  esp_lcd_panel_swap_xy(panel, true); /* landscape */
  esp_lcd_panel_disp_on_off(panel, true);
}

void app_main(void) {
  ESP_ERROR_CHECK(nvs_flash_init());
  ESP_ERROR_CHECK(esp_netif_init());
  ESP_ERROR_CHECK(esp_event_loop_create_default());
  ESP_ERROR_CHECK(example_connect());
#if CONFIG_SPIRAM
  fb = heap_caps_malloc(W * H * 2, MALLOC_CAP_SPIRAM | MALLOC_CAP_8BIT);
#endif
  stripe = heap_caps_malloc(W * STRIPE * 2, MALLOC_CAP_DMA);
  stripe_done = xSemaphoreCreateBinary();
  assert(fb && stripe && stripe_done);
  xSemaphoreGive(stripe_done);
  lcd_init();
  lock = xSemaphoreCreateMutex();
  uint8_t mac[6];
  esp_read_mac(mac, ESP_MAC_WIFI_STA);
  snprintf(rx_id, sizeof rx_id, "tft-%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  mqimg_rx_config cfg = {.rx_id = rx_id, .max_size = W * H * 2, .win = 16, .publish = publish, .write = write_fb,
                         .read = read_fb, .now_ms = now_ms, .begin = begin, .complete = complete, .failed = failed};
  rx = mqimg_rx_init(state, sizeof state, MQIMG_RX_CHUNKS(W * H * 2, 1024), MQIMG_RX_PAGES(150, 1024), &cfg);
  if (!rx) {
    ESP_LOGE(TAG, "%s", (const char *)state); /* why: the buffer, the config, or options that differ */
    abort();
  }
  esp_mqtt_client_config_t mq = {.broker.address.uri = BROKER_URI, .buffer.size = 2048}; /* manifests fit */
  client = esp_mqtt_client_init(&mq);
  esp_mqtt_client_register_event(client, ESP_EVENT_ANY_ID, on_mqtt, NULL);
  esp_mqtt_client_start(client);
  for (;;) {
    /* The library's timers (status flush, heartbeat, page requests, timeout) and its catching up after a gap fills,
     * a few chunks per call: the lock is held for one bounded call at a time, so esp-mqtt's task never waits long. */
    xSemaphoreTake(lock, portMAX_DELAY);
    mqimg_rx_poll(rx);
    bool more = mqimg_rx_work_left(rx) != 0, draw_now = show;
    xSemaphoreGive(lock);
    if (draw_now) {
      draw();
      xSemaphoreTake(lock, portMAX_DELAY);
      show = false;
      xSemaphoreGive(lock);
    }
    if (more) taskYIELD(); /* more catching up: again at once, after the MQTT task had its turn */
    else vTaskDelay(pdMS_TO_TICKS(10) > 0 ? pdMS_TO_TICKS(10) : 1);
  }
}
