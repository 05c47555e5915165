#ifndef STUB_ESP_LOG_H
#define STUB_ESP_LOG_H
#include <inttypes.h>
#include <stdint.h>
typedef enum { ESP_LOG_NONE, ESP_LOG_ERROR, ESP_LOG_WARN, ESP_LOG_INFO, ESP_LOG_DEBUG, ESP_LOG_VERBOSE } esp_log_level_t;
uint32_t esp_log_timestamp(void);
void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...) __attribute__((format(printf, 3, 4)));
/* As ESP-IDF's: the format is checked against the arguments (printf's rules). */
#define ESP_LOG_LEVEL_(level, letter, tag, format, ...)                                                          \
  esp_log_write(level, tag, letter " (%" PRIu32 ") %s: " format "\n", esp_log_timestamp(), tag, ##__VA_ARGS__)
#define ESP_LOGE(tag, format, ...) ESP_LOG_LEVEL_(ESP_LOG_ERROR, "E", tag, format, ##__VA_ARGS__)
#define ESP_LOGW(tag, format, ...) ESP_LOG_LEVEL_(ESP_LOG_WARN, "W", tag, format, ##__VA_ARGS__)
#define ESP_LOGI(tag, format, ...) ESP_LOG_LEVEL_(ESP_LOG_INFO, "I", tag, format, ##__VA_ARGS__)
#endif
