/* Named receivers (protocol 3, PROTOCOL.md 12.1; MQIMG_RX_WITH_IDENTITY) against scripts/protocol-vectors.ts'
 * `namedReceiver`: the receiver id from its seed (0x60..0x7f), the status key from the ephemeral key in the
 * manifest, the sealed complete status with the fixed status nonce (0xb0..0xbb); every status of the transfer
 * sealed, and opened again with mbedTLS's GCM; the library's AES-256-GCM against mbedTLS's on many lengths. */
#include <stdio.h>
#include <string.h>
#include "mbedtls/gcm.h"
#include "mqimg_rx.h"
#include "rx_aes_gcm.h"
#include "rx_internal.h"

static int passed, failed;
#define CHECK(cond)                                                                                              \
  do {                                                                                                           \
    if (cond) passed++;                                                                                          \
    else {                                                                                                       \
      failed++;                                                                                                  \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                            \
    }                                                                                                            \
  } while (0)

static char statuses[32][2048];
static int status_count;
static uint8_t file[256];
static int completes;
static int on_publish(void *u, const char *t, const char *p, size_t n) {
  (void)u, (void)t;
  snprintf(statuses[status_count++ % 32], sizeof statuses[0], "%.*s", (int)n, p);
  return 0;
}
static int on_write(void *u, uint32_t o, const uint8_t *d, size_t n) {
  (void)u;
  memcpy(file + o, d, n);
  return 0;
}
static int on_read(void *u, uint32_t o, uint8_t *d, size_t n) {
  (void)u;
  memcpy(d, file + o, n);
  return 0;
}
static uint32_t clock_ms = 1000;
static uint32_t on_now(void *u) { return (void)u, clock_ms; }
static int on_complete(void *u, const mqimg_rx_info *i) { return (void)u, (void)i, completes++, 0; }
static void fixed_nonce(void *u, uint8_t *out, size_t len) { /* the vector's status nonce, 0xb0..0xbb */
  (void)u;
  for (size_t i = 0; i < len; i++) out[i] = (uint8_t)(0xb0 + i);
}

static void from_hex(const char *hex, uint8_t *out) {
  for (size_t i = 0; hex[2 * i]; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
}
static size_t from_b64(const char *s, uint8_t *out) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (; *s && *s != '=' && *s != '"'; s++) {
    acc = acc << 6 | (uint32_t)(strchr(A, *s) - A);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return n;
}

/* Opens a sealed status with mbedTLS: the plain JSON into `out`, or -1. */
static int open_status(const char *payload, const uint8_t key[32], const char *aad, char *out) {
  uint8_t raw[2048];
  const char *b = strstr(payload, "\"sealed\":\"");
  if (!b) return -1;
  size_t n = from_b64(b + 10, raw);
  if (n < 28) return -1;
  mbedtls_gcm_context g;
  mbedtls_gcm_init(&g);
  mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
  int rc = mbedtls_gcm_auth_decrypt(&g, n - 28, raw, 12, (const uint8_t *)aad, strlen(aad), raw + n - 16, 16,
                                    raw + 12, (uint8_t *)out);
  mbedtls_gcm_free(&g);
  if (rc != 0) return -1;
  out[n - 28] = 0;
  return 0;
}

static void test_aes_gcm_against_mbedtls(void) {
  uint8_t key[32], nonce[12], aad[80], data[300], mine[300], tag[16], theirs[300], their_tag[16];
  int same = 0, runs = 0;
  for (unsigned len = 0; len <= 300; len += 7) {
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)(i * 13 + len);
    for (int i = 0; i < 12; i++) nonce[i] = (uint8_t)(i * 7 + len * 3);
    for (int i = 0; i < 80; i++) aad[i] = (uint8_t)(i ^ len);
    for (unsigned i = 0; i < len; i++) data[i] = (uint8_t)(i * 31 + 5);
    size_t aad_len = len % 80;
    memcpy(mine, data, len);
    rx_aes256_gcm_seal(key, nonce, aad, aad_len, mine, len, tag);
    mbedtls_gcm_context g;
    mbedtls_gcm_init(&g);
    mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
    mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len, nonce, 12, aad, aad_len, data, theirs, 16, their_tag);
    mbedtls_gcm_free(&g);
    runs++;
    if (memcmp(mine, theirs, len) == 0 && memcmp(tag, their_tag, 16) == 0) same++;
  }
  CHECK(runs == 43 && same == runs);
}

