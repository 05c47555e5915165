/* The receiver's entry points: state layout, message routing, timers. */
#include <string.h>
#include "rx_internal.h"

#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((size_t)(a) - 1))

/* MQIMG_RX_STATE_SIZE must never be below mqimg_rx_state_size (C99: a negative array size fails the build). */
typedef char rx_fixed_part_fits[(sizeof(struct mqimg_rx) + 8 + 8 + 1 <= MQIMG_RX_FIXED_BYTES + 16) ? 1 : -1];

size_t mqimg_rx_state_size(uint32_t max_chunks, uint32_t max_pages) {
  size_t size = ALIGN_UP(sizeof(struct mqimg_rx), 8) + 8; /* + 8: aligning a caller's buffer */
  size += 4 * (size_t)max_pages;                          /* page_asked (aligned: right after the struct) */
  size += 16 * (size_t)max_chunks + 16 * (size_t)max_pages;
  size += 2 * rx_bitmap_bytes(max_chunks) + rx_bitmap_bytes(max_pages);
  return size;
}

static int valid_rx_id(const char *id) {
  size_t n = 0;
  for (; id[n]; n++) {
    char c = id[n];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
          c == '-'))
      return 0;
    if (n >= 64) return 0;
  }
  return n >= 1;
}

/* The reason mqimg_rx_init refused, written into the caller's buffer (no stdio here). */
typedef struct {
  char *p;
  size_t cap, len;
} why_buf;
static void why_s(why_buf *w, const char *s) {
  while (*s && w->len + 1 < w->cap) w->p[w->len++] = *s++;
  w->p[w->len] = 0;
}
static void why_u(why_buf *w, size_t v) {
  char d[24];
  int i = 23;
  d[i] = 0;
  do {
    d[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  why_s(w, d + i);
}
static mqimg_rx *refused(void *buf, size_t len, const char *a, size_t n, const char *b, size_t m, const char *c) {
  if (!buf || len == 0) return NULL;
  why_buf w = {(char *)buf, len, 0};
  w.p[0] = 0;
  why_s(&w, "mqimg_rx_init: ");
  why_s(&w, a);
  if (b) {
    why_u(&w, n);
    why_s(&w, b);
    why_u(&w, m);
    why_s(&w, c);
  }
  return NULL;
}

mqimg_rx *mqimg_rx_init_checked(void *buf, size_t len, uint32_t max_chunks, uint32_t max_pages,
                                const mqimg_rx_config *cfg, uint32_t opts_check) {
  if (opts_check != MQIMG_RX_OPTS_CHECK)
    return refused(buf, len,
                   "the application was compiled with other options than the library (MQIMG_RX_MAX_TOPIC, "
                   "MQIMG_RX_WITH_SODIUM...): set them in mqimg_rx_opts.h for both; the library has MQIMG_RX_MAX_TOPIC ",
                   MQIMG_RX_MAX_TOPIC, ", MQIMG_RX_MAX_RANGES ", MQIMG_RX_MAX_RANGES, "");
  if (!cfg || !cfg->publish || !cfg->write || !cfg->read || !cfg->now_ms || (!cfg->rx_id && !cfg->identity_seed))
    return refused(buf, len, "a required callback (publish, write, read, now_ms) or rx_id is missing", 0, NULL, 0,
                   NULL);
#ifndef MQIMG_RX_WITH_IDENTITY
  if (cfg->identity_seed)
    return refused(buf, len, "identity_seed needs a library built with MQIMG_RX_WITH_IDENTITY", 0, NULL, 0, NULL);
#endif
  if (!cfg->identity_seed && !valid_rx_id(cfg->rx_id))
    return refused(buf, len, "rx_id must be 1-64 of A-Z a-z 0-9 _ . -", 0, NULL, 0, NULL);
  if (max_chunks == 0 || max_pages == 0 || max_pages > 128)
    return refused(buf, len, "max_chunks must be 1 or more and max_pages 1 to 128", 0, NULL, 0, NULL);
  size_t need = mqimg_rx_state_size(max_chunks, max_pages);
  if (!buf || len < need) return refused(buf, len, "a buffer of ", len, " bytes; ", need, " needed");
  uintptr_t at = ALIGN_UP((uintptr_t)buf, 8);
  mqimg_rx *rx = (mqimg_rx *)at;
  memset(rx, 0, sizeof *rx);
  rx->cfg = *cfg;
  if (rx->cfg.timeout_ms == 0) rx->cfg.timeout_ms = 30000;
  if (rx->cfg.max_size == 0) rx->cfg.max_size = 1073741824u;
#ifdef MQIMG_RX_WITH_IDENTITY
  if (cfg->identity_seed) { /* a named receiver: its id is its key's, `k-` and the key id */
    rx_identity_init(rx);
    rx->cfg.rx_id = rx->named_id;
  }
#endif
  rx->rx_len = strlen(rx->cfg.rx_id);
  rx->max_chunks = max_chunks;
  rx->max_pages = max_pages;
  uint8_t *p = (uint8_t *)at + ALIGN_UP(sizeof *rx, 8);
  rx->page_asked = (uint32_t *)p;
  p += 4 * (size_t)max_pages;
  rx->hashes = p;
  p += 16 * (size_t)max_chunks;
  rx->listed = p;
  p += 16 * (size_t)max_pages;
  rx->held = p;
  p += rx_bitmap_bytes(max_chunks);
  rx->pending = p;
  p += rx_bitmap_bytes(max_chunks);
  rx->page_held = p;
#ifdef MQIMG_RX_WITH_SODIUM
  rx_sig_init(rx);
#endif
  return rx;
}

/* The function behind the name, for callers that bypass the macro (no check of the options). */
mqimg_rx *(mqimg_rx_init)(void *buf, size_t len, uint32_t max_chunks, uint32_t max_pages, const mqimg_rx_config *cfg) {
  return mqimg_rx_init_checked(buf, len, max_chunks, max_pages, cfg, MQIMG_RX_OPTS_CHECK);
}

int mqimg_rx_busy(const mqimg_rx *rx) { return rx->active; }

void mqimg_rx_get_stats(const mqimg_rx *rx, mqimg_rx_stats *out) { *out = rx->stats; }

/* Is this page or chunk topic one of the transfer in progress? */
static int current(const mqimg_rx *rx, const char *topic, const topic_parts *t) {
  return rx->active && memcmp(rx->m.id, t->id, 16) == 0 && strlen(rx->topic) == t->t_len &&
         memcmp(rx->topic, topic, t->t_len) == 0;
}

/* The outcome of a page or chunk (or a piece of one) of the transfer in progress: counted and reported. */
static mqimg_rx_code counted(mqimg_rx *rx, int page, uint32_t index, mqimg_rx_code code) {
  if (!page && (code == MQIMG_RX_INDEX_OUT_OF_RANGE || code == MQIMG_RX_WRONG_LENGTH ||
                code == MQIMG_RX_CHUNK_HASH_MISMATCH))
    rx->stats.chunks_rejected++;
  if (code != MQIMG_RX_OK && code != MQIMG_RX_WRITE_FAILED) rx_reject(rx, code, (long)index);
  return code;
}

mqimg_rx_code mqimg_rx_on_message(mqimg_rx *rx, const char *topic, size_t topic_len, const uint8_t *payload,
                                  size_t len) {
  topic_parts t;
  rx_piece_abandon(rx); /* a whole message: no piece of another is coming any more */
  if (len == 0) return MQIMG_RX_OK; /* a cleared retained message */
  rx_parse_topic(topic, topic_len, &t);
  mqimg_rx_code code = MQIMG_RX_OK;
  switch (t.kind) {
  case TOPIC_OTHER: return MQIMG_RX_OK;
  case TOPIC_MANIFEST: code = rx_on_manifest(rx, topic, t.t_len, t.id, payload, len); break;
  case TOPIC_RETAINED: code = rx_on_manifest(rx, topic, t.t_len, NULL, payload, len); break;
  case TOPIC_PAGE:
  case TOPIC_CHUNK: {
    if (current(rx, topic, &t)) {
      int page = t.kind == TOPIC_PAGE;
      rx_work_begin(rx);
      code = counted(rx, page, t.index,
                     page ? rx_on_page(rx, t.index, payload, len) : rx_on_chunk(rx, t.index, payload, len));
      rx_work(rx); /* a share of any catching up, and the completion */
      return code;
    }
    uint32_t now = rx_now(rx);
    rx_finished *f = rx_find_finished(rx, t.id);
    if (f) {
      if (now - f->last_repeat_ms >= RX_FINAL_REPEAT_MS) {
        f->last_repeat_ms = now;
        rx_repeat_final(rx, topic, t.t_len, f);
      }
      return MQIMG_RX_OK;
    }
    if (t.t_len <= MQIMG_RX_MAX_TOPIC) rx_want_manifest(rx, topic, t.t_len, t.id, now);
    return MQIMG_RX_OK;
  }
  }
  if (code != MQIMG_RX_OK && code >= MQIMG_RX_NOT_JSON) rx_reject(rx, code, -1);
  return code;
}

mqimg_rx_code mqimg_rx_on_message_part(mqimg_rx *rx, const char *topic, size_t topic_len, const uint8_t *data,
                                       size_t len, size_t offset, size_t total) {
  if (offset == 0 && len == total) return mqimg_rx_on_message(rx, topic, topic_len, data, len);
  if (offset > 0) { /* a later piece: of the page or chunk in progress, if any */
    if (!rx->piece_active) return MQIMG_RX_OK;
    int page = rx->piece_page;
    uint32_t index = rx->piece_index;
    rx_work_begin(rx);
    mqimg_rx_code code = counted(rx, page, index, rx_on_piece(rx, page, index, data, len, offset, total));
    rx_work(rx);
    return code;
  }
  topic_parts t;
  rx_piece_abandon(rx);
  rx_parse_topic(topic, topic_len, &t);
  if ((t.kind == TOPIC_PAGE || t.kind == TOPIC_CHUNK) && current(rx, topic, &t)) {
    int page = t.kind == TOPIC_PAGE;
    rx_work_begin(rx);
    mqimg_rx_code code = counted(rx, page, t.index, rx_on_piece(rx, page, t.index, data, len, 0, total));
    rx_work(rx);
    return code;
  }
  /* Anything else in pieces (a manifest larger than the client's buffer, a page or chunk of another transfer) is
   * handled as its first piece alone would be: a manifest is then refused (`not_json`); an unknown transfer is
   * still answered with want-manifest, a finished one with its final status. */
  return mqimg_rx_on_message(rx, topic, topic_len, data, len);
}

int mqimg_rx_work_left(const mqimg_rx *rx) { return rx_work_waiting(rx); }

const char *mqimg_rx_id(const mqimg_rx *rx) { return rx->cfg.rx_id; }

void mqimg_rx_poll(mqimg_rx *rx) {
  if (!rx->active) return;
  rx_work_begin(rx);
  rx_work(rx); /* a share of the catching up a filled gap or a late page left */
  if (!rx->active) return;
  uint32_t now = rx_now(rx);
  if (now - rx->last_chunk_ms >= rx->cfg.timeout_ms) {
    rx_fail(rx, MQIMG_RX_TIMEOUT);
    return;
  }
  int due = (rx->unreported > 0 && now - rx->first_unreported_ms >= RX_FLUSH_MS) ||
            now - rx->last_status_ms >= RX_HEARTBEAT_MS;
  if (!due && rx->pages_held < rx->m.page_count && now - rx->started_ms >= RX_PAGE_GRACE_MS) {
    for (uint32_t j = 0; j < rx->m.page_count && !due; j++) {
      if (!rx_bit(rx->page_held, j) && (rx->page_asked[j] == 0 || now - rx->page_asked[j] >= RX_PAGE_REPEAT_MS))
        due = 1;
    }
  }
  if (due) rx_publish_receiving(rx, now);
}
