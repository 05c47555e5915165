/* Unit tests of mqimg_rx against PROTOCOL.md's test vectors (section 11) and its rules, with a fake clock, a
 * memory "file" and the statuses captured. Prints "N passed, N failed" last. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mbedtls/sha256.h"
#include "mbedtls/version.h"
#include "mqimg_rx.h"
#ifdef MQIMG_RX_TEST_INTERNALS /* the CMake builds: rx_chunk_tag against the vector's tags (not the amalgamation's) */
#include "rx_internal.h"
#endif

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SHA256(d, n, out) mbedtls_sha256((d), (n), (out), 0)
#else
#define SHA256(d, n, out) mbedtls_sha256_ret((d), (n), (out), 0)
#endif

static int passed, failed;
#define CHECK(cond)                                                                                              \
  do {                                                                                                           \
    if (cond) passed++;                                                                                          \
    else {                                                                                                       \
      failed++;                                                                                                  \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                            \
    }                                                                                                            \
  } while (0)
#define CHECK_STR(a, b)                                                                                          \
  do {                                                                                                           \
    if (strcmp((a), (b)) == 0) passed++;                                                                         \
    else {                                                                                                       \
      failed++;                                                                                                  \
      fprintf(stderr, "FAIL %s:%d:\n  got  %s\n  want %s\n", __FILE__, __LINE__, (a), (b));                      \
    }                                                                                                            \
  } while (0)

/* ---- the fake platform ---- */
static uint8_t file[1 << 20];
static uint32_t clock_ms = 1000;
static char statuses[64][1200];
static char status_topics[64][200];
static int status_count;
static int rejects[32];
static int completes, fails, last_fail;
static int refuse_in_begin;

static int on_publish(void *u, const char *topic, const char *payload, size_t len) {
  (void)u;
  int i = status_count++ % 64;
  snprintf(statuses[i], sizeof statuses[i], "%.*s", (int)len, payload);
  snprintf(status_topics[i], sizeof status_topics[i], "%s", topic);
  return 0;
}
static int on_write(void *u, uint32_t offset, const uint8_t *d, size_t len) {
  (void)u;
  if (offset + len > sizeof file) return -1;
  memcpy(file + offset, d, len);
  return 0;
}
static size_t read_bytes; /* bytes read back through `read` since last reset */
static int on_read(void *u, uint32_t offset, uint8_t *d, size_t len) {
  (void)u;
  read_bytes += len;
  memcpy(d, file + offset, len);
  return 0;
}
static uint32_t on_now(void *u) {
  (void)u;
  return clock_ms;
}
static int on_begin(void *u, const mqimg_rx_info *info) {
  (void)u;
  (void)info;
  return refuse_in_begin;
}
static int on_complete(void *u, const mqimg_rx_info *info) {
  (void)u;
  (void)info;
  completes++;
  return 0;
}
static void on_failed(void *u, const mqimg_rx_info *info, mqimg_rx_code code) {
  (void)u;
  (void)info;
  fails++;
  last_fail = code;
}
static void on_reject(void *u, mqimg_rx_code code, long index) {
  (void)u;
  (void)index;
  rejects[code]++;
}

static const char *last_status(void) { return status_count ? statuses[(status_count - 1) % 64] : ""; }
static const char *last_topic(void) { return status_count ? status_topics[(status_count - 1) % 64] : ""; }

static uint8_t state[MQIMG_RX_STATE_SIZE(8192, 128)];

static mqimg_rx *fresh(uint32_t max_size) {
  mqimg_rx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.rx_id = "rx-1a2b3c4d";
  cfg.max_size = max_size;
  cfg.publish = on_publish;
  cfg.write = on_write;
  cfg.read = on_read;
  cfg.now_ms = on_now;
  cfg.begin = on_begin;
  cfg.complete = on_complete;
  cfg.failed = on_failed;
  cfg.reject = on_reject;
  memset(file, 0, sizeof file);
  memset(rejects, 0, sizeof rejects);
  status_count = completes = fails = last_fail = refuse_in_begin = 0;
  return mqimg_rx_init(state + 1, sizeof state - 1, 8192, 128, &cfg); /* + 1: an unaligned buffer */
}

static mqimg_rx_code msg(mqimg_rx *rx, const char *topic, const void *payload, size_t len) {
  return mqimg_rx_on_message(rx, topic, strlen(topic), (const uint8_t *)payload, len);
}
static mqimg_rx_code msg_s(mqimg_rx *rx, const char *topic, const char *json) {
  return msg(rx, topic, json, strlen(json));
}

static size_t from_hex(const char *hex, uint8_t *out) {
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
  return n;
}

static void base64(const uint8_t *in, size_t n, char *out) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    out[o++] = a[v >> 18];
    out[o++] = a[(v >> 12) & 63];
    out[o++] = i + 1 < n ? a[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? a[v & 63] : '=';
  }
  out[o] = 0;
}

/* A transfer built like a sender builds it (PROTOCOL.md 6.2), for tests beyond the fixed vectors. */
typedef struct {
  const uint8_t *data;
  uint32_t size, chunk_bytes, chunks, per_page, page_count;
  uint8_t hashes[16 * 8192];
  char manifest[8192];
} transfer;

