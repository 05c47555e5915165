/* The transfer in progress: hash pages and chunks checked on arrival (6.3), storage, the proof of receipt from
 * the chunk hashes (7.1, protocol 3), the status rules of 7.2, completion and failure. */
#include <string.h>
#include "rx_internal.h"

/* Ends the transfer in progress with `code` (not MQIMG_RX_OK): status, callback, memory of final failures. */
void rx_fail(mqimg_rx *rx, mqimg_rx_code code) {
  uint32_t now = rx_now(rx);
  rx->active = 0;
  rx_piece_abandon(rx);
  rx->stats.failed++;
  const uint8_t *key = rx_active_key(rx);
  rx_publish_final(rx, rx->topic, strlen(rx->topic), rx->m.id, code, rx->m.chunks, NULL, key);
  if (rx_is_final(code)) rx_remember_finished(rx, rx->m.id, code, rx->m.chunks, NULL, key, now);
  if (rx->cfg.failed) rx->cfg.failed(rx->cfg.user, &rx->info, code);
}

void rx_chunk_tag(rx_sha256 *scratch, const uint8_t nonce[16], uint32_t n, const uint8_t digest[32],
                  uint8_t out[32]) {
  uint8_t input[52]; /* one SHA-256 block */
  memcpy(input, nonce, 16);
  input[16] = (uint8_t)(n >> 24);
  input[17] = (uint8_t)(n >> 16);
  input[18] = (uint8_t)(n >> 8);
  input[19] = (uint8_t)n;
  memcpy(input + 20, digest, 32);
  rx_sha256_once(scratch, input, sizeof input, out);
}

void rx_proof(mqimg_rx *rx, uint8_t out[32]) {
  static const char LABEL[] = "mqimg-proof-v3";
  rx_sha256 inner;
  rx_hmac_start(&inner, rx->m.nonce, 16);
  rx_sha256_update(&inner, (const uint8_t *)LABEL, sizeof LABEL - 1);
  rx_sha256_update(&inner, rx->acc, 32);
  rx_sha256_update(&inner, (const uint8_t *)rx->cfg.rx_id, rx->rx_len);
  rx_hmac_finish(&inner, &rx->scratch, rx->m.nonce, 16, out);
}

/* Every chunk is held, each checked against its hash page, which the manifest lists: the file is the sender's. The
 * file's SHA-256 is not computed again (protocol 3 allows skipping it when every chunk was checked against its
 * page; it would be one more pass over the file, read back in order). */
static void finish(mqimg_rx *rx) {
  uint8_t proof[32];
  rx_proof(rx, proof);
  if (rx->cfg.complete && rx->cfg.complete(rx->cfg.user, &rx->info) != 0) {
    rx_fail(rx, MQIMG_RX_WRITE_FAILED);
    return;
  }
  rx->active = 0;
  rx->stats.completed++;
  const uint8_t *key = rx_active_key(rx);
  rx_remember_finished(rx, rx->m.id, MQIMG_RX_OK, rx->m.chunks, proof, key, rx_now(rx));
  rx_publish_final(rx, rx->topic, strlen(rx->topic), rx->m.id, MQIMG_RX_OK, rx->m.chunks, proof, key);
}

uint32_t rx_chunk_length(const rx_manifest *m, uint32_t n) {
  return n == m->chunks - 1 ? m->size - n * m->chunk_bytes : m->chunk_bytes;
}

/* Chunk `n`, checked and written, is held now: bookkeeping, its tag folded into the proof, and the status rules of
 * 7.2. The completion is left to rx_work. */
