#include "rx_sha256.h"
#include <string.h>

#if MQIMG_RX_BUILTIN_SHA256
/* SHA-256 (FIPS 180-4) in portable C99: one 64-byte block buffer, no tables beyond the 64 round constants, no
 * allocation. Written for size rather than speed (an ESP32's mbedTLS uses the SHA accelerator instead). */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[16];
  for (unsigned i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (unsigned i = 0; i < 64; i++) {
    uint32_t x;
    if (i >= 16) { /* the message schedule, kept in a ring of 16 words */
      uint32_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
      x = w[i & 15] + (ror(w15, 7) ^ ror(w15, 18) ^ (w15 >> 3)) + w[(i - 7) & 15] +
          (ror(w2, 17) ^ ror(w2, 19) ^ (w2 >> 10));
      w[i & 15] = x;
    } else {
      x = w[i];
    }
    uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + x;
    uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

void rx_sha256_start(rx_sha256 *c) {
  static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->h, init, sizeof init);
  c->total_low = c->total_high = 0;
}

void rx_sha256_update(rx_sha256 *c, const uint8_t *data, size_t len) {
  while (len > 0) {
    uint32_t used = c->total_low & 63;
    uint32_t n = 64 - used;
    if (len < n) n = (uint32_t)len;
    if (used == 0 && n == 64) {
      block(c->h, data); /* whole blocks straight from the caller's bytes */
    } else {
      memcpy(c->block + used, data, n);
      if (used + n == 64) block(c->h, c->block);
    }
    c->total_low += n;
    if (c->total_low < n) c->total_high++;
    data += n;
    len -= n;
  }
}

void rx_sha256_finish(rx_sha256 *c, uint8_t out[32]) {
  uint32_t used = c->total_low & 63;
  uint32_t high = c->total_high << 3 | c->total_low >> 29, low = c->total_low << 3; /* length in bits */
  c->block[used++] = 0x80;
  if (used > 56) {
    memset(c->block + used, 0, 64 - used);
    block(c->h, c->block);
    used = 0;
  }
  memset(c->block + used, 0, 56 - used);
  for (unsigned i = 0; i < 4; i++) {
    c->block[56 + i] = (uint8_t)(high >> (24 - 8 * i));
    c->block[60 + i] = (uint8_t)(low >> (24 - 8 * i));
  }
  block(c->h, c->block);
  for (unsigned i = 0; i < 32; i++) out[i] = (uint8_t)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

void rx_sha256_abandon(rx_sha256 *c) { (void)c; }

#else
#include "mbedtls/version.h"

/* mbedTLS 3 (ESP-IDF 5) renamed the *_ret functions of 2.x (Debian 12) to the plain names. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SHA_STARTS mbedtls_sha256_starts
#define SHA_UPDATE mbedtls_sha256_update
#define SHA_FINISH mbedtls_sha256_finish
#else
#define SHA_STARTS mbedtls_sha256_starts_ret
#define SHA_UPDATE mbedtls_sha256_update_ret
#define SHA_FINISH mbedtls_sha256_finish_ret
#endif

void rx_sha256_start(rx_sha256 *c) {
  mbedtls_sha256_init(c);
  (void)SHA_STARTS(c, 0);
}

void rx_sha256_update(rx_sha256 *c, const uint8_t *data, size_t len) {
  if (len > 0) (void)SHA_UPDATE(c, data, len);
}

void rx_sha256_finish(rx_sha256 *c, uint8_t out[32]) {
  (void)SHA_FINISH(c, out);
  mbedtls_sha256_free(c);
}

void rx_sha256_abandon(rx_sha256 *c) { mbedtls_sha256_free(c); }
#endif

void rx_sha256_once(rx_sha256 *scratch, const uint8_t *data, size_t len, uint8_t out[32]) {
  rx_sha256_start(scratch);
  rx_sha256_update(scratch, data, len);
  rx_sha256_finish(scratch, out);
}

static void padded_key(const uint8_t *key, size_t key_len, uint8_t pad, uint8_t block[64]) {
  memset(block, pad, 64);
  for (size_t i = 0; i < key_len && i < 64; i++) block[i] ^= key[i];
}

void rx_hmac_start(rx_sha256 *inner, const uint8_t *key, size_t key_len) {
  uint8_t block[64];
  padded_key(key, key_len, 0x36, block);
  rx_sha256_start(inner);
  rx_sha256_update(inner, block, 64);
}

void rx_hmac_finish(rx_sha256 *inner, rx_sha256 *scratch, const uint8_t *key, size_t key_len, uint8_t out[32]) {
  uint8_t block[64], digest[32];
  rx_sha256_finish(inner, digest);
  padded_key(key, key_len, 0x5c, block);
  rx_sha256_start(scratch);
  rx_sha256_update(scratch, block, 64);
  rx_sha256_update(scratch, digest, 32);
  rx_sha256_finish(scratch, out);
}
