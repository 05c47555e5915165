/* Proves at run time that mqimg_rx allocates nothing after init, mbedTLS's SHA-256 included: this program
 * replaces malloc, calloc, realloc and free (the shared libmbedcrypto resolves to them too) and counts the calls
 * made while the library runs a whole transfer with early chunks, chunks in pieces, a forged chunk, repairs and a
 * repeated manifest. */
#include <stdio.h>
#include <string.h>
#include "mbedtls/sha256.h"
#include "mbedtls/version.h"
#include "mqimg_rx.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SHA256(d, n, out) mbedtls_sha256((d), (n), (out), 0)
#else
#define SHA256(d, n, out) mbedtls_sha256_ret((d), (n), (out), 0)
#endif

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static int counting;
static unsigned long allocations;

void *malloc(size_t n) {
  if (counting) allocations++;
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t m) {
  if (counting) allocations++;
  return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n) {
  if (counting) allocations++;
  return __libc_realloc(p, n);
}
void free(void *p) {
  if (counting && p) allocations++;
  __libc_free(p);
}

static uint8_t file[4096], data[4000], hashes[16 * 63];
static uint32_t clock_ms = 5;
static unsigned publishes, sealed_publishes;

static int on_publish(void *u, const char *t, const char *p, size_t n) {
  (void)u, (void)t;
  publishes++;
  if (n > 40 && memcmp(p, "{\"rx\":\"k-", 9) == 0 && memcmp(p + 27, "\"sealed\":\"", 10) == 0) sealed_publishes++;
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
static uint32_t on_now(void *u) {
  (void)u;
  return clock_ms;
}
static int completed;
static int on_complete(void *u, const mqimg_rx_info *i) {
  (void)u, (void)i;
  completed++;
  return 0;
}

static uint8_t state[MQIMG_RX_STATE_SIZE(64, 4)];

/* Receives the transfer of `manifest` (`seed`: as a named receiver, or NULL) with allocations counted: a chunk
 * before the manifest, a broken manifest, odd chunks before their pages, a forged chunk, chunks in pieces, repeats. */
static int receive(const char *manifest, const uint8_t *seed, uint32_t size, uint32_t cb, uint32_t chunks,
                   uint32_t per_page, uint32_t npages) {
  char topic[64];
  mqimg_rx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.rx_id = "rx-no-malloc";
  cfg.identity_seed = seed;
  cfg.publish = on_publish;
  cfg.write = on_write;
  cfg.read = on_read;
  cfg.now_ms = on_now;
  cfg.complete = on_complete;
  counting = 1; /* from mqimg_rx_init on (a named receiver derives its keys there) */
  mqimg_rx *rx = mqimg_rx_init(state, sizeof state, 64, 4, &cfg);
  if (!rx) {
    counting = 0;
    return -1;
  }
  const char *T = strstr(manifest, "00000000000000ab") ? "cam/1/mqimg/00000000000000ab"  /* the named run's id */
                                                       : "cam/1/mqimg/00000000000000aa";
  snprintf(topic, sizeof topic, "%s/c/3", T);
  mqimg_rx_on_message(rx, topic, strlen(topic), data, cb); /* before the manifest: want-manifest */
  snprintf(topic, sizeof topic, "%s/m", T);
  mqimg_rx_on_message(rx, topic, strlen(topic), (const uint8_t *)"{nope", 5);
  mqimg_rx_on_message(rx, topic, strlen(topic), (const uint8_t *)manifest, strlen(manifest));
  /* odd chunks first, before their pages (set aside), then the pages, then a forged and the even chunks */
  for (uint32_t n = 1; n < chunks; n += 2) {
    snprintf(topic, sizeof topic, "%s/c/%u", T, n);
    mqimg_rx_on_message(rx, topic, strlen(topic), data + n * cb, n == chunks - 1 ? size - n * cb : cb);
    clock_ms += 3;
    mqimg_rx_poll(rx);
  }
  for (uint32_t j = 0; j < npages; j++) {
    uint32_t count = chunks - j * per_page < per_page ? chunks - j * per_page : per_page;
    snprintf(topic, sizeof topic, "%s/h/%u", T, j);
    mqimg_rx_on_message(rx, topic, strlen(topic), hashes + 16 * j * per_page, 16 * count);
  }
  snprintf(topic, sizeof topic, "%s/c/0", T);
  mqimg_rx_on_message(rx, topic, strlen(topic), data + cb, cb); /* forged chunk 0 */
  for (uint32_t n = 0; n < chunks; n += 2) {
    uint32_t len = n == chunks - 1 ? size - n * cb : cb;
    snprintf(topic, sizeof topic, "%s/c/%u", T, n);
    if (n % 4 == 0) {
      mqimg_rx_on_message(rx, topic, strlen(topic), data + n * cb, len);
    } else { /* in pieces of 100 bytes, as esp-mqtt hands over a message larger than its buffer */
      for (uint32_t off = 0; off < len; off += 100)
        mqimg_rx_on_message_part(rx, off ? NULL : topic, off ? 0 : strlen(topic), data + n * cb + off,
                                 len - off < 100 ? len - off : 100, off, len);
    }
    clock_ms += 600;
    mqimg_rx_poll(rx);
  }
  snprintf(topic, sizeof topic, "%s/m", T);
  mqimg_rx_on_message(rx, topic, strlen(topic), (const uint8_t *)manifest, strlen(manifest));
  counting = 0;
  return 0;
}

int main(void) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint8_t digest[32], listed[16 * 4];
  char pages[100], sha[65], manifest[1024];
  const uint32_t size = sizeof data, cb = 256, chunks = (size + cb - 1) / cb, per_page = cb / 16;
  const uint32_t npages = (chunks + per_page - 1) / per_page;
  for (uint32_t i = 0; i < size; i++) data[i] = (uint8_t)(i * 31 + 7);
  for (uint32_t n = 0; n < chunks; n++) {
    SHA256(data + n * cb, n == chunks - 1 ? size - n * cb : cb, digest);
    memcpy(hashes + 16 * n, digest, 16);
  }
  if (npages > 4) return 2;
  for (uint32_t j = 0; j < npages; j++) {
    uint32_t count = chunks - j * per_page < per_page ? chunks - j * per_page : per_page;
    SHA256(hashes + 16 * j * per_page, 16 * count, digest);
    memcpy(listed + 16 * j, digest, 16);
  }
  size_t o = 0, n16 = 16 * npages;
  for (size_t i = 0; i < n16; i += 3) {
    uint32_t v = (uint32_t)listed[i] << 16 | (i + 1 < n16 ? (uint32_t)listed[i + 1] << 8 : 0) |
                 (i + 2 < n16 ? listed[i + 2] : 0);
    pages[o++] = b64[v >> 18];
    pages[o++] = b64[(v >> 12) & 63];
    pages[o++] = i + 1 < n16 ? b64[(v >> 6) & 63] : '=';
    pages[o++] = i + 2 < n16 ? b64[v & 63] : '=';
  }
  pages[o] = 0;
  SHA256(data, size, digest);
  for (int i = 0; i < 32; i++) sprintf(sha + 2 * i, "%02x", digest[i]);
  snprintf(manifest, sizeof manifest,
           "{\"mqimg\":3,\"id\":\"00000000000000aa\",\"nonce\":\"404142434445464748494a4b4c4d4e4f\",\"name\":\"x\","
           "\"type\":\"image/png\",\"size\":%u,\"chunkBytes\":%u,\"chunks\":%u,\"sha256\":\"%s\",\"pages\":\"%s\","
           "\"width\":1,\"height\":1,\"createdMs\":0,\"x\":[{\"y\":null}]}",
           size, cb, chunks, sha, pages);

  if (receive(manifest, NULL, size, cb, chunks, per_page, npages) != 0) return 2;
  unsigned named_completed = 0;
#ifdef MQIMG_RX_WITH_IDENTITY
  /* Again as a named receiver, the manifest with an ephemeral key: every status sealed (X25519, HKDF, AES-GCM). */
  static const uint8_t seed[32] = {0x60, 0x61, 0x62};
  char named[1200];
  snprintf(named, sizeof named, "%.*s,\"epk\":\"ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0=\"}",
           (int)strlen(manifest) - 1, manifest);
  memcpy(strstr(named, "00000000000000aa"), "00000000000000ab", 16);
  memset(file, 0, sizeof file);
  if (receive(named, seed, size, cb, chunks, per_page, npages) != 0) return 2;
  named_completed = 1;
#endif
  unsigned long during = allocations;
  /* The check can see allocations inside libmbedcrypto: its self-test allocates (calloc) and must be counted. */
  counting = 1;
  (void)mbedtls_sha256_self_test(0);
  counting = 0;
  unsigned long self_test = allocations - during;
  int ok = during == 0 && self_test > 0 && completed == 1 + (int)named_completed && memcmp(file, data, size) == 0 &&
           (named_completed ? sealed_publishes > 10 : sealed_publishes == 0) && publishes > 10;
  printf("allocations while receiving%s: %lu (mbedTLS self-test, counted as a check of the check: %lu); completed: %d;"
         " statuses: %u (sealed: %u)\n", named_completed ? " (and as a named receiver)" : "", during, self_test,
         completed, publishes, sealed_publishes);
  printf("%d passed, %d failed\n", ok, !ok);
  return ok ? 0 : 1;
}