static void build(transfer *t, const uint8_t *data, uint32_t size, uint32_t chunk_bytes, const char *id,
                  const char *extra) {
  uint8_t digest[32], listed[16 * 128];
  char pages[4 * 16 * 128 / 3 + 8], sha_hex[65];
  t->data = data;
  t->size = size;
  t->chunk_bytes = chunk_bytes;
  t->chunks = (size + chunk_bytes - 1) / chunk_bytes;
  t->per_page = chunk_bytes / 16;
  t->page_count = (t->chunks + t->per_page - 1) / t->per_page;
  for (uint32_t n = 0; n < t->chunks; n++) {
    uint32_t len = n == t->chunks - 1 ? size - n * chunk_bytes : chunk_bytes;
    SHA256(data + n * chunk_bytes, len, digest);
    memcpy(t->hashes + 16 * n, digest, 16);
  }
  for (uint32_t j = 0; j < t->page_count; j++) {
    uint32_t first = j * t->per_page, count = t->chunks - first < t->per_page ? t->chunks - first : t->per_page;
    SHA256(t->hashes + 16 * first, 16 * count, digest);
    memcpy(listed + 16 * j, digest, 16);
  }
  base64(listed, 16 * t->page_count, pages);
  SHA256(data, size, digest);
  for (int i = 0; i < 32; i++) sprintf(sha_hex + 2 * i, "%02x", digest[i]);
  snprintf(t->manifest, sizeof t->manifest,
           "{\"mqimg\":3,\"id\":\"%s\",\"nonce\":\"404142434445464748494a4b4c4d4e4f\",\"name\":\"t.bin\","
           "\"type\":\"image/png\",\"size\":%u,\"chunkBytes\":%u,\"chunks\":%u,\"sha256\":\"%s\",\"pages\":\"%s\","
           "\"width\":10,\"height\":5,\"createdMs\":1767225600000%s}",
           id, size, chunk_bytes, t->chunks, sha_hex, pages, extra ? extra : "");
}

static void send_page(mqimg_rx *rx, const transfer *t, const char *id, uint32_t j) {
  char topic[128];
  uint32_t first = j * t->per_page, count = t->chunks - first < t->per_page ? t->chunks - first : t->per_page;
  snprintf(topic, sizeof topic, "cam/1/mqimg/%s/h/%u", id, j);
  msg(rx, topic, t->hashes + 16 * first, 16 * count);
}
static mqimg_rx_code send_chunk(mqimg_rx *rx, const transfer *t, const char *id, uint32_t n) {
  char topic[128];
  uint32_t len = n == t->chunks - 1 ? t->size - n * t->chunk_bytes : t->chunk_bytes;
  snprintf(topic, sizeof topic, "cam/1/mqimg/%s/c/%u", id, n);
  return msg(rx, topic, t->data + n * t->chunk_bytes, len);
}

/* ---- section 11 ---- */
static const char *VECTOR_MANIFEST =
    "{\"mqimg\":3,\"id\":\"0123456789abcdef\",\"nonce\":\"404142434445464748494a4b4c4d4e4f\",\"name\":\"vector.bin\","
    "\"type\":\"image/png\",\"size\":200,\"chunkBytes\":64,\"chunks\":4,\"sha256\":"
    "\"1901da1c9f699b48f6b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f\",\"pages\":\"l+fci+tipV4nTO1v5HgaRg==\","
    "\"width\":10,\"height\":5,\"createdMs\":1767225600000}";
static const char *VECTOR_PAGE = "fdeab9acf3710362bd2658cdc9a29e8f9afaeef005e286957ee9a18a2481a75cc39e13bbb05726a3c0"
                                 "747d3ca54c27e32d16485c5853ff9f54e013685aff6c7a";
#define T_ID "cam/1/mqimg/0123456789abcdef"
/* Protocol 3's proof of receipt for the section 11 transfer (npx tsx scripts/protocol-vectors.ts: chunkDigests,
 * chunkTags, accumulator, proof; namedReceiver.proof for the receiver id k-68894d58f18f2c34). */
#ifdef MQIMG_RX_TEST_INTERNALS
static const char *VECTOR_DIGESTS[4] = {"fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108",
                                        "9afaeef005e286957ee9a18a2481a75c7fc7ba74bae8de50ffa6127b12a62cae",
                                        "c39e13bbb05726a3c0747d3ca54c27e3f86bc10a1d3754cd031bd1ca7256c8ed",
                                        "2d16485c5853ff9f54e013685aff6c7a2147b9a6a934e02bcbdff83e507e0c6e"};
static const char *VECTOR_TAGS[4] = {"9d2690cab75b5ebe50d5b365b9ff5f37976ce6e35d6bb7a1a7733d50026dbb57",
                                     "bfc085d67a9f92c661ec10f8bf3f47f85ff3dab6386264fc88ff103e64d9957a",
                                     "28c3f415e3996dad6243ec43fa0498f2118076fdb75b57e651aeef0ce1b42797",
                                     "14ceeb6868caa068c62c5c36e69c98aa14df90e6423932e783f9f1542c9bfeee"};
static const char *VECTOR_ACC = "1eeb0a61469701bd955613e81a581897cdc0da4e906bb65cfddb3336ab9bf754";
#endif
#define VECTOR_PROOF "6b8b8fadd6190b9663e9b0f1a3eddb60601311f0c28189a1597838f550e3544b"
#define VECTOR_NAMED_PROOF "ca7ce75213ee2259b0f38d8494dc819fd8f576592bed49d121cb364cc2d7c32e"

/* The chunk digests and tags of the vector (the library's rx_chunk_tag), and their XOR, the accumulator. */
static void test_vector_tags(void) {
#ifdef MQIMG_RX_TEST_INTERNALS
  uint8_t data[200], digest[32], want[32], tag[32], acc[32] = {0}, nonce[16];
  rx_sha256 scratch;
  for (int i = 0; i < 200; i++) data[i] = (uint8_t)i;
  from_hex("404142434445464748494a4b4c4d4e4f", nonce);
  for (uint32_t n = 0; n < 4; n++) {
    SHA256(data + 64 * n, n == 3 ? 8 : 64, digest);
    from_hex(VECTOR_DIGESTS[n], want);
    CHECK(memcmp(digest, want, 32) == 0);
    rx_chunk_tag(&scratch, nonce, n, digest, tag);
    from_hex(VECTOR_TAGS[n], want);
    CHECK(memcmp(tag, want, 32) == 0);
    for (int i = 0; i < 32; i++) acc[i] ^= tag[i];
  }
  from_hex(VECTOR_ACC, want);
  CHECK(memcmp(acc, want, 32) == 0);
  /* the index is bound: chunk 0's digest under index 1 is another tag */
  from_hex(VECTOR_DIGESTS[0], digest);
  rx_chunk_tag(&scratch, nonce, 1, digest, tag);
  from_hex(VECTOR_TAGS[0], want);
  CHECK(memcmp(tag, want, 32) != 0);
#endif
}

