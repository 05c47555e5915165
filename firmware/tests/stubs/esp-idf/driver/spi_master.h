#ifndef STUB_DRIVER_SPI_MASTER_H
#define STUB_DRIVER_SPI_MASTER_H
#include <stdint.h>
#include "esp_err.h"
#include "sdkconfig.h"
typedef enum {
  SPI1_HOST = 0,
  SPI2_HOST = 1,
#if CONFIG_IDF_TARGET_ESP32 || CONFIG_IDF_TARGET_ESP32S3
  SPI3_HOST = 2, /* not on the C3 and C6 */
#endif
} spi_host_device_t;
typedef enum { SPI_DMA_DISABLED = 0, SPI_DMA_CH1 = 1, SPI_DMA_CH2 = 2, SPI_DMA_CH_AUTO = 3 } spi_common_dma_t;
typedef spi_common_dma_t spi_dma_chan_t;
typedef struct {
  union {
    int mosi_io_num;
    int data0_io_num;
  };
  union {
    int miso_io_num;
    int data1_io_num;
  };
  int sclk_io_num;
  union {
    int quadwp_io_num;
    int data2_io_num;
  };
  union {
    int quadhd_io_num;
    int data3_io_num;
  };
  int data4_io_num, data5_io_num, data6_io_num, data7_io_num;
  int max_transfer_sz;
  uint32_t flags;
  int isr_cpu_id;
  int intr_flags;
} spi_bus_config_t;
esp_err_t spi_bus_initialize(spi_host_device_t host_id, const spi_bus_config_t *bus_config, spi_dma_chan_t dma_chan);
#endif
