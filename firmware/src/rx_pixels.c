/* Raw pixel formats (PROTOCOL.md 5.1) and the names of codes (section 10). */
#include "mqimg_rx.h"

uint32_t mqimg_rx_stride(mqimg_rx_pixel_format format, uint32_t width) {
  switch (format) {
  case MQIMG_RX_PX_RGB565LE:
  case MQIMG_RX_PX_RGB565BE: return 2 * width;
  case MQIMG_RX_PX_RGB888: return 3 * width;
  case MQIMG_RX_PX_GRAY8: return width;
  case MQIMG_RX_PX_GRAY4: return (width + 1) / 2;
  case MQIMG_RX_PX_MONO1: return (width + 7) / 8;
  default: return 0;
  }
}

int mqimg_rx_rows(const mqimg_rx_info *info, uint32_t offset, uint32_t len, uint32_t *first_row, uint32_t *rows) {
  if (info->pixel_format == MQIMG_RX_PX_NONE || info->stride == 0 || len == 0) return -1;
  uint32_t first = offset / info->stride;
  uint32_t last = (offset + len - 1) / info->stride;
  if (last >= info->height) last = info->height - 1;
  *first_row = first;
  *rows = last >= first ? last - first + 1 : 0;
  return 0;
}

const char *mqimg_rx_code_name(mqimg_rx_code code) {
  static const char *const names[MQIMG_RX_CODE_COUNT] = {
      "ok", "too_large", "too_many_transfers", "timeout", "superseded", "write_failed", "checksum_mismatch",
      "not_an_image", "unsigned", "untrusted_key", "bad_signature", "expired_signature", "future_signature",
      "encrypted", "not_json", "unsupported_version", "invalid_manifest", "index_out_of_range", "wrong_length",
      "chunk_hash_mismatch", "page_hash_mismatch"};
  return (unsigned)code < MQIMG_RX_CODE_COUNT ? names[code] : "unknown";
}