static const char *NAMED_MANIFEST =
    "{\"mqimg\":3,\"id\":\"0123456789abcdef\",\"nonce\":\"404142434445464748494a4b4c4d4e4f\",\"name\":\"vector.bin\","
    "\"type\":\"image/png\",\"size\":200,\"chunkBytes\":64,\"chunks\":4,\"sha256\":"
    "\"1901da1c9f699b48f6b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f\",\"pages\":\"l+fci+tipV4nTO1v5HgaRg==\","
    "\"width\":10,\"height\":5,\"createdMs\":1767225600000,\"epk\":\"ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0=\"}";
static const char *SEALED_COMPLETE =
    "{\"rx\":\"k-68894d58f18f2c34\",\"sealed\":\"sLGys7S1tre4ubq7zy+7PD8T1DFrLDCMMxlstsgRL9TKTHQGHkMgBL8cB/E/fW4T45zS"
    "OWHzAUqQgMQBq4zsXmL4WG8UwpFnsVQ5TEtFJAEovMr5wo3y7KBMFodjBVAmjZsMGYYHETOsEJ/DNjtppWJUCEKw5lkoefG2rs8L3Dt8gEgrw"
    "4rE89MrXMQUFpxqd9I9qUOmtPYF2djjrd8=\"}";
static const char *STATUS_KEY = "50ffc54f6df18a70619aba194475750d7ad775a940d074936b66b10e5d20b26b";
static const char *PAGE = "fdeab9acf3710362bd2658cdc9a29e8f9afaeef005e286957ee9a18a2481a75cc39e13bbb05726a3c0"
                          "747d3ca54c27e32d16485c5853ff9f54e013685aff6c7a";
#define T "cam/1/mqimg/0123456789abcdef"

static uint8_t state[MQIMG_RX_STATE_SIZE(16, 2)];
static uint8_t seed[32];

static mqimg_rx *fresh(void) {
  mqimg_rx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.identity_seed = seed;
  cfg.random = fixed_nonce;
  cfg.publish = on_publish;
  cfg.write = on_write;
  cfg.read = on_read;
  cfg.now_ms = on_now;
  cfg.complete = on_complete;
  status_count = completes = 0;
  return mqimg_rx_init(state, sizeof state, 16, 2, &cfg);
}
static mqimg_rx_code msg(mqimg_rx *rx, const char *topic, const void *p, size_t n) {
  return mqimg_rx_on_message(rx, topic, strlen(topic), (const uint8_t *)p, n);
}

