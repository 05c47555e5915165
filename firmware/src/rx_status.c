/* Statuses (PROTOCOL.md section 7), written as mqimg writes them: compact JSON, fields in the order of the table. */
#include <string.h>
#include "rx_internal.h"

typedef struct {
  char *buf;
  size_t cap, len;
} out_buf;

static void put(out_buf *o, const char *s) {
  size_t n = strlen(s);
  if (o->len + n < o->cap) {
    memcpy(o->buf + o->len, s, n);
    o->len += n;
  } else {
    o->len = o->cap; /* overflow: never published (the buffer is sized for the largest status) */
  }
}

static void put_u(out_buf *o, uint32_t v) {
  char digits[11];
  int i = 10;
  digits[i] = 0;
  do {
    digits[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  put(o, digits + i);
}

static void put_i(out_buf *o, int32_t v) {
  if (v < 0) {
    put(o, "-");
    put_u(o, (uint32_t)(-(int64_t)v));
  } else {
    put_u(o, (uint32_t)v);
  }
}

/* "T/mqimg/ID/r" into rx->status_topic; 0, or -1 when T is too long. */
static int status_topic(mqimg_rx *rx, const char *topic, size_t topic_len, const char *id) {
  if (topic_len > MQIMG_RX_MAX_TOPIC) return -1;
  memcpy(rx->status_topic, topic, topic_len);
  memcpy(rx->status_topic + topic_len, "/mqimg/", 7);
  memcpy(rx->status_topic + topic_len + 7, id, 16);
  memcpy(rx->status_topic + topic_len + 23, "/r", 3);
  return 0;
}

static out_buf begin_status(mqimg_rx *rx, const char *state) {
  out_buf o = {rx->status, sizeof rx->status, 0};
  put(&o, "{\"rx\":\"");
  put(&o, rx->cfg.rx_id);
  put(&o, "\",\"state\":\"");
  put(&o, state);
  put(&o, "\"");
  return o;
}

const uint8_t *rx_active_key(mqimg_rx *rx) {
#ifdef MQIMG_RX_WITH_IDENTITY
  if (rx->sealing) return rx->status_key;
#endif
  (void)rx;
  return NULL;
}

/* Publishes the status in `o`, of transfer `id`: in clear, or sealed under `key` (PROTOCOL.md 12.1). */
static void send(mqimg_rx *rx, out_buf *o, const char *id, const uint8_t *key) {
  put(o, "}");
  if (o->len >= o->cap) return;
  rx->status[o->len] = 0;
#ifdef MQIMG_RX_WITH_IDENTITY
  if (key) {
    size_t n = rx_identity_seal(rx, key, id, o->len);
    if (n == 0) return;
    rx->stats.statuses++;
    (void)rx->cfg.publish(rx->cfg.user, rx->status_topic, rx->sealed, n);
    return;
  }
#else
  (void)id, (void)key;
#endif
  rx->stats.statuses++;
  (void)rx->cfg.publish(rx->cfg.user, rx->status_topic, rx->status, o->len);
}

/* Hash pages due to be asked for now (7.2, item 4); marks them asked. */
static unsigned pages_due(mqimg_rx *rx, uint32_t now, uint32_t *out, unsigned max) {
  if (rx->pages_held == rx->m.page_count) return 0;
  if (rx->pending_count == 0 && now - rx->started_ms < RX_PAGE_GRACE_MS) return 0;
  unsigned n = 0;
  for (uint32_t j = 0; j < rx->m.page_count && n < max; j++) {
    if (rx_bit(rx->page_held, j)) continue;
    if (rx->page_asked[j] != 0 && now - rx->page_asked[j] < RX_PAGE_REPEAT_MS) continue;
    rx->page_asked[j] = now ? now : 1;
    out[n++] = j;
  }
  return n;
}

void rx_publish_receiving(mqimg_rx *rx, uint32_t now) {
  uint32_t ranges[MQIMG_RX_MAX_RANGES][2];
  uint32_t pages[16];
  if (status_topic(rx, rx->topic, strlen(rx->topic), rx->m.id) != 0) return;
  unsigned nr = rx_repairs_due(rx, now, ranges, MQIMG_RX_MAX_RANGES);
  unsigned np = pages_due(rx, now, pages, 16);
  out_buf o = begin_status(rx, "receiving");
  put(&o, ",\"next\":");
  put_u(&o, rx->next);
  put(&o, ",\"high\":");
  put_i(&o, rx->high);
  put(&o, ",\"win\":");
  put_u(&o, rx->win);
  if (nr > 0) {
    put(&o, ",\"missing\":[");
    for (unsigned i = 0; i < nr; i++) {
      put(&o, i ? ",[" : "[");
      put_u(&o, ranges[i][0]);
      put(&o, ",");
      put_u(&o, ranges[i][1]);
      put(&o, "]");
    }
    put(&o, "]");
  }
  if (np > 0) {
    put(&o, ",\"wantPages\":[");
    for (unsigned i = 0; i < np; i++) {
      if (i) put(&o, ",");
      put_u(&o, pages[i]);
    }
    put(&o, "]");
  }
  rx->last_status_ms = now;
  rx->unreported = 0;
  send(rx, &o, rx->m.id, rx_active_key(rx));
}

void rx_publish_final(mqimg_rx *rx, const char *topic, size_t topic_len, const char *id, mqimg_rx_code code,
                      uint32_t chunks, const uint8_t proof[32], const uint8_t *key) {
  static const char hex[] = "0123456789abcdef";
  if (status_topic(rx, topic, topic_len, id) != 0) return;
  out_buf o = begin_status(rx, code == MQIMG_RX_OK ? "complete" : "failed");
  if (code == MQIMG_RX_OK) {
    char proof_hex[65];
    for (int i = 0; i < 32; i++) {
      proof_hex[2 * i] = hex[proof[i] >> 4];
      proof_hex[2 * i + 1] = hex[proof[i] & 15];
    }
    proof_hex[64] = 0;
    put(&o, ",\"next\":");
    put_u(&o, chunks);
    put(&o, ",\"proof\":\"");
    put(&o, proof_hex);
    put(&o, "\"");
  } else {
    put(&o, ",\"reason\":\"");
    put(&o, mqimg_rx_code_name(code));
    put(&o, "\"");
  }
  send(rx, &o, id, key);
}

void rx_publish_want_manifest(mqimg_rx *rx, const char *topic, size_t topic_len, const char *id) {
  if (status_topic(rx, topic, topic_len, id) != 0) return;
  out_buf o = begin_status(rx, "want-manifest");
  send(rx, &o, id, NULL); /* no manifest, no key: in clear */
}
