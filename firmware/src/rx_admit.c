/* Manifests (5, 8.2): known transfers answered, new ones checked, admitted or refused, and set up. */
#include <string.h>
#include "rx_internal.h"

static uint32_t default_win(uint32_t chunk_bytes) {
  uint32_t w = (16u * 1024 * 1024) / chunk_bytes;
  if (w > 768) w = 768;
  return w < 4 ? 4 : w;
}

/* Refuses the manifest `m` on T/mqimg/m.id with a failed status (no transfer set up). */
static void refuse(mqimg_rx *rx, const char *topic, size_t t_len, const rx_manifest *m, mqimg_rx_code code) {
  rx_publish_final(rx, topic, t_len, m->id, code, m->chunks, NULL, NULL); /* before set-up: in clear, as mqimg */
  if (rx_is_final(code)) rx_remember_finished(rx, m->id, code, m->chunks, NULL, NULL, rx_now(rx));
}

mqimg_rx_code rx_on_manifest(mqimg_rx *rx, const char *topic, size_t t_len, const char *topic_id,
                             const uint8_t *payload, size_t len) {
  rx_manifest m;
  /* A transfer this receiver knows is answered without parsing again (7.2: the sender repeats manifests). */
  if (topic_id) {
    if (rx->active && memcmp(rx->m.id, topic_id, 16) == 0) {
      rx_publish_receiving(rx, rx_now(rx));
      return MQIMG_RX_OK;
    }
    rx_finished *f = rx_find_finished(rx, topic_id);
    if (f) {
      rx_repeat_final(rx, topic, t_len, f);
      return MQIMG_RX_OK;
    }
  }
  mqimg_rx_code code = rx_manifest_parse(payload, len, &m, NULL, 0, NULL);
  if (code == MQIMG_RX_OK && topic_id && memcmp(m.id, topic_id, 16) != 0) code = MQIMG_RX_INVALID_MANIFEST;
  if (code == MQIMG_RX_ENCRYPTED) {
    /* The sealed manifest's readable id is the topic's (checked when it is opened; here only answered). */
    if (!topic_id) return code;
    memcpy(m.id, topic_id, 17);
    refuse(rx, topic, t_len, &m, code);
    return code;
  }
  if (code != MQIMG_RX_OK) return code;
  if (!topic_id) { /* T/mqimg/retained: the id is the manifest's */
    if (rx->active && memcmp(rx->m.id, m.id, 16) == 0) {
      rx_publish_receiving(rx, rx_now(rx));
      return MQIMG_RX_OK;
    }
    rx_finished *f = rx_find_finished(rx, m.id);
    if (f) {
      rx_repeat_final(rx, topic, t_len, f);
      return MQIMG_RX_OK;
    }
  }
  if (t_len > MQIMG_RX_MAX_TOPIC) return MQIMG_RX_TOO_LARGE; /* cannot answer: no status topic fits */
#ifdef MQIMG_RX_WITH_SODIUM
  mqimg_rx_code sig = rx_sig_check(rx, topic, t_len, payload, len, &m);
  if (sig != MQIMG_RX_OK) { /* not final: a forged manifest must not stop the genuine transfer (12) */
    refuse(rx, topic, t_len, &m, sig);
    return sig;
  }
#endif
  if (m.size > rx->cfg.max_size || m.chunks > rx->max_chunks || m.page_count > rx->max_pages) {
    refuse(rx, topic, t_len, &m, MQIMG_RX_TOO_LARGE);
    return MQIMG_RX_TOO_LARGE;
  }
  if (m.pixel_format != MQIMG_RX_PX_NONE && m.stride != mqimg_rx_stride(m.pixel_format, m.width)) {
    refuse(rx, topic, t_len, &m, MQIMG_RX_NOT_AN_IMAGE);
    return MQIMG_RX_NOT_AN_IMAGE;
  }
  uint32_t now = rx_now(rx);
  if (rx->active) {
    size_t cur_len = strlen(rx->topic);
    if (m.supersede && cur_len == t_len && memcmp(rx->topic, topic, t_len) == 0 &&
        m.created_ms > rx->m.created_ms) {
      rx_fail(rx, MQIMG_RX_SUPERSEDED);
    } else if (now - rx->last_chunk_ms >= RX_IDLE_GIVE_UP_MS) {
      rx_fail(rx, MQIMG_RX_TIMEOUT);
    } else {
      refuse(rx, topic, t_len, &m, MQIMG_RX_TOO_MANY_TRANSFERS);
      return MQIMG_RX_TOO_MANY_TRANSFERS;
    }
  }
#ifdef MQIMG_RX_WITH_IDENTITY
  /* A named receiver and a manifest that names an ephemeral key: every status of this transfer is sealed under the
   * status key both ends derive (one X25519). An epk that is no usable key: dropped (the sender hears nothing).
   * Computed once admitted, so that the repeats of a manifest refused for now cost no X25519. */
  uint8_t named_key[32];
  int named_key_ok = 0;
  if (rx->cfg.identity_seed && m.epk[0]) {
    if (rx_identity_status_key(rx, &m, named_key) != 0) return MQIMG_RX_INVALID_MANIFEST;
    named_key_ok = 1;
  }
#endif
  /* Set up (nothing of an earlier transfer is needed any more). */
  (void)rx_manifest_parse(payload, len, &rx->m, rx->listed, 16 * (size_t)rx->max_pages, NULL);
  memcpy(rx->topic, topic, t_len);
  rx->topic[t_len] = 0;
  rx->per_page = rx->m.chunk_bytes / 16;
  mqimg_rx_info *info = &rx->info;
  info->topic = rx->topic;
  info->id = rx->m.id;
  info->type = rx->m.type;
  info->name = rx->m.name;
  info->size = rx->m.size;
  info->chunk_bytes = rx->m.chunk_bytes;
  info->chunks = rx->m.chunks;
  info->width = rx->m.width;
  info->height = rx->m.height;
  info->pixel_format = rx->m.pixel_format;
  info->stride = rx->m.stride;
  info->created_ms = rx->m.created_ms;
  if (rx->cfg.begin) {
    int refused = rx->cfg.begin(rx->cfg.user, info);
    if (refused != 0) {
      mqimg_rx_code why = (refused > 0 && refused < MQIMG_RX_NOT_JSON) ? (mqimg_rx_code)refused : MQIMG_RX_NOT_AN_IMAGE;
      refuse(rx, topic, t_len, &rx->m, why);
      return why;
    }
  }
  memset(rx->held, 0, rx_bitmap_bytes(rx->m.chunks));
  memset(rx->pending, 0, rx_bitmap_bytes(rx->m.chunks));
  memset(rx->page_held, 0, rx_bitmap_bytes(rx->m.page_count));
  memset(rx->page_asked, 0, 4 * (size_t)rx->m.page_count);
  rx->win = rx->cfg.win ? rx->cfg.win : default_win(rx->m.chunk_bytes);
  if (rx->win > 65535) rx->win = 65535;
  rx->ack_every = rx->win / 8 < 1 ? 1 : rx->win / 8 > 16 ? 16 : rx->win / 8;
  rx->next = rx->held_count = rx->pending_count = rx->pages_held = 0;
  rx->high = -1;
  rx->check_from = rx->m.chunks;
  rx->started_ms = rx->last_chunk_ms = now;
  rx->unreported = 0;
  rx_repairs_reset(rx);
  memset(rx->acc, 0, sizeof rx->acc);
#ifdef MQIMG_RX_WITH_IDENTITY
  rx->sealing = 0;
  if (named_key_ok) {
    memcpy(rx->status_key, named_key, 32);
    rx->sealing = 1;
  }
#endif
  rx->active = 1;
  rx_publish_receiving(rx, now); /* the join: starts the chunks beyond the blind start */
  return MQIMG_RX_OK;
}