static void test_vector(void) {
  uint8_t data[200], page[64];
  for (int i = 0; i < 200; i++) data[i] = (uint8_t)i;
  from_hex(VECTOR_PAGE, page);
  mqimg_rx *rx = fresh(0);
  CHECK(rx != NULL);
  CHECK(msg_s(rx, T_ID "/m", VECTOR_MANIFEST) == MQIMG_RX_OK);
  CHECK_STR(last_topic(), T_ID "/r");
  CHECK_STR(last_status(), "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"receiving\",\"next\":0,\"high\":-1,\"win\":768}");
  CHECK(msg(rx, T_ID "/h/0", page, 64) == MQIMG_RX_OK);
  CHECK(msg(rx, T_ID "/c/0", data, 64) == MQIMG_RX_OK);
  CHECK(status_count == 1); /* k = 16: no status yet */
  CHECK(msg(rx, T_ID "/c/2", data + 128, 64) == MQIMG_RX_OK);
  /* a gap: at once, and exactly the vector's status */
  CHECK_STR(last_status(),
            "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"receiving\",\"next\":1,\"high\":2,\"win\":768,\"missing\":[[1,1]]}");
  int before = status_count;
  clock_ms += 50;
  CHECK(msg(rx, T_ID "/c/1", data + 64, 64) == MQIMG_RX_OK);
  CHECK(status_count == before + 1); /* a repair is acknowledged at once */
  CHECK_STR(last_status(), "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"receiving\",\"next\":3,\"high\":2,\"win\":768}");
  CHECK(msg(rx, T_ID "/c/3", data + 192, 8) == MQIMG_RX_OK);
  CHECK_STR(last_status(), "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"complete\",\"next\":4,\"proof\":"
                           "\"" VECTOR_PROOF "\"}");
  CHECK(completes == 1 && memcmp(file, data, 200) == 0);
  CHECK(!mqimg_rx_busy(rx));
  /* the manifest again: the final status again; a chunk again: at most every 500 ms */
  before = status_count;
  msg_s(rx, T_ID "/m", VECTOR_MANIFEST);
  CHECK(status_count == before + 1 && strstr(last_status(), "\"complete\"") != NULL);
  msg(rx, T_ID "/c/3", data + 192, 8);
  CHECK(status_count == before + 1);
  clock_ms += 600;
  msg(rx, T_ID "/c/3", data + 192, 8);
  CHECK(status_count == before + 2);
}

/* The proof binds the receiver id, and comes out the same in any order: the vector under the id of its named
 * receiver (its proof), chunks in reverse order before the page. */
static void test_vector_other_id_any_order(void) {
  uint8_t data[200], page[64];
  static uint8_t st[MQIMG_RX_STATE_SIZE(8, 1)];
  for (int i = 0; i < 200; i++) data[i] = (uint8_t)i;
  from_hex(VECTOR_PAGE, page);
  fresh(0);
  mqimg_rx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.rx_id = "k-68894d58f18f2c34";
  cfg.publish = on_publish;
  cfg.write = on_write;
  cfg.read = on_read;
  cfg.now_ms = on_now;
  cfg.complete = on_complete;
  mqimg_rx *rx = mqimg_rx_init(st, sizeof st, 8, 1, &cfg);
  CHECK(rx != NULL);
  CHECK(msg_s(rx, T_ID "/m", VECTOR_MANIFEST) == MQIMG_RX_OK);
  CHECK(msg(rx, T_ID "/c/3", data + 192, 8) == MQIMG_RX_OK);
  for (int n = 2; n >= 0; n--) {
    char topic[64];
    snprintf(topic, sizeof topic, T_ID "/c/%d", n);
    CHECK(msg(rx, topic, data + 64 * n, 64) == MQIMG_RX_OK);
  }
  CHECK(msg(rx, T_ID "/h/0", page, 64) == MQIMG_RX_OK);
  for (int polls = 0; mqimg_rx_work_left(rx) && polls < 10; polls++) mqimg_rx_poll(rx);
  CHECK_STR(last_status(), "{\"rx\":\"k-68894d58f18f2c34\",\"state\":\"complete\",\"next\":4,\"proof\":"
                           "\"" VECTOR_NAMED_PROOF "\"}");
  CHECK(completes == 1 && memcmp(file, data, 200) == 0);
}

