#include "rx_sha256.h"
#include <string.h>

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
