/* Named receivers (protocol 3, PROTOCOL.md 12.1), with MQIMG_RX_WITH_IDENTITY (which needs MQIMG_RX_WITH_SODIUM):
 * the receiver's id and X25519 key from its Ed25519 seed (`mqimg keygen`), the status key of a transfer whose
 * manifest names an ephemeral key (`epk`), and statuses sealed under it. One X25519 per transfer (libsodium's
 * crypto_scalarmult, which does not allocate); HKDF-SHA256 on the library's HMAC; AES-256-GCM of its own
 * (rx_aes_gcm.c). */
#include "mqimg_rx.h"
#ifdef MQIMG_RX_WITH_IDENTITY
#include <sodium.h>
#include <string.h>
#include "rx_aes_gcm.h"
#include "rx_internal.h"

static const char HEX[] = "0123456789abcdef";

void rx_identity_init(mqimg_rx *rx) {
  uint8_t pk[32], sk[64], digest[64];
  int ready = sodium_init(); /* -1 only when it cannot initialise; what is used here needs none of it */
  (void)ready;
  crypto_sign_seed_keypair(pk, sk, rx->cfg.identity_seed);
  rx_sha256_once(&rx->scratch, pk, 32, digest);
  memcpy(rx->named_id, "k-", 2);
  for (int i = 0; i < 8; i++) {
    rx->named_id[2 + 2 * i] = HEX[digest[i] >> 4];
    rx->named_id[3 + 2 * i] = HEX[digest[i] & 15];
  }
  rx->named_id[18] = 0;
  crypto_hash_sha512(digest, rx->cfg.identity_seed, 32);
  memcpy(rx->x25519_private, digest, 32); /* X25519 clamps it */
  sodium_memzero(sk, sizeof sk);
  sodium_memzero(digest, sizeof digest);
}

/* HMAC-SHA256(key, a || b) with the library's HMAC. */
static void hmac2(mqimg_rx *rx, const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len, const uint8_t *b,
                  size_t b_len, uint8_t out[32]) {
  rx_sha256 inner;
  rx_hmac_start(&inner, key, key_len);
  rx_sha256_update(&inner, a, a_len);
  if (b_len > 0) rx_sha256_update(&inner, b, b_len);
  rx_hmac_finish(&inner, &rx->scratch, key, key_len, out);
}

int rx_identity_status_key(mqimg_rx *rx, const rx_manifest *m, uint8_t key[32]) {
  uint8_t epk[32], shared[32], prk[32];
  char info[12 + 16 + 1 + 64 + 1];
  static const uint8_t ONE = 1;
  if (sodium_base642bin(epk, sizeof epk, m->epk, strlen(m->epk), NULL, NULL, NULL,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return -1;
  if (crypto_scalarmult(shared, rx->x25519_private, epk) != 0) return -1; /* a low-order point */
  /* HKDF-SHA256 (RFC 5869): extract with the 16 nonce bytes as salt, expand one block with the info */
  hmac2(rx, m->nonce, 16, shared, 32, NULL, 0, prk);
  size_t n = 0;
  memcpy(info, "mqimg-rx-v3 ", 12);
  n = 12;
  memcpy(info + n, m->id, 16);
  n += 16;
  info[n++] = ' ';
  memcpy(info + n, rx->cfg.rx_id, rx->rx_len);
  n += rx->rx_len;
  hmac2(rx, prk, 32, (const uint8_t *)info, n, &ONE, 1, key);
  sodium_memzero(shared, sizeof shared);
  sodium_memzero(prk, sizeof prk);
  return 0;
}

typedef struct {
  char *out;
  size_t len, cap;
  uint32_t acc;
  int n;
} b64_out;

static void b64_emit(b64_out *w, uint32_t v, int chars) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 4; i++) {
    char c = i < chars ? A[(v >> (18 - 6 * i)) & 63] : '=';
    if (w->len < w->cap) w->out[w->len] = c;
    w->len++;
  }
}
static void b64_bytes(b64_out *w, const uint8_t *d, size_t len) {
  for (size_t i = 0; i < len; i++) {
    w->acc = w->acc << 8 | d[i];
    if (++w->n == 3) {
      b64_emit(w, w->acc, 4);
      w->acc = 0;
      w->n = 0;
    }
  }
}
static void b64_end(b64_out *w) {
  if (w->n == 1) b64_emit(w, w->acc << 16, 2);
  if (w->n == 2) b64_emit(w, w->acc << 8, 3);
}
static void text(b64_out *w, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (w->len < w->cap) w->out[w->len] = s[i];
    w->len++;
  }
}

size_t rx_identity_seal(mqimg_rx *rx, const uint8_t key[32], const char *id, size_t len) {
  uint8_t nonce[12], tag[16];
  char aad[16 + 1 + 64];
  if (rx->cfg.random)
    rx->cfg.random(rx->cfg.user, nonce, sizeof nonce);
  else
    randombytes_buf(nonce, sizeof nonce);
  memcpy(aad, id, 16);
  aad[16] = '\n';
  memcpy(aad + 17, rx->cfg.rx_id, rx->rx_len);
  rx_aes256_gcm_seal(key, nonce, (const uint8_t *)aad, 17 + rx->rx_len, (uint8_t *)rx->status, len, tag);
  b64_out w = {rx->sealed, 0, sizeof rx->sealed - 1, 0, 0};
  text(&w, "{\"rx\":\"", 7);
  text(&w, rx->cfg.rx_id, rx->rx_len);
  text(&w, "\",\"sealed\":\"", 12);
  b64_bytes(&w, nonce, sizeof nonce);
  b64_bytes(&w, (const uint8_t *)rx->status, len);
  b64_bytes(&w, tag, sizeof tag);
  b64_end(&w);
  text(&w, "\"}", 2);
  if (w.len > w.cap) return 0;
  rx->sealed[w.len] = 0;
  return w.len;
}
#else
typedef int rx_identity_not_built; /* ISO C forbids an empty translation unit */
#endif
