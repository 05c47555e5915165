/* Signed manifests (PROTOCOL.md section 12) against the test vectors of protocol 3 (signing text `mqimg-sig-v3`,
 * with the `epk` line); built with MQIMG_RX_WITH_SODIUM. The vector's signature is scripts/protocol-vectors.ts'
 * `signature`; the one with `epk` is its named receiver's manifest signed with the same key (signManifest). */
#include <stdio.h>
#include <string.h>
#include "mqimg_rx.h"

static int passed, failed;
#define CHECK(cond)                                                                                              \
  do {                                                                                                           \
    if (cond) passed++;                                                                                          \
    else {                                                                                                       \
      failed++;                                                                                                  \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                            \
    }                                                                                                            \
  } while (0)

static char last[512];
static uint64_t wall = 1767225600000ULL + 5000;
static int on_publish(void *u, const char *t, const char *p, size_t n) {
  (void)u, (void)t;
  snprintf(last, sizeof last, "%.*s", (int)n, p);
  return 0;
}
static int on_write(void *u, uint32_t o, const uint8_t *d, size_t n) { return (void)u, (void)o, (void)d, (void)n, 0; }
static int on_read(void *u, uint32_t o, uint8_t *d, size_t n) { return (void)u, (void)o, memset(d, 0, n), 0; }
static uint32_t on_now(void *u) { return (void)u, 100; }
static uint64_t on_wall(void *u) { return (void)u, wall; }

static const uint8_t VECTOR_KEY[32] = {0x03, 0xa1, 0x07, 0xbf, 0xf3, 0xce, 0x10, 0xbe, 0x1d, 0x70, 0xdd,
                                       0x18, 0xe7, 0x4b, 0xc0, 0x99, 0x67, 0xe4, 0xd6, 0x30, 0x9b, 0xa5,
                                       0x0d, 0x5f, 0x1d, 0xdc, 0x86, 0x64, 0x12, 0x55, 0x31, 0xb8};
static const uint8_t OTHER_KEY[32] = {1, 2, 3};
#define BODY                                                                                                     \
  "{\"mqimg\":3,\"id\":\"0123456789abcdef\",\"nonce\":\"404142434445464748494a4b4c4d4e4f\",\"name\":\"vector.bin\"," \
  "\"type\":\"image/png\",\"size\":200,\"chunkBytes\":64,\"chunks\":4,\"sha256\":"                               \
  "\"1901da1c9f699b48f6b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f\",\"pages\":\"l+fci+tipV4nTO1v5HgaRg==\","   \
  "\"width\":10,\"height\":5,\"createdMs\":1767225600000"
/* The named-receiver vector's epk, and the signature of BODY with it (signing text line 18: the epk). */
#define EPK ",\"epk\":\"ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0=\""
#define SIG_EPK                                                                                                  \
  ",\"sig\":{\"alg\":\"ed25519\",\"kid\":\"56475aa75463474c\",\"value\":"                                        \
  "\"RvbTCECyU7ZRk87U/VDkEBrXoMRgU02kfsoWdm2T6G4iwJU7yypVuI32Vx/Wd/W/qEJlAULB9tlXIrfWlQjOCA==\"}"
#define SIG                                                                                                      \
  ",\"sig\":{\"alg\":\"ed25519\",\"kid\":\"56475aa75463474c\",\"value\":"                                        \
  "\"swFffaVSWuOpB5FTmEFAxKc+GhkHvlV5v+z0BzKjQl3hzVU1gi/MWz5xjKSsBtWRqlzNTG31180b1fJINuiSAg==\"}"

static uint8_t state[MQIMG_RX_STATE_SIZE(16, 4)];

