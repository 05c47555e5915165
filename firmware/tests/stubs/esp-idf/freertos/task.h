#ifndef STUB_FREERTOS_TASK_H
#define STUB_FREERTOS_TASK_H
#include "freertos/FreeRTOS.h"
void vTaskDelay(const TickType_t xTicksToDelay);
void vPortYield(void);
#define taskYIELD() vPortYield()
#endif
