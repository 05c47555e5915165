#ifndef STUB_WIFI_H
#define STUB_WIFI_H
#include "Arduino.h"
typedef enum { WL_IDLE_STATUS = 0, WL_NO_SSID_AVAIL = 1, WL_CONNECTED = 3, WL_DISCONNECTED = 6 } wl_status_t;
class Client {
 public:
  virtual ~Client() {}
};
class WiFiClient : public Client {};
class WiFiClass {
 public:
  wl_status_t begin(const char *ssid, const char *passphrase);
  wl_status_t status();
  uint8_t *macAddress(uint8_t *mac);
};
extern WiFiClass WiFi;
#endif
