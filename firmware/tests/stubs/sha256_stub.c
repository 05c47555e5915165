/* mbedTLS 3's SHA-256 functions (the subset in mbedtls/sha256.h beside this file) over the library's built-in
 * SHA-256 (src/rx_sha256.c, compiled here under other names): lets sources written for mbedTLS, such as the library
 * before it had MQIMG_RX_BUILTIN_SHA256, run on rv32 in qemu with the same SHA-256 code as the library today, so
 * instruction counts compare. The include path must find src/ and include/ of the current library. */
#include <string.h>
#include "mbedtls/sha256.h"

#undef MQIMG_RX_BUILTIN_SHA256
#define MQIMG_RX_BUILTIN_SHA256 1
#define rx_sha256_start stub_sha256_start
#define rx_sha256_update stub_sha256_update
#define rx_sha256_finish stub_sha256_finish
#define rx_sha256_abandon stub_sha256_abandon
#define rx_sha256_once stub_sha256_once
#define rx_hmac_start stub_hmac_start
#define rx_hmac_finish stub_hmac_finish
#include "../../src/rx_sha256.c"

typedef char stub_context_fits[sizeof(mbedtls_sha256_context) >= sizeof(rx_sha256) ? 1 : -1];

void mbedtls_sha256_init(mbedtls_sha256_context *ctx) { memset(ctx, 0, sizeof *ctx); }
void mbedtls_sha256_free(mbedtls_sha256_context *ctx) { (void)ctx; }
int mbedtls_sha256_starts(mbedtls_sha256_context *ctx, int is224) {
  if (is224) return -1;
  stub_sha256_start((rx_sha256 *)(void *)ctx);
  return 0;
}
int mbedtls_sha256_update(mbedtls_sha256_context *ctx, const unsigned char *input, size_t ilen) {
  stub_sha256_update((rx_sha256 *)(void *)ctx, input, ilen);
  return 0;
}
int mbedtls_sha256_finish(mbedtls_sha256_context *ctx, unsigned char *output) {
  stub_sha256_finish((rx_sha256 *)(void *)ctx, output);
  return 0;
}
int mbedtls_sha256(const unsigned char *input, size_t ilen, unsigned char *output, int is224) {
  rx_sha256 c;
  if (is224) return -1;
  stub_sha256_start(&c);
  stub_sha256_update(&c, input, ilen);
  stub_sha256_finish(&c, output);
  return 0;
}