static void test_two_pages_and_early_chunks(void) {
  uint8_t data[300];
  for (int i = 0; i < 300; i++) data[i] = (uint8_t)i;
  static transfer t;
  build(&t, data, 300, 64, "0123456789abcdef", NULL);
  /* the document's two-page vector */
  CHECK(strstr(t.manifest, "\"pages\":\"40TtARS9yu/xLqCUzSBx9n0zK2+2WkI20xUoWGZxYjU=\"") != NULL);
  CHECK(strstr(t.manifest, "7728ae2f2c36e2aaafbe79ca14c87ae2f89e7c88c4390ecbbf82dce88706958d") != NULL);
  mqimg_rx *rx = fresh(0);
  CHECK(msg_s(rx, T_ID "/m", t.manifest) == MQIMG_RX_OK);
  /* chunks before their pages: set aside (written, unchecked), not listed as missing */
  for (uint32_t n = 4; n > 0; n--) send_chunk(rx, &t, "0123456789abcdef", n);
  clock_ms += 11;
  mqimg_rx_poll(rx);
  CHECK(strstr(last_status(), "\"wantPages\":[0,1]") != NULL);
  CHECK(strstr(last_status(), "missing") == NULL);
  /* asked again only after 300 ms */
  int quiet = status_count;
  clock_ms += 100;
  mqimg_rx_poll(rx);
  CHECK(status_count == quiet);
  send_page(rx, &t, "0123456789abcdef", 1);
  send_page(rx, &t, "0123456789abcdef", 0);
  CHECK(strstr(last_status(), "\"next\":0,\"high\":4") != NULL);
  /* the pages' calls checked MQIMG_RX_WORK_PER_CALL chunks set aside each (page 1 holds chunk 4 only), polls the
   * rest */
  int polls = 0;
  while (mqimg_rx_work_left(rx) && polls < 10) {
    mqimg_rx_poll(rx);
    polls++;
  }
  CHECK(polls == (3 + MQIMG_RX_WORK_PER_CALL - 1) / MQIMG_RX_WORK_PER_CALL - 1);
  CHECK(completes == 0 && strstr(last_status(), "\"next\":0,\"high\":4") != NULL);
  /* chunk 0 fills the gap: nothing to catch up (the proof grew as each chunk was stored), complete at once */
  read_bytes = 0;
  send_chunk(rx, &t, "0123456789abcdef", 0);
  CHECK(read_bytes == 0 && !mqimg_rx_work_left(rx));
  CHECK(completes == 1 && memcmp(file, data, 300) == 0);
  CHECK(strstr(last_status(), "\"state\":\"complete\"") != NULL);
  mqimg_rx_stats s;
  mqimg_rx_get_stats(rx, &s);
  CHECK(s.chunks_pending == 4 && s.chunks_stored == 5);
}

static void test_forged(void) {
  uint8_t data[200], page[64], bad[64];
  for (int i = 0; i < 200; i++) data[i] = (uint8_t)i;
  from_hex(VECTOR_PAGE, page);
  mqimg_rx *rx = fresh(0);
  msg_s(rx, T_ID "/m", VECTOR_MANIFEST);
  memcpy(bad, page, 64);
  bad[5] ^= 1;
  CHECK(msg(rx, T_ID "/h/0", bad, 64) == MQIMG_RX_PAGE_HASH_MISMATCH);
  CHECK(msg(rx, T_ID "/h/1", page, 64) == MQIMG_RX_PAGE_HASH_MISMATCH);
  CHECK(msg(rx, T_ID "/h/0", page, 63) == MQIMG_RX_PAGE_HASH_MISMATCH);
  CHECK(msg(rx, T_ID "/h/0", page, 64) == MQIMG_RX_OK);
  memcpy(bad, data + 64, 64);
  bad[0] ^= 0x80;
  CHECK(msg(rx, T_ID "/c/1", bad, 64) == MQIMG_RX_CHUNK_HASH_MISMATCH);
  CHECK(msg(rx, T_ID "/c/4", data, 64) == MQIMG_RX_INDEX_OUT_OF_RANGE);
  CHECK(msg(rx, T_ID "/c/3", data, 64) == MQIMG_RX_WRONG_LENGTH);
  CHECK(msg(rx, T_ID "/c/01", data + 64, 64) == MQIMG_RX_OK); /* leading zero: not a chunk topic, ignored */
  CHECK(rejects[MQIMG_RX_CHUNK_HASH_MISMATCH] == 1 && rejects[MQIMG_RX_PAGE_HASH_MISMATCH] == 3);
  for (int n = 0; n < 4; n++) msg(rx, n == 3 ? T_ID "/c/3" : n == 2 ? T_ID "/c/2" : n ? T_ID "/c/1" : T_ID "/c/0",
                                  data + 64 * n, n == 3 ? 8 : 64);
  CHECK(completes == 1 && memcmp(file, data, 200) == 0);
  /* a forged chunk set aside before its page is dropped when the page comes, and the genuine copy is taken */
  static transfer t;
  build(&t, data, 200, 64, "00000000000000aa", NULL);
  msg_s(rx, "cam/1/mqimg/00000000000000aa/m", t.manifest);
  msg(rx, "cam/1/mqimg/00000000000000aa/c/1", bad, 64);
  send_page(rx, &t, "00000000000000aa", 0);
  CHECK(rejects[MQIMG_RX_CHUNK_HASH_MISMATCH] == 2);
  for (uint32_t n = 0; n < 4; n++) send_chunk(rx, &t, "00000000000000aa", n);
  CHECK(completes == 2 && memcmp(file, data, 200) == 0);
}

