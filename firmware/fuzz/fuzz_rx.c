/*
 * libFuzzer target for mqimg_rx_on_message and mqimg_rx_poll. An input is a script of operations, each a byte
 * `op` followed by its arguments, against a receiver set up fresh for every input:
 *   op % 10 == 0  the genuine manifest of transfer A (200 bytes, 4 chunks) or B (3,000 bytes, 47 chunks, 12 pages)
 *           == 1  [len:2][bytes] as a manifest on A's or B's topic
 *           == 2  [j:1] the genuine hash page j of A or B
 *           == 3  [j:1][len:2][bytes] as hash page j
 *           == 4  [n:1] the genuine chunk n of A or B
 *           == 5  [n:2][len:2][bytes] as chunk n
 *           == 6  [ms:2] the clock moves on, then mqimg_rx_poll
 *           == 7  [tlen:1][topic][len:2][bytes] any topic, any payload
 *           == 8  [len:2][bytes] on T/mqimg/retained
 *           == 9  [pos:2][byte:1] A's manifest with one byte changed
 * (op / 10) % 2 picks A or B. Built with MQIMG_RX_WITH_SODIUM (fuzz.sh does), an input whose first byte is
 * 0xff trusts the key of PROTOCOL.md section 12, and an op with (op / 10) % 3 == 2 sends that section's signed
 * manifest of A. Built with MQIMG_RX_WITH_IDENTITY too (fuzz.sh does), an input whose first byte is 0xfe is a named
 * receiver: B's manifest names an ephemeral key (`epk`), so B's statuses are sealed (PROTOCOL.md 12.1).
 * op >= 200: [kind:1][n:1][piece:1][cut:1] a genuine (kind even) or damaged (kind odd: byte `cut` flipped) chunk
 * (kind & 2: page) n of A or B (kind & 4) handed over in pieces of piece % 70 + 1 bytes (mqimg_rx_on_message_part).
 * Genuine messages let the fuzzer reach the states a forged one cannot (pages held, chunks stored, completion, final
 * repeats). Built with -DMQIMG_RX_FUZZ_REPLAY it is a plain program that runs
 * the files given as arguments (the corpus) once, for builds without libFuzzer (gcc + ASan/UBSan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mbedtls/sha256.h"
#include "mbedtls/version.h"
#include "mqimg_rx.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SHA256(d, n, out) mbedtls_sha256((d), (n), (out), 0)
#else
#define SHA256(d, n, out) mbedtls_sha256_ret((d), (n), (out), 0)
#endif

typedef struct {
  const char *base; /* T/mqimg/ID */
  uint32_t size, cb, chunks, per_page, npages;
  uint8_t data[3000];
  uint8_t hashes[16 * 64];
  char manifest[1024];
} transfer;

static transfer A, B;
static uint8_t file[1 << 16];
static uint32_t clock_ms;
static uint8_t state[MQIMG_RX_STATE_SIZE(64, 16)];
static const uint8_t SIG_KEY[1][32] = {{0x03, 0xa1, 0x07, 0xbf, 0xf3, 0xce, 0x10, 0xbe, 0x1d, 0x70, 0xdd,
                                        0x18, 0xe7, 0x4b, 0xc0, 0x99, 0x67, 0xe4, 0xd6, 0x30, 0x9b, 0xa5,
                                        0x0d, 0x5f, 0x1d, 0xdc, 0x86, 0x64, 0x12, 0x55, 0x31, 0xb8}};
static const char SIGNED[] =
    "{\"mqimg\":3,\"id\":\"0123456789abcdef\",\"nonce\":\"404142434445464748494a4b4c4d4e4f\",\"name\":\"vector.bin\","
    "\"type\":\"image/png\",\"size\":200,\"chunkBytes\":64,\"chunks\":4,\"sha256\":"
    "\"1901da1c9f699b48f6b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f\",\"pages\":\"l+fci+tipV4nTO1v5HgaRg==\","
    "\"width\":10,\"height\":5,\"createdMs\":1767225600000,\"sig\":{\"alg\":\"ed25519\",\"kid\":\"56475aa75463474c\","
    "\"value\":\"swFffaVSWuOpB5FTmEFAxKc+GhkHvlV5v+z0BzKjQl3hzVU1gi/MWz5xjKSsBtWRqlzNTG31180b1fJINuiSAg==\"}}";