static mqimg_rx_code try_manifest(const uint8_t (*keys)[32], const char *topic, const char *json) {
  mqimg_rx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.rx_id = "rx-1a2b3c4d";
  cfg.publish = on_publish;
  cfg.write = on_write;
  cfg.read = on_read;
  cfg.now_ms = on_now;
  cfg.wall_ms = on_wall;
  cfg.trusted_keys = keys;
  cfg.trusted_key_count = 1;
  mqimg_rx *rx = mqimg_rx_init(state, sizeof state, 16, 4, &cfg);
  if (!rx) return MQIMG_RX_CODE_COUNT;
  last[0] = 0;
  return mqimg_rx_on_message(rx, topic, strlen(topic), (const uint8_t *)json, strlen(json));
}

int main(void) {
  const char *T = "cam/1/mqimg/0123456789abcdef/m";
  CHECK(try_manifest(&VECTOR_KEY, T, BODY SIG "}") == MQIMG_RX_OK);
  CHECK(strstr(last, "\"state\":\"receiving\"") != NULL);
  CHECK(try_manifest(&VECTOR_KEY, T, BODY "}") == MQIMG_RX_UNSIGNED);
  CHECK(strcmp(last, "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"failed\",\"reason\":\"unsigned\"}") == 0);
  CHECK(try_manifest(&OTHER_KEY, T, BODY SIG "}") == MQIMG_RX_UNTRUSTED_KEY);
  /* replayed to another topic */
  CHECK(try_manifest(&VECTOR_KEY, "cam/2/mqimg/0123456789abcdef/m", BODY SIG "}") == MQIMG_RX_BAD_SIGNATURE);
  CHECK(strstr(last, "bad_signature") != NULL);
  /* a field changed (supersede is signed too); field order and unknown fields do not matter */
  CHECK(try_manifest(&VECTOR_KEY, T, BODY SIG ",\"supersede\":true}") == MQIMG_RX_BAD_SIGNATURE);
  char reordered[1024];
  snprintf(reordered, sizeof reordered, "{\"x\":[1],%s,%s}", SIG + 1, BODY + 1);
  CHECK(try_manifest(&VECTOR_KEY, T, reordered) == MQIMG_RX_OK);
  /* epk is signed: with it, its own signature; the vector's without it, or another epk, fail */
  CHECK(try_manifest(&VECTOR_KEY, T, BODY EPK SIG_EPK "}") == MQIMG_RX_OK);
  CHECK(strstr(last, "\"state\":\"receiving\"") != NULL);
  CHECK(try_manifest(&VECTOR_KEY, T, BODY SIG_EPK "}") == MQIMG_RX_BAD_SIGNATURE);
  CHECK(try_manifest(&VECTOR_KEY, T, BODY EPK SIG "}") == MQIMG_RX_BAD_SIGNATURE);
  CHECK(try_manifest(&VECTOR_KEY, T, BODY ",\"epk\":\"AT6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0=\"" SIG_EPK "}") ==
        MQIMG_RX_BAD_SIGNATURE);
  /* a version 2 signature (mqimg-sig-v2 text) of the same fields does not verify under version 3 */
  CHECK(try_manifest(&VECTOR_KEY, T, BODY ",\"sig\":{\"alg\":\"ed25519\",\"kid\":\"56475aa75463474c\",\"value\":"
                                       "\"368LjCw4jsS0M1StFwpHA5LT9zGS0N4tTt8gYy83VA8aOitRr0akjr+KNi3kYJPc2mhD93ajsG8D6wfLA2YIAw==\"}}") ==
        MQIMG_RX_BAD_SIGNATURE);
  /* malformed sig: the schema is broken */
  CHECK(try_manifest(&VECTOR_KEY, T, BODY ",\"sig\":{\"alg\":\"ed25519\",\"kid\":\"56475aa75463474c\"}}") ==
        MQIMG_RX_INVALID_MANIFEST);
  /* age */
  wall = 1767225600000ULL + 601000;
  CHECK(try_manifest(&VECTOR_KEY, T, BODY SIG "}") == MQIMG_RX_EXPIRED_SIGNATURE);
  wall = 1767225600000ULL - 61000;
  CHECK(try_manifest(&VECTOR_KEY, T, BODY SIG "}") == MQIMG_RX_FUTURE_SIGNATURE);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
