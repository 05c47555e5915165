/* Chunks and hash pages that arrive in pieces: esp-mqtt and AsyncMqttClient hand over a message larger than their
 * buffer piece by piece (PROTOCOL.md 14). Each piece goes to its place at once (a chunk's to storage, a page's to
 * the page area of the state) and into a SHA-256 of its own; the message is checked against its hash when the last
 * piece is in, and only then held. No buffer of a chunk's size is needed. */
#include <string.h>
#include "rx_internal.h"

void rx_piece_abandon(mqimg_rx *rx) {
  if (rx->piece_active) rx_sha256_abandon(&rx->piece_hash);
  rx->piece_active = 0;
}

/* The checks a first piece allows (6.3): MQIMG_RX_OK to go on, a code to drop, or -1 for a copy already held. */
static int first_piece(mqimg_rx *rx, int page, uint32_t index, size_t total) {
  if (page) {
    if (index >= rx->m.page_count || total != rx_page_length(rx, index)) return MQIMG_RX_PAGE_HASH_MISMATCH;
    return rx_bit(rx->page_held, index) ? -1 : MQIMG_RX_OK;
  }
  if (index >= rx->m.chunks) return MQIMG_RX_INDEX_OUT_OF_RANGE;
  if (total != rx_chunk_length(&rx->m, index)) return MQIMG_RX_WRONG_LENGTH;
  if (rx_bit(rx->held, index) || rx_bit(rx->pending, index)) {
    rx->stats.chunks_duplicate++;
    return -1;
  }
  return MQIMG_RX_OK;
}

mqimg_rx_code rx_on_piece(mqimg_rx *rx, int page, uint32_t index, const uint8_t *data, size_t len, size_t offset,
                          size_t total) {
  uint8_t digest[32];
  if (offset == 0) {
    rx_piece_abandon(rx);
    int first = first_piece(rx, page, index, total);
    if (first < 0) return MQIMG_RX_OK; /* its other pieces are ignored: no piece is in progress */
    if (first != MQIMG_RX_OK) return (mqimg_rx_code)first;
    rx->piece_active = 1;
    rx->piece_page = page;
    rx->piece_index = index;
    rx->piece_total = (uint32_t)total;
    rx->piece_received = 0;
    rx_sha256_start(&rx->piece_hash);
  }
  if (!rx->piece_active || page != rx->piece_page || index != rx->piece_index || offset != rx->piece_received ||
      total != rx->piece_total || len > total - offset) {
    rx_piece_abandon(rx); /* a piece out of sequence: this copy is lost, the next one is taken */
    return page ? MQIMG_RX_PAGE_HASH_MISMATCH : MQIMG_RX_WRONG_LENGTH;
  }
  if (page) {
    memcpy(rx->hashes + 16 * (size_t)index * rx->per_page + offset, data, len); /* used only once held */
  } else if (rx->cfg.write(rx->cfg.user, index * rx->m.chunk_bytes + (uint32_t)offset, data, len) != 0) {
    rx_piece_abandon(rx);
    rx_fail(rx, MQIMG_RX_WRITE_FAILED);
    return MQIMG_RX_WRITE_FAILED;
  }
  rx_sha256_update(&rx->piece_hash, data, len);
  rx->piece_received += (uint32_t)len;
  if (rx->piece_received < rx->piece_total) return MQIMG_RX_OK;
  rx->piece_active = 0;
  rx_sha256_finish(&rx->piece_hash, digest);
  if (page) {
    if (memcmp(digest, rx->listed + 16 * (size_t)index, 16) != 0) return MQIMG_RX_PAGE_HASH_MISMATCH;
    rx_page_held(rx, index);
    return MQIMG_RX_OK;
  }
  uint32_t now = rx_now(rx);
  if (!rx_bit(rx->page_held, index / rx->per_page)) {
    rx_set_aside(rx, index, now); /* checked (read back) when its page comes */
    return MQIMG_RX_OK;
  }
  if (memcmp(digest, rx->hashes + 16 * (size_t)index, 16) != 0) return MQIMG_RX_CHUNK_HASH_MISMATCH;
  rx_commit(rx, index, digest, now);
  return MQIMG_RX_OK;
}
