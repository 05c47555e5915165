#ifndef STUB_TFT_ESPI_H
#define STUB_TFT_ESPI_H
#include "Arduino.h"
#define TFT_BLACK 0x0000
class TFT_eSPI {
 public:
  TFT_eSPI(int16_t w = 240, int16_t h = 320);
  void init(uint8_t tc = 0);
  void setRotation(uint8_t r);
  void setSwapBytes(bool swap);
  void fillScreen(uint32_t color);
  void pushImage(int32_t x, int32_t y, int32_t w, int32_t h, uint16_t *data);
};
#endif
