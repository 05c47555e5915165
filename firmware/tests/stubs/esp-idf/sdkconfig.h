/* Stand-in for the sdkconfig.h an ESP-IDF build generates: the target comes from -DSTUB_TARGET_xxx
 * (firmware/scripts/examples-test.sh builds the example once per target). */
#ifndef STUB_SDKCONFIG_H
#define STUB_SDKCONFIG_H
#if defined(STUB_TARGET_ESP32C3)
#define CONFIG_IDF_TARGET_ESP32C3 1
#elif defined(STUB_TARGET_ESP32C6)
#define CONFIG_IDF_TARGET_ESP32C6 1
#elif defined(STUB_TARGET_ESP32S3)
#define CONFIG_IDF_TARGET_ESP32S3 1
#define CONFIG_SPIRAM 1
#elif defined(STUB_TARGET_ESP32)
#define CONFIG_IDF_TARGET_ESP32 1
#define CONFIG_SPIRAM 1
#else
#error "define STUB_TARGET_ESP32, STUB_TARGET_ESP32S3, STUB_TARGET_ESP32C3 or STUB_TARGET_ESP32C6"
#endif
#define CONFIG_FREERTOS_HZ 100
#endif