static void test_manifests(void) {
  mqimg_rx *rx = fresh(0);
  char m[1024];
  CHECK(msg_s(rx, T_ID "/m", "{") == MQIMG_RX_NOT_JSON);
  CHECK(msg_s(rx, T_ID "/m", "[1]") == MQIMG_RX_NOT_JSON);
  CHECK(msg_s(rx, T_ID "/m", "{\"mqimg\":1,\"id\":\"0123456789abcdef\"}") == MQIMG_RX_UNSUPPORTED_VERSION);
  /* protocol 2, otherwise the very vector: another version (dropped, as the Node receiver does: no status) */
  snprintf(m, sizeof m, "%s", VECTOR_MANIFEST);
  memcpy(strstr(m, "\"mqimg\":3"), "\"mqimg\":2", 9);
  CHECK(msg_s(rx, T_ID "/m", m) == MQIMG_RX_UNSUPPORTED_VERSION);
  CHECK(status_count == 0 && !mqimg_rx_busy(rx));
  /* epk (named receivers): 44 characters of base64, or the manifest fails the schema */
  snprintf(m, sizeof m, "%.*s,\"epk\":\"ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx=\"}", (int)strlen(VECTOR_MANIFEST) - 1,
           VECTOR_MANIFEST);
  CHECK(msg_s(rx, T_ID "/m", m) == MQIMG_RX_INVALID_MANIFEST);
  snprintf(m, sizeof m, "%.*s,\"epk\":\"ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0\"}", (int)strlen(VECTOR_MANIFEST) - 1,
           VECTOR_MANIFEST);
  CHECK(msg_s(rx, T_ID "/m", m) == MQIMG_RX_INVALID_MANIFEST);
  snprintf(m, sizeof m, "%.*s,\"epk\":7}", (int)strlen(VECTOR_MANIFEST) - 1, VECTOR_MANIFEST);
  CHECK(msg_s(rx, T_ID "/m", m) == MQIMG_RX_INVALID_MANIFEST);
  CHECK(status_count == 0 && !mqimg_rx_busy(rx));
  CHECK(msg_s(rx, "cam/1/mqimg/0123456789abcdee/m", VECTOR_MANIFEST) == MQIMG_RX_INVALID_MANIFEST);
  snprintf(m, sizeof m, "%s", VECTOR_MANIFEST);
  memcpy(strstr(m, "\"chunks\":4"), "\"chunks\":5", 10);
  CHECK(msg_s(rx, T_ID "/m", m) == MQIMG_RX_INVALID_MANIFEST);
  snprintf(m, sizeof m, "%s", VECTOR_MANIFEST);
  memcpy(strstr(m, "\"type\":\"image/png\""), "\"type\":\"Image/png\"", 18);
  CHECK(msg_s(rx, T_ID "/m", m) == MQIMG_RX_INVALID_MANIFEST);
  /* unknown fields of any shape are ignored; escapes and spacing carry no meaning */
  snprintf(m, sizeof m, "%.*s,\"x\":{\"a\":[1,2.5e3,null,true,{\"b\":\"\\u00e9\\ud83d\\ude00\"}]}, \"y\" : -0.5 }",
           (int)strlen(VECTOR_MANIFEST) - 1, VECTOR_MANIFEST);
  CHECK(msg_s(rx, T_ID "/m", m) == MQIMG_RX_OK);
  CHECK(status_count == 1 && fails == 0);
  CHECK(rejects[MQIMG_RX_NOT_JSON] == 2 && rejects[MQIMG_RX_INVALID_MANIFEST] == 6 && status_count == 1);
  CHECK(rejects[MQIMG_RX_UNSUPPORTED_VERSION] == 2);
  /* a valid epk is accepted (this receiver has no identity: its statuses stay in clear), and the transfer runs */
  rx = fresh(0);
  snprintf(m, sizeof m, "%.*s,\"epk\":\"ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0=\"}", (int)strlen(VECTOR_MANIFEST) - 1,
           VECTOR_MANIFEST);
  CHECK(msg_s(rx, T_ID "/m", m) == MQIMG_RX_OK);
  CHECK_STR(last_status(), "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"receiving\",\"next\":0,\"high\":-1,\"win\":768}");
  /* sealed: refused as encrypted, with a status (not final) */
  rx = fresh(0);
  CHECK(msg_s(rx, T_ID "/m",
              "{\"mqimg\":3,\"id\":\"0123456789abcdef\",\"size\":200,\"chunkBytes\":64,\"chunks\":4,\"createdMs\":1,"
              "\"enc\":{\"alg\":\"aes-256-gcm\",\"kid\":\"51a7f15f24a587bc\",\"salt\":\"oKGi\",\"meta\":\"zN3i\"}}") ==
        MQIMG_RX_ENCRYPTED);
  CHECK_STR(last_status(), "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"failed\",\"reason\":\"encrypted\"}");
  /* too large: final, and repeated for the manifest */
  rx = fresh(100);
  CHECK(msg_s(rx, T_ID "/m", VECTOR_MANIFEST) == MQIMG_RX_TOO_LARGE);
  CHECK_STR(last_status(), "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"failed\",\"reason\":\"too_large\"}");
  msg_s(rx, T_ID "/m", VECTOR_MANIFEST);
  CHECK(status_count == 2 && strstr(last_status(), "too_large") != NULL);
  /* refused by the application */
  rx = fresh(0);
  refuse_in_begin = MQIMG_RX_NOT_AN_IMAGE;
  CHECK(msg_s(rx, T_ID "/m", VECTOR_MANIFEST) == MQIMG_RX_NOT_AN_IMAGE);
  CHECK(strstr(last_status(), "not_an_image") != NULL && !mqimg_rx_busy(rx));
  /* retained copy: taken as the manifest with the id of its field */
  rx = fresh(0);
  CHECK(msg_s(rx, "cam/1/mqimg/retained", VECTOR_MANIFEST) == MQIMG_RX_OK);
  CHECK(mqimg_rx_busy(rx) && strcmp(last_topic(), T_ID "/r") == 0);
  /* a sender topic longer than MQIMG_RX_MAX_TOPIC: refused, no status (none could be addressed) */
  {
    char topic[400];
    rx = fresh(0);
    memset(topic, 'a', 200);
    snprintf(topic + 200, sizeof topic - 200, "/mqimg/0123456789abcdef/m");
    CHECK(msg_s(rx, topic, VECTOR_MANIFEST) == MQIMG_RX_TOO_LARGE && status_count == 0 && !mqimg_rx_busy(rx));
  }
  /* empty payloads (cleared retained messages) are ignored */
  CHECK(msg(rx, T_ID "/m", "", 0) == MQIMG_RX_OK);
}

