/* SHA-256 and HMAC-SHA256 built on it, with no allocation (mbedtls_md_setup would allocate its context): over
 * mbedTLS (2.28 on Debian, 3.x in ESP-IDF 5), or, with MQIMG_RX_BUILTIN_SHA256 = 1 (mqimg_rx_opts.h), the portable
 * implementation in rx_sha256.c, for targets without mbedTLS. */
#ifndef RX_SHA256_H
#define RX_SHA256_H
#include <stddef.h>
#include <stdint.h>
#include "mqimg_rx.h" /* and through it mqimg_rx_opts.h */

#if MQIMG_RX_BUILTIN_SHA256
typedef struct {
  uint32_t h[8];
  uint32_t total_low, total_high; /* bytes hashed */
  uint8_t block[64];
} rx_sha256;
#else
#include "mbedtls/sha256.h"
typedef mbedtls_sha256_context rx_sha256;
#endif

void rx_sha256_start(rx_sha256 *c);
void rx_sha256_update(rx_sha256 *c, const uint8_t *data, size_t len);
void rx_sha256_finish(rx_sha256 *c, uint8_t out[32]);
/** Releases a context that will not be finished (on ESP32s it may hold the SHA accelerator until then). */
void rx_sha256_abandon(rx_sha256 *c);
/** SHA-256 of `data`, using `scratch` as the context. */
void rx_sha256_once(rx_sha256 *scratch, const uint8_t *data, size_t len, uint8_t out[32]);

/** HMAC-SHA256 with a key of at most 64 bytes: start feeds key ^ ipad to `inner`. */
void rx_hmac_start(rx_sha256 *inner, const uint8_t *key, size_t key_len);
/** Finishes: `inner` holds key ^ ipad || message; `scratch` is used for the outer hash. */
void rx_hmac_finish(rx_sha256 *inner, rx_sha256 *scratch, const uint8_t *key, size_t key_len, uint8_t out[32]);
#endif
