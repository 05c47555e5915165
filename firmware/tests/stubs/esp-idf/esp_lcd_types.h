#ifndef STUB_ESP_LCD_TYPES_H
#define STUB_ESP_LCD_TYPES_H
typedef struct esp_lcd_panel_io_t *esp_lcd_panel_io_handle_t;
typedef struct esp_lcd_panel_t *esp_lcd_panel_handle_t;
typedef enum { LCD_RGB_ELEMENT_ORDER_RGB, LCD_RGB_ELEMENT_ORDER_BGR } lcd_rgb_element_order_t;
typedef enum { LCD_RGB_DATA_ENDIAN_BIG, LCD_RGB_DATA_ENDIAN_LITTLE } lcd_rgb_data_endian_t;
#endif