static void test_raw_pixels(void) {
  /* 3x2 rgb565le, the document's example bytes */
  static const uint8_t px[12] = {0x00, 0xf8, 0xe0, 0x07, 0x1f, 0x00, 0xff, 0xff, 0x00, 0x00, 0x10, 0x84};
  static transfer t;
  build(&t, px, 12, 64, "00000000000000bb", ",\"pixelFormat\":\"rgb565le\",\"stride\":6");
  /* build() says 10x5: fix the geometry to 3x2 */
  char *w = strstr(t.manifest, "\"width\":10,\"height\":5");
  memcpy(w, "\"width\":3, \"height\":2", 21);
  mqimg_rx *rx = fresh(0);
  CHECK(msg_s(rx, "cam/1/mqimg/00000000000000bb/m", t.manifest) == MQIMG_RX_OK);
  send_page(rx, &t, "00000000000000bb", 0);
  send_chunk(rx, &t, "00000000000000bb", 0);
  CHECK(completes == 1 && memcmp(file, px, 12) == 0);
  /* a stride that is not the format's: refused */
  build(&t, px, 12, 64, "00000000000000cc", ",\"pixelFormat\":\"rgb565le\",\"stride\":4");
  w = strstr(t.manifest, "\"width\":10,\"height\":5");
  memcpy(w, "\"width\":3, \"height\":3", 21);
  CHECK(msg_s(rx, "cam/1/mqimg/00000000000000cc/m", t.manifest) == MQIMG_RX_NOT_AN_IMAGE);
  /* rows touched by a chunk */
  mqimg_rx_info info = {0};
  info.pixel_format = MQIMG_RX_PX_RGB565BE;
  info.width = 320;
  info.height = 240;
  info.stride = mqimg_rx_stride(info.pixel_format, 320);
  uint32_t first, rows;
  CHECK(mqimg_rx_rows(&info, 1024, 1024, &first, &rows) == 0 && first == 1 && rows == 3);
  CHECK(mqimg_rx_stride(MQIMG_RX_PX_GRAY4, 295) == 148 && mqimg_rx_stride(MQIMG_RX_PX_MONO1, 296) == 37);
}

static void test_timers_and_admission(void) {
  static uint8_t data[64 * 40];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
  static transfer t, u;
  build(&t, data, sizeof data, 64, "00000000000000d1", NULL);
  build(&u, data, sizeof data, 64, "00000000000000d2", ",\"supersede\":true");
  memcpy(strstr(u.manifest, "1767225600000"), "1767225600001", 13);
  mqimg_rx *rx = fresh(0);
  msg_s(rx, "cam/1/mqimg/00000000000000d1/m", t.manifest);
  /* no page after 100 ms: asked for */
  clock_ms += 100;
  mqimg_rx_poll(rx);
  CHECK(strstr(last_status(), "\"wantPages\":[0,1,2,3,4,5,6,7,8,9]") != NULL);
  for (uint32_t j = 0; j < t.page_count; j++) send_page(rx, &t, "00000000000000d1", j);
  int before = status_count;
  send_chunk(rx, &t, "00000000000000d1", 0);
  mqimg_rx_poll(rx);
  CHECK(status_count == before); /* not yet: the flush waits a few ms to gather chunks */
  clock_ms += 10;
  mqimg_rx_poll(rx);
  CHECK(status_count == before + 1); /* within 25 ms of the chunk */
  clock_ms += 499;
  mqimg_rx_poll(rx);
  CHECK(status_count == before + 1);
  clock_ms += 1;
  mqimg_rx_poll(rx);
  CHECK(status_count == before + 2); /* the heartbeat */
  /* missing chunks: asked when first seen, again only after R = 600 ms */
  send_chunk(rx, &t, "00000000000000d1", 5);
  CHECK(strstr(last_status(), "\"missing\":[[1,4]]") != NULL);
  before = status_count;
  clock_ms += 300;
  mqimg_rx_poll(rx);
  CHECK(status_count == before);
  clock_ms += 250;
  mqimg_rx_poll(rx); /* the heartbeat, without the range asked 550 ms ago */
  CHECK(status_count == before + 1 && strstr(last_status(), "missing") == NULL);
  clock_ms += 50;
  send_chunk(rx, &t, "00000000000000d1", 7); /* a new gap: [6,6] asked, [1,4] again (600 ms) */
  CHECK(strstr(last_status(), "\"missing\":[[1,4],[6,6]]") != NULL);
  /* another transfer while this one is busy: try again later */
  CHECK(msg_s(rx, "cam/1/mqimg/00000000000000d3/m", VECTOR_MANIFEST) != MQIMG_RX_OK); /* id differs from topic */
  static transfer v;
  build(&v, data, 200, 64, "00000000000000d3", NULL);
  CHECK(msg_s(rx, "cam/1/mqimg/00000000000000d3/m", v.manifest) == MQIMG_RX_TOO_MANY_TRANSFERS);
  CHECK_STR(last_status(), "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"failed\",\"reason\":\"too_many_transfers\"}");
  /* a newer image that supersedes it: the old one ends as superseded */
  CHECK(msg_s(rx, "cam/1/mqimg/00000000000000d2/m", u.manifest) == MQIMG_RX_OK);
  CHECK(last_fail == MQIMG_RX_SUPERSEDED && status_count >= 2);
  CHECK(strstr(statuses[(status_count - 2) % 64], "superseded") != NULL);
  /* idle for 2 s: given up to make room */
  clock_ms += 2000;
  CHECK(msg_s(rx, "cam/1/mqimg/00000000000000d3/m", v.manifest) == MQIMG_RX_OK);
  CHECK(last_fail == MQIMG_RX_TIMEOUT);
  /* nothing for the timeout: failed, timeout */
  clock_ms += 30000;
  mqimg_rx_poll(rx);
  CHECK(!mqimg_rx_busy(rx) && strstr(last_status(), "timeout") != NULL);
  /* a chunk of an unknown transfer: want-manifest, once a second */
  before = status_count;
  send_chunk(rx, &t, "00000000000000e1", 0);
  send_chunk(rx, &t, "00000000000000e1", 1);
  CHECK(status_count == before + 1);
  CHECK_STR(last_status(), "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"want-manifest\"}");
}

