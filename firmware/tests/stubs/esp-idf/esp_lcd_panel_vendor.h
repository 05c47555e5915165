#ifndef STUB_ESP_LCD_PANEL_VENDOR_H
#define STUB_ESP_LCD_PANEL_VENDOR_H
#include "esp_lcd_types.h"
typedef struct {
  int reset_gpio_num;
  union {
    lcd_rgb_element_order_t color_space;
    lcd_rgb_element_order_t rgb_endian;
    lcd_rgb_element_order_t rgb_ele_order;
  };
  lcd_rgb_data_endian_t data_endian;
  unsigned int bits_per_pixel;
  struct {
    unsigned int reset_active_high : 1;
  } flags;
  void *vendor_config;
} esp_lcd_panel_dev_config_t;
#endif
