/* Transfers that ended (their final status is repeated, 7.2 item 7) and unknown ids (want-manifest, item 6). */
#include <string.h>
#include "rx_internal.h"

rx_finished *rx_find_finished(mqimg_rx *rx, const char *id) {
  for (unsigned i = 0; i < MQIMG_RX_MAX_FINISHED; i++)
    if (rx->finished[i].used && memcmp(rx->finished[i].id, id, 16) == 0) return &rx->finished[i];
  return NULL;
}

void rx_remember_finished(mqimg_rx *rx, const char *id, mqimg_rx_code code, uint32_t chunks,
                              const uint8_t *proof, const uint8_t *key, uint32_t now) {
  rx_finished *f = &rx->finished[rx->finished_next];
  rx->finished_next = (rx->finished_next + 1) % MQIMG_RX_MAX_FINISHED;
  memset(f, 0, sizeof *f);
  memcpy(f->id, id, 17);
  f->used = 1;
  f->code = (uint8_t)code;
  f->chunks = chunks;
  f->last_repeat_ms = now;
  if (proof) memcpy(f->proof, proof, 32);
#ifdef MQIMG_RX_WITH_IDENTITY
  f->sealed = key != NULL;
  if (key) memcpy(f->key, key, 32);
#else
  (void)key;
#endif
}

void rx_repeat_final(mqimg_rx *rx, const char *topic, size_t t_len, rx_finished *f) {
#ifdef MQIMG_RX_WITH_IDENTITY
  const uint8_t *key = f->sealed ? f->key : NULL;
#else
  const uint8_t *key = NULL;
#endif
  rx_publish_final(rx, topic, t_len, f->id, (mqimg_rx_code)f->code, f->chunks, f->proof, key);
}

/* want-manifest for a page or chunk of an id whose manifest is unknown: at most once a second per id. */
void rx_want_manifest(mqimg_rx *rx, const char *topic, size_t t_len, const char *id, uint32_t now) {
  for (unsigned i = 0; i < MQIMG_RX_MAX_UNKNOWN; i++) {
    rx_unknown *u = &rx->unknown[i];
    if (u->used && memcmp(u->id, id, 16) == 0) {
      if (now - u->at_ms < RX_WANT_MANIFEST_MS) return;
      u->at_ms = now;
      rx_publish_want_manifest(rx, topic, t_len, id);
      return;
    }
  }
  rx_unknown *u = &rx->unknown[rx->unknown_next];
  rx->unknown_next = (rx->unknown_next + 1) % MQIMG_RX_MAX_UNKNOWN;
  memcpy(u->id, id, 17);
  u->used = 1;
  u->at_ms = now;
  rx_publish_want_manifest(rx, topic, t_len, id);
}
