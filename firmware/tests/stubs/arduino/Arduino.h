#ifndef STUB_ARDUINO_H
#define STUB_ARDUINO_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
typedef uint8_t byte;
typedef bool boolean;
unsigned long millis(void);
void delay(uint32_t ms);
void *ps_malloc(size_t size);
bool psramFound(void);
class HardwareSerial {
 public:
  void begin(unsigned long baud);
  size_t printf(const char *format, ...) __attribute__((format(printf, 2, 3)));
  size_t println(const char *s);
};
extern HardwareSerial Serial;
#endif
