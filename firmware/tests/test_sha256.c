/* The library's built-in SHA-256 (MQIMG_RX_BUILTIN_SHA256, src/rx_sha256.c) against mbedTLS's on the same vectors:
 * FIPS 180-4's examples, every length from 0 to 1,100 bytes fed whole and in uneven pieces, a million 'a', and
 * HMAC-SHA256 (the proof of receipt, built on either) against mbedTLS's HMAC and RFC 4231's vectors. Prints
 * "N passed, N failed" last. The built-in code is compiled here under other names, beside the mbedTLS it is
 * compared with. */
#include <stdio.h>
#include <string.h>
#include "mbedtls/md.h"
#include "mbedtls/sha256.h"
#include "mbedtls/version.h"

#undef MQIMG_RX_BUILTIN_SHA256
#define MQIMG_RX_BUILTIN_SHA256 1
#define rx_sha256_start builtin_sha256_start
#define rx_sha256_update builtin_sha256_update
#define rx_sha256_finish builtin_sha256_finish
#define rx_sha256_abandon builtin_sha256_abandon
#define rx_sha256_once builtin_sha256_once
#define rx_hmac_start builtin_hmac_start
#define rx_hmac_finish builtin_hmac_finish
#include "../src/rx_sha256.c"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define MBED_SHA256(d, n, out) mbedtls_sha256((d), (n), (out), 0)
#else
#define MBED_SHA256(d, n, out) mbedtls_sha256_ret((d), (n), (out), 0)
#endif

static int passed, failed;
static void check(int ok, const char *what, size_t n) {
  if (ok) {
    passed++;
  } else {
    failed++;
    fprintf(stderr, "FAIL %s (%zu)\n", what, n);
  }
}

static void hex(const uint8_t *d, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void builtin_pieces(const uint8_t *d, size_t n, size_t step, uint8_t out[32]) {
  rx_sha256 c;
  builtin_sha256_start(&c);
  for (size_t i = 0; i < n;) {
    size_t k = n - i < step ? n - i : step;
    builtin_sha256_update(&c, d + i, k);
    i += k;
    step = step * 7 % 97 + 1; /* uneven pieces: across block edges and within blocks */
  }
  builtin_sha256_finish(&c, out);
}

int main(void) {
  static const struct {
    const char *in, *sha;
  } fips[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
  };
  char got[65], want[65];
  uint8_t a[32], b[32];
  rx_sha256 c;
  for (size_t i = 0; i < sizeof fips / sizeof fips[0]; i++) {
    builtin_sha256_once(&c, (const uint8_t *)fips[i].in, strlen(fips[i].in), a);
    hex(a, 32, got);
    check(strcmp(got, fips[i].sha) == 0, "FIPS 180-4 example, built-in", i);
    MBED_SHA256((const uint8_t *)fips[i].in, strlen(fips[i].in), b);
    hex(b, 32, want);
    check(strcmp(want, fips[i].sha) == 0, "FIPS 180-4 example, mbedTLS", i);
  }
  static uint8_t data[1100];
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof data; i++) {
    x = x * 1103515245u + 12345u;
    data[i] = (uint8_t)(x >> 16);
  }
  for (size_t n = 0; n <= sizeof data; n++) {
    MBED_SHA256(data, n, b);
    builtin_sha256_once(&c, data, n, a);
    check(memcmp(a, b, 32) == 0, "whole, built-in = mbedTLS", n);
    builtin_pieces(data, n, 1 + n % 67, a);
    check(memcmp(a, b, 32) == 0, "in pieces, built-in = mbedTLS", n);
  }
  static uint8_t million[1000000];
  memset(million, 'a', sizeof million);
  builtin_pieces(million, sizeof million, 1000, a);
  hex(a, 32, got);
  check(strcmp(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "a million 'a'", 0);
  /* HMAC-SHA256 over the built-in SHA-256, as the proof is computed (7.1): against mbedTLS's HMAC, keys of 16 to 64
   * bytes, and RFC 4231's test case 2 ("Jefe"). */
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  rx_sha256 inner, scratch;
  for (size_t klen = 4; klen <= 64; klen += 12) {
    for (size_t n = 0; n <= 300; n += 37) {
      builtin_hmac_start(&inner, data + 500, klen);
      builtin_sha256_update(&inner, data, n);
      builtin_hmac_finish(&inner, &scratch, data + 500, klen, a);
      mbedtls_md_hmac(md, data + 500, klen, data, n, b);
      check(memcmp(a, b, 32) == 0, "HMAC, built-in = mbedTLS", klen * 1000 + n);
    }
  }
  const char *jefe_msg = "what do ya want for nothing?";
  builtin_hmac_start(&inner, (const uint8_t *)"Jefe", 4);
  builtin_sha256_update(&inner, (const uint8_t *)jefe_msg, strlen(jefe_msg));
  builtin_hmac_finish(&inner, &scratch, (const uint8_t *)"Jefe", 4, a);
  hex(a, 32, got);
  check(strcmp(got, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") == 0, "RFC 4231 case 2", 0);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
