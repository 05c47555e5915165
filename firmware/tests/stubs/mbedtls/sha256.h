/* Stand-in for mbedTLS 3's sha256.h, with the declarations of mbedTLS 3.x (ESP-IDF 5): the functions mqimg_rx calls,
 * as mbedTLS declares them, so that the library's mbedTLS 3 branch (src/rx_sha256.c) is compiled for rv32 in CI.
 * The context's layout is the software one (ESP-IDF's hardware-backed context differs; the library never looks
 * inside it). Implemented by sha256_stub.c over the library's built-in SHA-256, for the "before" measurement of
 * firmware/README.md; not a replacement for mbedTLS. */
#ifndef MBEDTLS_SHA256_H
#define MBEDTLS_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct mbedtls_sha256_context {
  uint32_t total[2];
  uint32_t state[8];
  unsigned char buffer[64];
  int is224;
} mbedtls_sha256_context;

void mbedtls_sha256_init(mbedtls_sha256_context *ctx);
void mbedtls_sha256_free(mbedtls_sha256_context *ctx);
int mbedtls_sha256_starts(mbedtls_sha256_context *ctx, int is224);
int mbedtls_sha256_update(mbedtls_sha256_context *ctx, const unsigned char *input, size_t ilen);
int mbedtls_sha256_finish(mbedtls_sha256_context *ctx, unsigned char *output);
int mbedtls_sha256(const unsigned char *input, size_t ilen, unsigned char *output, int is224);
#endif