void rx_commit(mqimg_rx *rx, uint32_t n, const uint8_t digest[32], uint32_t now) {
  uint8_t tag[32];
  rx_chunk_tag(&rx->scratch, rx->m.nonce, n, digest, tag);
  for (int i = 0; i < 32; i++) rx->acc[i] ^= tag[i];
  rx_set_bit(rx->held, n);
  rx->held_count++;
  rx->stats.chunks_stored++;
  rx->last_chunk_ms = now;
  if ((int32_t)n > rx->high) rx->high = (int32_t)n;
  while (rx->next < rx->m.chunks && rx_bit(rx->held, rx->next)) rx->next++;
  int repaired = rx_repairs_arrived(rx, n, now);
  if (rx->held_count == rx->m.chunks) return; /* the completion comes in rx_work, in this same call */
  int gap = n > rx->next && !rx_bit(rx->held, n - 1);
  if (rx->unreported++ == 0) rx->first_unreported_ms = now;
  if (gap || repaired || rx->unreported >= rx->ack_every) rx_publish_receiving(rx, now);
}

void rx_work_begin(mqimg_rx *rx) {
  rx->budget = rx->active ? (uint32_t)MQIMG_RX_WORK_PER_CALL * rx->m.chunk_bytes : 0;
  rx->worked = 0;
}

/* May an item costing `cost` bytes of SHA-256 input be done in this call? The first always may (progress). */
static int afford(mqimg_rx *rx, uint32_t cost) {
  if (rx->worked && cost > rx->budget) return 0;
  rx->budget = cost > rx->budget ? 0 : rx->budget - cost;
  rx->worked = 1;
  return 1;
}

/* The next chunk set aside before its page whose page is held now, from check_from on; m.chunks when none. */
static uint32_t next_check(mqimg_rx *rx) {
  uint32_t n = rx->check_from;
  while (n < rx->m.chunks) {
    if ((n & 7) == 0 && rx->pending[n >> 3] == 0) {
      n += 8;
      continue;
    }
    if (rx_bit(rx->pending, n) && rx_bit(rx->page_held, n / rx->per_page)) break;
    n++;
  }
  rx->check_from = n < rx->m.chunks ? n : rx->m.chunks;
  return rx->check_from;
}

static int stored_chunk_matches(mqimg_rx *rx, uint32_t n, uint8_t digest[32], int *read_failed);

int rx_work_waiting(const mqimg_rx *rx) {
  if (!rx->active) return 0;
  if (rx->held_count == rx->m.chunks) return 1; /* the completion */
  if (rx->pending_count == 0) return 0;
  for (uint32_t n = rx->check_from; n < rx->m.chunks; n++) {
    if ((n & 7) == 0 && rx->pending[n >> 3] == 0) {
      n += 7;
      continue;
    }
    if (rx_bit(rx->pending, n) && rx_bit(rx->page_held, n / rx->per_page)) return 1;
  }
  return 0;
}

void rx_work(mqimg_rx *rx) {
  while (rx->active) {
    /* Chunks written before their page came, checked now that it has (read back from storage). */
    if (rx->pending_count > 0 && next_check(rx) < rx->m.chunks) {
      uint32_t n = rx->check_from;
      if (!afford(rx, rx_chunk_length(&rx->m, n))) return;
      rx_clear_bit(rx->pending, n);
      rx->pending_count--;
      int read_failed = 0;
      uint8_t digest[32];
      if (stored_chunk_matches(rx, n, digest, &read_failed)) {
        rx_commit(rx, n, digest, rx_now(rx));
      } else if (read_failed) {
        rx_fail(rx, MQIMG_RX_WRITE_FAILED);
      } else {
        rx->stats.chunks_rejected++;
        rx_reject(rx, MQIMG_RX_CHUNK_HASH_MISMATCH, (long)n);
      }
      continue;
    }
    if (rx->held_count == rx->m.chunks) finish(rx);
    return;
  }
}

/* SHA-256 of chunk `n` read back from storage (into `digest`), first 16 bytes compared with its hash. 1 when it
 * matches. */