static void build(transfer *t, const char *base, const char *id, uint32_t size) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint8_t digest[32], listed[16 * 16];
  char pages[400], sha[65];
  t->base = base;
  t->size = size;
  t->cb = 64;
  t->chunks = (size + 63) / 64;
  t->per_page = 4;
  t->npages = (t->chunks + 3) / 4;
  for (uint32_t i = 0; i < size; i++) t->data[i] = (uint8_t)(i * 13 + 1);
  for (uint32_t n = 0; n < t->chunks; n++) {
    SHA256(t->data + 64 * n, n == t->chunks - 1 ? size - 64 * n : 64, digest);
    memcpy(t->hashes + 16 * n, digest, 16);
  }
  for (uint32_t j = 0; j < t->npages; j++) {
    uint32_t count = t->chunks - 4 * j < 4 ? t->chunks - 4 * j : 4;
    SHA256(t->hashes + 64 * j, 16 * count, digest);
    memcpy(listed + 16 * j, digest, 16);
  }
  size_t o = 0, n = 16 * t->npages;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)listed[i] << 16 | (i + 1 < n ? (uint32_t)listed[i + 1] << 8 : 0) | (i + 2 < n ? listed[i + 2] : 0);
    pages[o++] = b64[v >> 18];
    pages[o++] = b64[(v >> 12) & 63];
    pages[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
    pages[o++] = i + 2 < n ? b64[v & 63] : '=';
  }
  pages[o] = 0;
  SHA256(t->data, size, digest);
  for (int i = 0; i < 32; i++) snprintf(sha + 2 * i, 3, "%02x", digest[i]);
  snprintf(t->manifest, sizeof t->manifest,
           "{\"mqimg\":3,\"id\":\"%s\",\"nonce\":\"404142434445464748494a4b4c4d4e4f\",\"name\":\"f.bin\","
           "\"type\":\"image/png\",\"size\":%u,\"chunkBytes\":64,\"chunks\":%u,\"sha256\":\"%s\",\"pages\":\"%s\","
           "\"width\":10,\"height\":5,\"createdMs\":%u,\"supersede\":true%s}",
           id, size, t->chunks, sha, pages, size,
           size > 1000 ? ",\"epk\":\"ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0=\"" : ""); /* B names a receiver */
}

static int on_publish(void *u, const char *t, const char *p, size_t n) {
  (void)u;
  /* Statuses must be well-formed: NUL-terminated where the library says, and bounded. */
  if (strlen(t) == 0 || n == 0 || p[0] != '{' || p[n - 1] != '}') abort();
  return 0;
}
static int on_write(void *u, uint32_t o, const uint8_t *d, size_t n) {
  (void)u;
  if ((size_t)o + n > sizeof file) abort();
  memcpy(file + o, d, n);
  return 0;
}
static int on_read(void *u, uint32_t o, uint8_t *d, size_t n) {
  (void)u;
  if ((size_t)o + n > sizeof file) abort();
  memcpy(d, file + o, n);
  return 0;
}
static uint32_t on_now(void *u) {
  (void)u;
  return clock_ms;
}
static int on_complete(void *u, const mqimg_rx_info *info) {
  (void)u;
  /* A completed transfer is always one of the genuine files: nothing forged gets through. */
  const transfer *t = info->size == A.size ? &A : &B;
  if (info->size != t->size || memcmp(file, t->data, t->size) != 0) abort();
  return 0;
}

typedef struct {
  const uint8_t *p, *end;
} reader;
static int take(reader *r, size_t n, const uint8_t **out) {
  if ((size_t)(r->end - r->p) < n) return -1;
  *out = r->p;
  r->p += n;
  return 0;
}
static int u8(reader *r, uint32_t *v) {
  const uint8_t *b;
  if (take(r, 1, &b)) return -1;
  *v = b[0];
  return 0;
}
static int u16(reader *r, uint32_t *v) {
  const uint8_t *b;
  if (take(r, 2, &b)) return -1;
  *v = (uint32_t)b[0] << 8 | b[1];
  return 0;
}

