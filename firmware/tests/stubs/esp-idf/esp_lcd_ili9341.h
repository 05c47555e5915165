#ifndef STUB_ESP_LCD_ILI9341_H
#define STUB_ESP_LCD_ILI9341_H
#include "esp_err.h"
#include "esp_lcd_panel_vendor.h"
#include "esp_lcd_types.h"
esp_err_t esp_lcd_new_panel_ili9341(const esp_lcd_panel_io_handle_t io, const esp_lcd_panel_dev_config_t *panel_dev_config,
                                    esp_lcd_panel_handle_t *ret_panel);
#endif