/* Protocol 3: every chunk is checked against its hash page (which the manifest lists), and the file's SHA-256 is
 * not computed again (firmware/README.md): a manifest whose `sha256` contradicts its pages still completes, with
 * the proof of the bytes held, which is what the sender checks. */
static void test_file_hash_not_recomputed(void) {
  static uint8_t data[200];
  static transfer t;
  for (int i = 0; i < 200; i++) data[i] = (uint8_t)i;
  build(&t, data, 200, 64, "0123456789abcdef", NULL);
  char *sha = strstr(t.manifest, "\"sha256\":\"") + 10;
  sha[0] = sha[0] == '0' ? '1' : '0';
  mqimg_rx *rx = fresh(0);
  msg_s(rx, T_ID "/m", t.manifest);
  send_page(rx, &t, "0123456789abcdef", 0);
  read_bytes = 0;
  for (uint32_t n = 0; n < 4; n++) send_chunk(rx, &t, "0123456789abcdef", n);
  CHECK(read_bytes == 0 && completes == 1 && fails == 0 && memcmp(file, data, 200) == 0);
  CHECK_STR(last_status(), "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"complete\",\"next\":4,\"proof\":"
                           "\"" VECTOR_PROOF "\"}");
}

/* Feeds `len` bytes as esp-mqtt does: pieces of `piece` bytes, the topic with the first one only. */
static mqimg_rx_code pieces(mqimg_rx *rx, const char *topic, const uint8_t *data, size_t len, size_t piece) {
  mqimg_rx_code last = MQIMG_RX_OK;
  for (size_t off = 0; off < len; off += piece) {
    size_t n = len - off < piece ? len - off : piece;
    last = mqimg_rx_on_message_part(rx, off ? NULL : topic, off ? 0 : strlen(topic), data + off, n, off, len);
  }
  return last;
}

static void test_pieces(void) {
  uint8_t data[200], page[64], bad[64];
  for (int i = 0; i < 200; i++) data[i] = (uint8_t)i;
  from_hex(VECTOR_PAGE, page);
  mqimg_rx *rx = fresh(0);
  /* a manifest in pieces is refused; whole, it is taken */
  CHECK(pieces(rx, T_ID "/m", (const uint8_t *)VECTOR_MANIFEST, strlen(VECTOR_MANIFEST), 100) == MQIMG_RX_OK);
  CHECK(!mqimg_rx_busy(rx) && rejects[MQIMG_RX_NOT_JSON] == 1);
  msg_s(rx, T_ID "/m", VECTOR_MANIFEST);
  CHECK(mqimg_rx_busy(rx));
  /* chunk 2 before its page, in pieces: set aside */
  CHECK(pieces(rx, T_ID "/c/2", data + 128, 64, 7) == MQIMG_RX_OK);
  /* the page in pieces: held, and chunk 2 checked */
  CHECK(pieces(rx, T_ID "/h/0", page, 64, 10) == MQIMG_RX_OK);
  CHECK(strstr(last_status(), "\"next\":0,\"high\":2") != NULL); /* chunk 2 held: a gap, reported at once */
  /* a forged chunk in pieces: refused when its last piece is in */
  memcpy(bad, data + 64, 64);
  bad[63] ^= 1;
  CHECK(pieces(rx, T_ID "/c/1", bad, 64, 16) == MQIMG_RX_CHUNK_HASH_MISMATCH);
  /* a piece out of sequence: that copy is lost */
  CHECK(mqimg_rx_on_message_part(rx, T_ID "/c/1", strlen(T_ID "/c/1"), data + 64, 16, 0, 64) == MQIMG_RX_OK);
  CHECK(mqimg_rx_on_message_part(rx, NULL, 0, data + 96, 16, 32, 64) == MQIMG_RX_WRONG_LENGTH);
  CHECK(mqimg_rx_on_message_part(rx, NULL, 0, data + 112, 16, 48, 64) == MQIMG_RX_OK); /* nothing in progress */
  /* a wrong total */
  CHECK(mqimg_rx_on_message_part(rx, T_ID "/c/1", strlen(T_ID "/c/1"), data + 64, 16, 0, 65) == MQIMG_RX_WRONG_LENGTH);
  CHECK(pieces(rx, T_ID "/c/0", data, 64, 64) == MQIMG_RX_OK); /* one piece: a whole message */
  CHECK(pieces(rx, T_ID "/c/1", data + 64, 64, 5) == MQIMG_RX_OK);
  CHECK(pieces(rx, T_ID "/c/3", data + 192, 8, 3) == MQIMG_RX_OK);
  CHECK_STR(last_status(), "{\"rx\":\"rx-1a2b3c4d\",\"state\":\"complete\",\"next\":4,\"proof\":"
                           "\"" VECTOR_PROOF "\"}");
  CHECK(completes == 1 && memcmp(file, data, 200) == 0);
  /* pieces of a finished transfer: its final status again */
  clock_ms += 600;
  int before = status_count;
  pieces(rx, T_ID "/c/1", data + 64, 64, 5);
  CHECK(status_count == before + 1 && strstr(last_status(), "complete") != NULL);
}

/* Bounded work per call (issue 22): a page that releases chunks set aside before it is caught up a few chunks per
 * call, never in one; a gap that fills costs nothing more (protocol 3); every chunk and the proof still come right. */