static void send_to(mqimg_rx *rx, const char *topic, const uint8_t *p, size_t n) {
  (void)mqimg_rx_on_message(rx, topic, strlen(topic), p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!A.size) {
    build(&A, "cam/1/mqimg/0123456789abcdef", "0123456789abcdef", 200);
    build(&B, "cam/1/mqimg/00000000000000b2", "00000000000000b2", 3000);
  }
  mqimg_rx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.rx_id = "rx-fuzz";
  cfg.max_size = 1 << 16;
  cfg.publish = on_publish;
  cfg.write = on_write;
  cfg.read = on_read;
  cfg.now_ms = on_now;
  cfg.complete = on_complete;
  if (size > 0 && data[0] == 0xff) {
    cfg.trusted_keys = SIG_KEY;
    cfg.trusted_key_count = 1;
  }
#ifdef MQIMG_RX_WITH_IDENTITY
  static const uint8_t seed[32] = {0x60, 0x61, 0x62, 0x63};
  if (size > 0 && data[0] == 0xfe) cfg.identity_seed = seed; /* a named receiver: B's statuses sealed */
#endif
  clock_ms = 0xfffff000u; /* wraps during the run */
  mqimg_rx *rx = mqimg_rx_init(state, sizeof state, 64, 16, &cfg);
  if (!rx) abort();
  reader r = {data, data + size};
  char topic[300];
  uint32_t op, a, b;
  const uint8_t *bytes;
  int steps = 0;
  while (u8(&r, &op) == 0 && steps++ < 2000) {
    transfer *t = (op / 10) % 2 ? &B : &A;
    if (op >= 200) {
      uint32_t kind, n, piece, cut;
      uint8_t copy[64];
      if (u8(&r, &kind) || u8(&r, &n) || u8(&r, &piece) || u8(&r, &cut)) return 0;
      t = kind & 4 ? &B : &A;
      int page = (kind & 2) != 0;
      const uint8_t *src;
      size_t len;
      if (page) {
        n %= t->npages;
        src = t->hashes + 64 * n;
        len = 16 * (t->chunks - 4 * n < 4 ? t->chunks - 4 * n : 4);
      } else {
        n %= t->chunks;
        src = t->data + 64 * n;
        len = n == t->chunks - 1 ? t->size - 64 * n : 64;
      }
      memcpy(copy, src, len);
      if (kind & 1) copy[cut % len] ^= 0x01;
      snprintf(topic, sizeof topic, "%s/%c/%u", t->base, page ? 'h' : 'c', n);
      piece = piece % 70 + 1;
      for (size_t off = 0; off < len; off += piece) {
        size_t m = len - off < piece ? len - off : piece;
        (void)mqimg_rx_on_message_part(rx, off ? NULL : topic, off ? 0 : strlen(topic), copy + off, m, off, len);
      }
      continue;
    }
    if ((op / 10) % 3 == 2) { /* the signed manifest of section 12 (A's content, 4 chunks of 64 bytes... and 8) */
      send_to(rx, "cam/1/mqimg/0123456789abcdef/m", (const uint8_t *)SIGNED, sizeof SIGNED - 1);
      continue;
    }
    switch (op % 10) {
    case 0:
      snprintf(topic, sizeof topic, "%s/m", t->base);
      send_to(rx, topic, (const uint8_t *)t->manifest, strlen(t->manifest));
      break;
    case 1:
      if (u16(&r, &a) || take(&r, a, &bytes)) return 0;
      snprintf(topic, sizeof topic, "%s/m", t->base);
      send_to(rx, topic, bytes, a);
      break;
    case 2:
      if (u8(&r, &a)) return 0;
      a %= t->npages;
      snprintf(topic, sizeof topic, "%s/h/%u", t->base, a);
      send_to(rx, topic, t->hashes + 64 * a, 16 * (t->chunks - 4 * a < 4 ? t->chunks - 4 * a : 4));
      break;
    case 3:
      if (u8(&r, &a) || u16(&r, &b) || take(&r, b, &bytes)) return 0;
      snprintf(topic, sizeof topic, "%s/h/%u", t->base, a);
      send_to(rx, topic, bytes, b);
      break;
    case 4:
      if (u8(&r, &a)) return 0;
      a %= t->chunks;
      snprintf(topic, sizeof topic, "%s/c/%u", t->base, a);
      send_to(rx, topic, t->data + 64 * a, a == t->chunks - 1 ? t->size - 64 * a : 64);
      break;
    case 5:
      if (u16(&r, &a) || u16(&r, &b) || take(&r, b, &bytes)) return 0;
      snprintf(topic, sizeof topic, "%s/c/%u", t->base, a);
      send_to(rx, topic, bytes, b);
      break;
    case 6:
      if (u16(&r, &a)) return 0;
      clock_ms += a;
      mqimg_rx_poll(rx);
      break;
    case 7: {
      const uint8_t *tb;
      if (u8(&r, &a) || take(&r, a, &tb) || u16(&r, &b) || take(&r, b, &bytes)) return 0;
      (void)mqimg_rx_on_message(rx, (const char *)tb, a, bytes, b);
      break;
    }
    case 8:
      if (u16(&r, &a) || take(&r, a, &bytes)) return 0;
      send_to(rx, "cam/1/mqimg/retained", bytes, a);
      break;
    case 9: {
      uint8_t m[1024];
      size_t n = strlen(A.manifest);
      if (u16(&r, &a) || u8(&r, &b)) return 0;
      memcpy(m, A.manifest, n);
      m[a % n] = (uint8_t)b;
      snprintf(topic, sizeof topic, "%s/m", A.base);
      send_to(rx, topic, m, n);
      break;
    }
    }
  }
  return 0;
}

#ifdef MQIMG_RX_FUZZ_REPLAY
int main(int argc, char **argv) {
  static uint8_t buf[1 << 20];
  int runs = 0;
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) {
      fprintf(stderr, "cannot open %s\n", argv[i]);
      return 2;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    runs++;
  }
  printf("replayed %d inputs\n%d passed, 0 failed\n", runs, runs);
  return 0;
}
#endif
