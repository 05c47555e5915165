/* Signed manifests (PROTOCOL.md section 12), with libsodium's Ed25519: built with MQIMG_RX_WITH_SODIUM only.
 * Not checked here: `replayed` (no signature store survives a restart on a device; the age check bounds replays). */
#ifdef MQIMG_RX_WITH_SODIUM
#include <sodium.h>
#include <string.h>
#include "rx_internal.h"

static const char HEX[] = "0123456789abcdef";

typedef struct {
  char *buf;
  size_t cap, len;
} text;

static void add(text *t, const char *s, size_t n) {
  if (t->len + n <= t->cap) memcpy(t->buf + t->len, s, n);
  t->len += n;
}
static void add_s(text *t, const char *s) { add(t, s, strlen(s)); }
static void add_u(text *t, uint64_t v) {
  char d[21];
  int i = 20;
  d[i] = 0;
  do {
    d[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  add_s(t, d + i);
}
static void add_hex(text *t, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char h[2] = {HEX[b[i] >> 4], HEX[b[i] & 15]};
    add(t, h, 2);
  }
}

void rx_sig_init(mqimg_rx *rx) {
  uint8_t digest[32];
  /* -1 only when libsodium cannot initialise; Ed25519 verification needs none of what it sets up. */
  int ready = sodium_init();
  (void)ready;
  for (unsigned k = 0; k < rx->cfg.trusted_key_count && k < MQIMG_RX_MAX_KEYS; k++) {
    rx_sha256_once(&rx->scratch, rx->cfg.trusted_keys[k], 32, digest);
    for (int i = 0; i < 8; i++) {
      rx->key_ids[k][2 * i] = HEX[digest[i] >> 4];
      rx->key_ids[k][2 * i + 1] = HEX[digest[i] & 15];
    }
    rx->key_ids[k][16] = 0;
  }
}

mqimg_rx_code rx_sig_check(mqimg_rx *rx, const char *topic, size_t t_len, const uint8_t *json, size_t len,
                           const rx_manifest *m) {
  static const char *const formats[] = {"", "rgb565le", "rgb565be", "rgb888", "gray8", "gray4", "mono1"};
  unsigned count = rx->cfg.trusted_key_count < MQIMG_RX_MAX_KEYS ? rx->cfg.trusted_key_count : MQIMG_RX_MAX_KEYS;
  if (count == 0) return MQIMG_RX_OK;
  if (!m->has_sig) return MQIMG_RX_UNSIGNED;
  int key = -1;
  for (unsigned k = 0; k < count; k++)
    if (memcmp(rx->key_ids[k], m->sig_kid, 16) == 0) key = (int)k;
  if (key < 0) return MQIMG_RX_UNTRUSTED_KEY;
  if (memchr(topic, '\n', t_len)) return MQIMG_RX_BAD_SIGNATURE;
  rx_manifest again;
  rx_manifest_capture cap;
  text t = {rx->sig_text, sizeof rx->sig_text, 0};
  add_s(&t, "mqimg-sig-v3\n");
  add(&t, topic, t_len);
  add_s(&t, "\n");
  add_s(&t, m->id);
  add_s(&t, "\n");
  /* name, decoded, straight into place */
  memset(&cap, 0, sizeof cap);
  cap.name = t.buf + t.len;
  cap.name_cap = t.len < t.cap ? t.cap - t.len : 0;
  (void)rx_manifest_parse(json, len, &again, NULL, 0, &cap);
  if (cap.name_len > cap.name_cap || memchr(cap.name, '\n', cap.name_len)) return MQIMG_RX_BAD_SIGNATURE;
  t.len += cap.name_len;
  add_s(&t, "\n");
  add_s(&t, m->type);
  add_s(&t, "\n");
  add_u(&t, m->size);
  add_s(&t, "\n");
  add_u(&t, m->chunk_bytes);
  add_s(&t, "\n");
  add_u(&t, m->chunks);
  add_s(&t, "\n");
  add_hex(&t, m->sha256, 32);
  add_s(&t, "\n");
  add_hex(&t, m->nonce, 16);
  add_s(&t, "\n");
  memset(&cap, 0, sizeof cap);
  cap.pages = t.buf + t.len;
  cap.pages_cap = t.len < t.cap ? t.cap - t.len : 0;
  (void)rx_manifest_parse(json, len, &again, NULL, 0, &cap);
  if (cap.pages_len > cap.pages_cap) return MQIMG_RX_BAD_SIGNATURE;
  t.len += cap.pages_len;
  add_s(&t, "\n");
  add_u(&t, m->width);
  add_s(&t, "\n");
  add_u(&t, m->height);
  add_s(&t, "\n");
  add_u(&t, m->created_ms);
  add_s(&t, "\n");
  add_s(&t, formats[m->pixel_format]);
  add_s(&t, "\n");
  if (m->pixel_format != MQIMG_RX_PX_NONE) add_u(&t, m->stride);
  add_s(&t, "\n");
  add_s(&t, m->supersede ? "1\n" : "0\n");
  add_s(&t, m->epk); /* protocol 3: the sender's ephemeral key for named receivers, empty when absent */
  add_s(&t, "\n");
  add_s(&t, m->sig_kid);
  if (t.len > t.cap) return MQIMG_RX_BAD_SIGNATURE;
  if (crypto_sign_verify_detached(m->sig_value, (const unsigned char *)t.buf, t.len, rx->cfg.trusted_keys[key]) != 0)
    return MQIMG_RX_BAD_SIGNATURE;
  if (rx->cfg.wall_ms) {
    uint64_t now = rx->cfg.wall_ms(rx->cfg.user);
    uint64_t max_age = rx->cfg.max_age_ms ? rx->cfg.max_age_ms : 600000u;
    if (m->created_ms + max_age < now) return MQIMG_RX_EXPIRED_SIGNATURE;
    if (m->created_ms > now + 60000u) return MQIMG_RX_FUTURE_SIGNATURE;
  }
  return MQIMG_RX_OK;
}
#else
typedef int rx_sig_not_built; /* ISO C forbids an empty translation unit */
#endif