static void test_named_vector(void) {
  uint8_t data[200], page[64], key[32], derived[32];
  char plain[2048];
  for (int i = 0; i < 200; i++) data[i] = (uint8_t)i;
  for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(0x60 + i);
  from_hex(PAGE, page);
  from_hex(STATUS_KEY, key);
  mqimg_rx *rx = fresh();
  CHECK(rx != NULL);
  if (!rx) return;
  CHECK(strcmp(rx->cfg.rx_id, "k-68894d58f18f2c34") == 0); /* namedReceiver.rx */
  /* the status key both ends derive (namedReceiver.statusKeyHex) */
  rx_manifest m;
  CHECK(rx_manifest_parse((const uint8_t *)NAMED_MANIFEST, strlen(NAMED_MANIFEST), &m, NULL, 0, NULL) == MQIMG_RX_OK);
  CHECK(rx_identity_status_key(rx, &m, derived) == 0 && memcmp(derived, key, 32) == 0);
  /* the transfer: every status sealed, and the last exactly the vector's sealed complete status */
  CHECK(msg(rx, T "/m", NAMED_MANIFEST, strlen(NAMED_MANIFEST)) == MQIMG_RX_OK);
  CHECK(msg(rx, T "/h/0", page, 64) == MQIMG_RX_OK);
  CHECK(msg(rx, T "/c/0", data, 64) == MQIMG_RX_OK);
  CHECK(msg(rx, T "/c/2", data + 128, 64) == MQIMG_RX_OK); /* a gap: a status at once */
  CHECK(msg(rx, T "/c/1", data + 64, 64) == MQIMG_RX_OK);
  CHECK(msg(rx, T "/c/3", data + 192, 8) == MQIMG_RX_OK);
  CHECK(completes == 1 && memcmp(file, data, 200) == 0);
  CHECK(status_count >= 3);
  CHECK(strcmp(statuses[(status_count - 1) % 32], SEALED_COMPLETE) == 0);
  const char *aad = "0123456789abcdef\nk-68894d58f18f2c34";
  int sealed = 0, opened = 0;
  for (int i = 0; i < status_count; i++) {
    if (strncmp(statuses[i], "{\"rx\":\"k-68894d58f18f2c34\",\"sealed\":\"", 37) == 0) sealed++;
    if (open_status(statuses[i], key, aad, plain) == 0 && strncmp(plain, "{\"rx\":\"k-68894d58f18f2c34\",", 27) == 0)
      opened++;
  }
  CHECK(sealed == status_count && opened == status_count);
  CHECK(open_status(statuses[0], key, aad, plain) == 0 &&
        strcmp(plain, "{\"rx\":\"k-68894d58f18f2c34\",\"state\":\"receiving\",\"next\":0,\"high\":-1,\"win\":768}") == 0);
  CHECK(open_status(statuses[0], key, "0123456789abcdee\nk-68894d58f18f2c34", plain) != 0); /* bound to the id */
  /* the final status repeated for the manifest: sealed too */
  int before = status_count;
  msg(rx, T "/m", NAMED_MANIFEST, strlen(NAMED_MANIFEST));
  CHECK(status_count == before + 1 && strcmp(statuses[before % 32], SEALED_COMPLETE) == 0);
}

static void test_named_without_epk_and_bad_epk(void) {
  uint8_t page[64], data[200];
  char m[1024];
  for (int i = 0; i < 200; i++) data[i] = (uint8_t)i;
  from_hex(PAGE, page);
  /* a manifest without epk (a sender that names nobody): statuses in clear, under the key's id */
  mqimg_rx *rx = fresh();
  const char *cut = strstr(NAMED_MANIFEST, ",\"epk\"");
  snprintf(m, sizeof m, "%.*s}", (int)(cut - NAMED_MANIFEST), NAMED_MANIFEST);
  CHECK(msg(rx, T "/m", m, strlen(m)) == MQIMG_RX_OK);
  CHECK(strcmp(statuses[0], "{\"rx\":\"k-68894d58f18f2c34\",\"state\":\"receiving\",\"next\":0,\"high\":-1,\"win\":768}") == 0);
  msg(rx, T "/h/0", page, 64);
  for (int n = 0; n < 4; n++) {
    char topic[64];
    snprintf(topic, sizeof topic, T "/c/%d", n);
    msg(rx, topic, data + 64 * n, n == 3 ? 8 : 64);
  }
  CHECK(completes == 1 && strcmp(statuses[(status_count - 1) % 32],
                                 "{\"rx\":\"k-68894d58f18f2c34\",\"state\":\"complete\",\"next\":4,\"proof\":"
                                 "\"ca7ce75213ee2259b0f38d8494dc819fd8f576592bed49d121cb364cc2d7c32e\"}") == 0);
  /* an epk that is a low-order point (all zero): no status key; dropped, no status */
  rx = fresh();
  snprintf(m, sizeof m, "%.*s,\"epk\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}", (int)(cut - NAMED_MANIFEST),
           NAMED_MANIFEST);
  CHECK(msg(rx, T "/m", m, strlen(m)) == MQIMG_RX_INVALID_MANIFEST);
  CHECK(status_count == 0 && !mqimg_rx_busy(rx));
}

int main(void) {
  test_aes_gcm_against_mbedtls();
  test_named_vector();
  test_named_without_epk_and_bad_epk();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
