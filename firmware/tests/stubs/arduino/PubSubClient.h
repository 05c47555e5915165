#ifndef STUB_PUBSUBCLIENT_H
#define STUB_PUBSUBCLIENT_H
#include "Arduino.h"
#include "WiFi.h"
/* PubSubClient 2.8 takes a std::function on ESP32; a plain function converts to it, so the sketch is the same. */
#define MQTT_CALLBACK_SIGNATURE void (*callback)(char *, uint8_t *, unsigned int)
class PubSubClient {
 public:
  PubSubClient(Client &client);
  PubSubClient &setServer(const char *domain, uint16_t port);
  PubSubClient &setCallback(MQTT_CALLBACK_SIGNATURE);
  boolean setBufferSize(uint16_t size);
  boolean connect(const char *id);
  boolean connected();
  boolean publish(const char *topic, const uint8_t *payload, unsigned int plength, boolean retained);
  boolean subscribe(const char *topic, uint8_t qos);
  boolean loop();
};
#endif