static void test_bounded_work(void) {
  enum { CHUNK = 256, CHUNKS = 40, SIZE = CHUNK * CHUNKS - 100 };
  static uint8_t data[SIZE];
  for (int i = 0; i < SIZE; i++) data[i] = (uint8_t)(i * 7 + (i >> 8));
  static transfer t;
  build(&t, data, SIZE, CHUNK, "0123456789abcdef", NULL);
  for (int late_page = 0; late_page < 2; late_page++) {
    mqimg_rx *rx = fresh(0);
    CHECK(msg_s(rx, T_ID "/m", t.manifest) == MQIMG_RX_OK);
    if (!late_page)
      for (uint32_t j = 0; j < t.page_count; j++) send_page(rx, &t, "0123456789abcdef", j);
    size_t most = 0;
    int calls = 0;
    /* chunk 0 held back; with late_page, the page comes after every other chunk */
    for (uint32_t n = 1; n < CHUNKS; n++) {
      read_bytes = 0;
      send_chunk(rx, &t, "0123456789abcdef", n);
      if (read_bytes > most) most = read_bytes;
      clock_ms += 1;
      mqimg_rx_poll(rx);
    }
    CHECK(most == 0 && completes == 0);
    if (late_page) {
      for (uint32_t j = 0; j < t.page_count; j++) {
        read_bytes = 0;
        send_page(rx, &t, "0123456789abcdef", j);
        if (read_bytes > most) most = read_bytes;
      }
    }
    read_bytes = 0;
    send_chunk(rx, &t, "0123456789abcdef", 0);
    if (read_bytes > most) most = read_bytes;
    while (mqimg_rx_work_left(rx) && calls < 1000) {
      read_bytes = 0;
      mqimg_rx_poll(rx);
      if (read_bytes > most) most = read_bytes;
      calls++;
    }
    if (!late_page) {
      /* protocol 3: a gap that fills leaves nothing to catch up (the proof grew with each chunk stored); nothing is
       * read back, and the chunk that fills it completes the transfer in its own call */
      CHECK(most == 0 && calls == 0);
    } else {
      /* 39 chunks set aside before their page: each read back and checked once it comes, at most
       * MQIMG_RX_WORK_PER_CALL per call (the 3 pages' calls, chunk 0's, then polls) */
      CHECK(most > 0 && most <= (size_t)MQIMG_RX_WORK_PER_CALL * CHUNK);
      CHECK(calls >= (int)((CHUNKS - 1 - (t.page_count + 1) * MQIMG_RX_WORK_PER_CALL) / MQIMG_RX_WORK_PER_CALL));
    }
    CHECK(completes == 1 && fails == 0 && memcmp(file, data, SIZE) == 0);
    CHECK(strstr(last_status(), "\"state\":\"complete\"") != NULL);
  }
}

static void test_init_refusals(void) {
  static uint8_t small[300];
  mqimg_rx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.rx_id = "rx-1";
  cfg.publish = on_publish;
  cfg.write = on_write;
  cfg.read = on_read;
  cfg.now_ms = on_now;
  /* too small: the reason, with the size needed, in the buffer */
  CHECK(mqimg_rx_init(small, sizeof small, 150, 3, &cfg) == NULL);
  char want[120];
  snprintf(want, sizeof want, "mqimg_rx_init: a buffer of 300 bytes; %zu needed", mqimg_rx_state_size(150, 3));
  CHECK_STR((const char *)small, want);
  /* an application compiled with another MQIMG_RX_MAX_TOPIC (its options differ): refused, and said so */
  CHECK(mqimg_rx_init_checked(state, sizeof state, 150, 3, &cfg, MQIMG_RX_OPTS_CHECK + 1) == NULL);
  CHECK(strstr((const char *)state, "other options than the library") != NULL);
  CHECK(mqimg_rx_init_checked(state, sizeof state, 150, 3, &cfg, MQIMG_RX_OPTS_CHECK) != NULL);
  cfg.rx_id = "bad id";
  CHECK(mqimg_rx_init(state, sizeof state, 150, 3, &cfg) == NULL);
  CHECK(strstr((const char *)state, "rx_id") != NULL);
}

static void test_state_sizes(void) {
  struct {
    const char *what;
    uint32_t size, chunk_bytes;
  } cases[] = {{"320x240 rgb565 (153,600 B) in 1 KiB chunks", 320 * 240 * 2, 1024},
               {"800x480 rgb565 (768,000 B) in 4 KiB chunks", 800 * 480 * 2, 4096},
               {"1 MB JPEG (1,000,000 B) in 8 KiB chunks", 1000000, 8192}};
  for (unsigned i = 0; i < 3; i++) {
    uint32_t chunks = MQIMG_RX_CHUNKS(cases[i].size, cases[i].chunk_bytes);
    uint32_t pages = MQIMG_RX_PAGES(chunks, cases[i].chunk_bytes);
    size_t exact = mqimg_rx_state_size(chunks, pages);
    printf("state for %s: %u chunks, %u pages: %zu bytes (MQIMG_RX_STATE_SIZE %zu)\n", cases[i].what, chunks,
           pages, exact, (size_t)MQIMG_RX_STATE_SIZE(chunks, pages));
    CHECK(exact <= MQIMG_RX_STATE_SIZE(chunks, pages));
#ifndef MQIMG_RX_WITH_SODIUM /* signed manifests add a 4.3 KiB buffer for the signing text */
    if (i == 0) CHECK(exact < 8192);
#endif
  }
}

int main(void) {
  test_vector_tags();
  test_vector();
  test_vector_other_id_any_order();
  test_two_pages_and_early_chunks();
  test_forged();
  test_manifests();
  test_raw_pixels();
  test_timers_and_admission();
  test_file_hash_not_recomputed();
  test_pieces();
  test_bounded_work();
  test_init_refusals();
  test_state_sizes();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