static int stored_chunk_matches(mqimg_rx *rx, uint32_t n, uint8_t digest[32], int *read_failed) {
  uint8_t piece[MQIMG_RX_READ_PIECE];
  uint32_t offset = n * rx->m.chunk_bytes, len = rx_chunk_length(&rx->m, n);
  rx_sha256_start(&rx->scratch);
  for (uint32_t done = 0; done < len;) {
    uint32_t step = len - done < sizeof piece ? len - done : (uint32_t)sizeof piece;
    if (rx->cfg.read(rx->cfg.user, offset + done, piece, step) != 0) {
      *read_failed = 1;
      rx_sha256_finish(&rx->scratch, digest);
      return 0;
    }
    rx_sha256_update(&rx->scratch, piece, step);
    done += step;
  }
  rx_sha256_finish(&rx->scratch, digest);
  return memcmp(digest, rx->hashes + 16 * (size_t)n, 16) == 0;
}

uint32_t rx_page_length(const mqimg_rx *rx, uint32_t j) {
  uint32_t first = j * rx->per_page;
  return 16 * (rx->m.chunks - first < rx->per_page ? rx->m.chunks - first : rx->per_page);
}

void rx_page_held(mqimg_rx *rx, uint32_t j) {
  rx_set_bit(rx->page_held, j);
  rx->pages_held++;
  /* Chunks written before this page came are checked by rx_work (read back from storage), a few per call. */
  if (j * rx->per_page < rx->check_from) rx->check_from = j * rx->per_page;
}

mqimg_rx_code rx_on_page(mqimg_rx *rx, uint32_t j, const uint8_t *payload, size_t len) {
  uint8_t digest[32];
  if (j >= rx->m.page_count) return MQIMG_RX_PAGE_HASH_MISMATCH;
  if (rx_bit(rx->page_held, j)) return MQIMG_RX_OK;
  if (len != rx_page_length(rx, j)) return MQIMG_RX_PAGE_HASH_MISMATCH;
  rx_sha256_once(&rx->scratch, payload, len, digest);
  if (memcmp(digest, rx->listed + 16 * (size_t)j, 16) != 0) return MQIMG_RX_PAGE_HASH_MISMATCH;
  memcpy(rx->hashes + 16 * (size_t)j * rx->per_page, payload, len);
  rx_page_held(rx, j);
  return MQIMG_RX_OK;
}

void rx_set_aside(mqimg_rx *rx, uint32_t n, uint32_t now) {
  rx_set_bit(rx->pending, n);
  rx->pending_count++;
  rx->stats.chunks_pending++;
  if (rx->unreported++ == 0) rx->first_unreported_ms = now; /* the page is asked for in the next status */
}

mqimg_rx_code rx_on_chunk(mqimg_rx *rx, uint32_t n, const uint8_t *payload, size_t len) {
  uint8_t digest[32];
  if (n >= rx->m.chunks) return MQIMG_RX_INDEX_OUT_OF_RANGE;
  if (len != rx_chunk_length(&rx->m, n)) return MQIMG_RX_WRONG_LENGTH;
  if (rx_bit(rx->held, n) || rx_bit(rx->pending, n)) {
    rx->stats.chunks_duplicate++;
    return MQIMG_RX_OK;
  }
  uint32_t now = rx_now(rx);
  uint32_t offset = n * rx->m.chunk_bytes;
  uint32_t j = n / rx->per_page;
  if (!rx_bit(rx->page_held, j)) {
    /* Set aside in storage, unchecked (6.3, step 3): checked when the page comes, which is asked for at once. */
    if (rx->cfg.write(rx->cfg.user, offset, payload, len) != 0) {
      rx_fail(rx, MQIMG_RX_WRITE_FAILED);
      return MQIMG_RX_WRITE_FAILED;
    }
    rx_set_aside(rx, n, now);
    return MQIMG_RX_OK;
  }
  rx_sha256_once(&rx->scratch, payload, len, digest);
  if (memcmp(digest, rx->hashes + 16 * (size_t)n, 16) != 0) return MQIMG_RX_CHUNK_HASH_MISMATCH;
  if (rx->cfg.write(rx->cfg.user, offset, payload, len) != 0) {
    rx_fail(rx, MQIMG_RX_WRITE_FAILED);
    return MQIMG_RX_WRITE_FAILED;
  }
  rx_commit(rx, n, digest, now);
  return MQIMG_RX_OK;
}
