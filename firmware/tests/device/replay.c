/*
 * Replays a real transfer captured from `mqimg send` (firmware/tests/vectors/, written by
 * firmware/scripts/capture-transfer.sh: one message a line, TOPIC HEXPAYLOAD, in the order the broker delivered
 * them) into mqimg_rx, as firmware would: built for the host (gcc, mbedTLS's SHA-256) and for rv32imc (the ESP32-C3
 * and C6 instruction set; picolibc, the library's built-in SHA-256) run in qemu-system-riscv32 with semihosting.
 * firmware/scripts/device-test.sh runs both and compares what they write byte for byte.
 *
 * Three deliveries of the same capture, each into a fresh receiver, with a fake clock (1 ms per message, so that
 * both builds see the same times):
 *   inorder: every message whole, in the captured order (the repaired chunks' second copies are duplicates): the
 *           cost of a chunk that comes in order;
 *   whole:  every message whole (mqimg_rx_on_message), the first copies of the chunks the capturing receiver had
 *           withheld (those the sender repaired) dropped again, and chunks 1 and 2 held back until every other
 *           message is in: a gap that fills at the end, with the rest of the file to catch up;
 *   pieces: pages and chunks in 256-byte pieces (mqimg_rx_on_message_part, as esp-mqtt with a small buffer; the
 *           manifest whole), the hash page held back until chunk 12 is in (chunks 0-12 are set aside, then checked
 *           against it) and chunk 1 held back to the end.
 * After every message mqimg_rx_poll runs once; at the end it runs while mqimg_rx_work_left says so.
 *
 * Writes to OUT (REPLAY_OUT): every status published, every callback, per delivery; and the frame buffer of each
 * delivery to OUT.inorder.fb, OUT.whole.fb and OUT.pieces.fb. Checks itself that each delivery completed, and that the `complete`
 * status of the first equals the one the capturing receiver published (same rx id, so the same proof: HMAC of the
 * whole image), and exits non-zero otherwise.
 *
 * Instructions (rv32 only): every call into the library is bracketed by reads of the `instret` CSR. qemu counts
 * retired instructions exactly only with -icount (shift=0: one per instruction; without -icount its `instret` is a
 * host clock), so the harness first counts two loops of known length (2,002 and 20,002 instructions) and refuses
 * to report unless both come out exactly. Printed: the median
 * instructions of a 1 KiB chunk message in the in-order delivery (`instructions per 1 KiB chunk`: its SHA-256, the
 * file's SHA-256 and HMAC over it, the copy, a status every k chunks), the mean over that delivery of every call
 * (manifest, page, polls) per chunk, and the largest single call of all three deliveries (`largest call`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mqimg_rx.h"

#ifndef MQIMG_RX_WORK_PER_CALL /* a library from before bounded work (MQIMG_RX_LIB): it finished in the call */
#define mqimg_rx_work_left(rx) 0
#endif

#ifndef REPLAY_CAPTURE
#error "build with -DREPLAY_CAPTURE='\"path/to/capture.txt\"' -DREPLAY_OUT='\"path/to/out\"'"
#endif

#define MAX_MSGS 256
#define MAX_BYTES (256u * 1024u)
#define FB_BYTES (64u * 1024u)
#define PIECE 256
#define RX_ID "rx-device-test"

#if defined(__riscv)
#define HAVE_INSTRET 1
/* The instret CSR (Zicsr; -march=rv32imc leaves it out of the base set, hence the .option). */
static inline __attribute__((always_inline)) uint32_t instret(void) {
  uint32_t v;
  __asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, instret\n.option pop" : "=r"(v));
  return v;
}
/* Instructions counted across a loop of 2 x `n` instructions: `mv`, the loop and the second read, 2 n + 2. */
static __attribute__((noinline)) uint32_t known_loop(uint32_t n) {
  uint32_t a = instret();
  __asm__ volatile("mv t0, %0\n1: addi t0, t0, -1\nbnez t0, 1b" : : "r"(n) : "t0");
  uint32_t b = instret();
  return b - a;
}
#else
#define HAVE_INSTRET 0
static inline uint32_t instret(void) { return 0; }
#endif

typedef struct {
  char topic[160];
  uint32_t off, len;
  int kind; /* 'm' manifest, 'h' page, 'c' chunk, 'r' status (not fed), 0 other */
  long index;
} message;

static message msgs[MAX_MSGS];
static int nmsgs;
static uint8_t bytes[MAX_BYTES];
static uint32_t nbytes;
static uint8_t fb[FB_BYTES];
static uint8_t state[MQIMG_RX_STATE_SIZE(64, 4)];
static uint32_t clock_ms;
static FILE *out;
static int completed;
static char complete_status[512];
static const char *captured_complete; /* the capture's own `complete` status, as text */
static char captured_complete_buf[512];

/* Instruction counts. */
static uint32_t chunk_calls[MAX_MSGS * 2];
static int nchunk_calls;
static uint32_t largest;
static int measuring; /* the in-order delivery: chunk calls and the total are counted */
static uint64_t total;
static uint32_t chunks;
static char largest_what[256];

static int contains(const void *hay, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp((const char *)hay + i, needle, k) == 0) return 1;
  return 0;
}

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

static int load(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  static char line[8192];
  int c;
  size_t n = 0;
  for (;;) {
    c = fgetc(f);
    if (c != '\n' && c != EOF) {
      if (n + 1 < sizeof line) line[n++] = (char)c;
      else return -1;
      continue;
    }
    if (n > 0) {
      line[n] = 0;
      char *sp = strchr(line, ' ');
      if (!sp || nmsgs == MAX_MSGS) return -1;
      *sp = 0;
      message *m = &msgs[nmsgs++];
      if (strlen(line) >= sizeof m->topic) return -1;
      memcpy(m->topic, line, strlen(line) + 1);
      m->off = nbytes;
      for (char *p = sp + 1; p[0] && p[1]; p += 2) {
        if (nbytes == MAX_BYTES) return -1;
        bytes[nbytes++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
      }
      m->len = nbytes - m->off;
      const char *last = strrchr(m->topic, '/');
      m->index = -1;
      if (last && last - m->topic >= 2 && last[-2] == '/' && (last[-1] == 'h' || last[-1] == 'c')) {
        m->kind = last[-1];
        m->index = strtol(last + 1, NULL, 10);
      } else if (last && strcmp(last, "/m") == 0) {
        m->kind = 'm';
      } else if (last && strcmp(last, "/r") == 0) {
        m->kind = 'r';
        if (m->len < sizeof captured_complete_buf && contains(bytes + m->off, m->len, "\"complete\"")) {
          memcpy(captured_complete_buf, bytes + m->off, m->len);
          captured_complete_buf[m->len] = 0;
          captured_complete = captured_complete_buf;
        }
      }
    }
    n = 0;
    if (c == EOF) break;
  }
  fclose(f);
  return nmsgs > 0 ? 0 : -1;
}

static int on_publish(void *u, const char *topic, const char *payload, size_t len) {
  (void)u;
  fprintf(out, "t=%lu status %s %.*s\n", (unsigned long)clock_ms, topic, (int)len, payload);
  if (len < sizeof complete_status && contains(payload, len, "\"complete\"")) {
    memcpy(complete_status, payload, len);
    complete_status[len] = 0;
  }
  return 0;
}
static int on_write(void *u, uint32_t offset, const uint8_t *d, size_t len) {
  (void)u;
  if ((size_t)offset + len > sizeof fb) return -1;
  memcpy(fb + offset, d, len);
  return 0;
}
static int on_read(void *u, uint32_t offset, uint8_t *d, size_t len) {
  (void)u;
  if ((size_t)offset + len > sizeof fb) return -1;
  memcpy(d, fb + offset, len);
  return 0;
}
static uint32_t on_now(void *u) {
  (void)u;
  return clock_ms;
}
static int on_begin(void *u, const mqimg_rx_info *i) {
  (void)u;
  fprintf(out, "t=%lu begin %s %s size %lu chunks %lu %lux%lu stride %lu\n", (unsigned long)clock_ms, i->id, i->type,
          (unsigned long)i->size, (unsigned long)i->chunks, (unsigned long)i->width, (unsigned long)i->height,
          (unsigned long)i->stride);
  return 0;
}
static int on_complete(void *u, const mqimg_rx_info *i) {
  (void)u;
  fprintf(out, "t=%lu complete %s\n", (unsigned long)clock_ms, i->id);
  completed++;
  chunks = i->chunks;
  return 0;
}
static void on_failed(void *u, const mqimg_rx_info *i, mqimg_rx_code code) {
  (void)u;
  fprintf(out, "t=%lu failed %s %s\n", (unsigned long)clock_ms, i->id, mqimg_rx_code_name(code));
}
static void on_reject(void *u, mqimg_rx_code code, long index) {
  (void)u;
  fprintf(out, "t=%lu reject %s %ld\n", (unsigned long)clock_ms, mqimg_rx_code_name(code), index);
}

static void counted(uint32_t n, const char *what, const message *m) {
  if (n > largest) {
    largest = n;
    snprintf(largest_what, sizeof largest_what, "%s %s", what, m ? m->topic : "");
  }
}

static void poll_once(mqimg_rx *rx) {
  uint32_t t0 = instret();
  mqimg_rx_poll(rx);
  uint32_t n = instret() - t0;
  counted(n, "mqimg_rx_poll", NULL);
  if (measuring) total += n;
}

static void feed(mqimg_rx *rx, const message *m, int pieces) {
  const uint8_t *p = bytes + m->off;
  clock_ms += 1;
  if (!pieces || m->kind == 'm' || m->len <= PIECE) {
    uint32_t t0 = instret();
    mqimg_rx_on_message(rx, m->topic, strlen(m->topic), p, m->len);
    uint32_t n = instret() - t0;
    counted(n, "mqimg_rx_on_message", m);
    if (measuring && m->kind == 'c' && m->len == 1024) chunk_calls[nchunk_calls++] = n;
    if (measuring) total += n;
  } else {
    for (uint32_t off = 0; off < m->len; off += PIECE) {
      uint32_t len = m->len - off < PIECE ? m->len - off : PIECE;
      uint32_t t0 = instret();
      mqimg_rx_on_message_part(rx, off ? NULL : m->topic, off ? 0 : strlen(m->topic), p + off, len, off, m->len);
      counted(instret() - t0, "mqimg_rx_on_message_part", m);
    }
  }
  poll_once(rx);
}

static mqimg_rx *fresh(void) {
  mqimg_rx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.rx_id = RX_ID;
  cfg.max_size = sizeof fb;
  cfg.publish = on_publish;
  cfg.write = on_write;
  cfg.read = on_read;
  cfg.now_ms = on_now;
  cfg.begin = on_begin;
  cfg.complete = on_complete;
  cfg.failed = on_failed;
  cfg.reject = on_reject;
  memset(fb, 0, sizeof fb);
  completed = 0;
  complete_status[0] = 0;
  mqimg_rx *rx = mqimg_rx_init(state, sizeof state, 64, 4, &cfg);
  if (!rx) fprintf(stderr, "%s\n", (const char *)state);
  return rx;
}

static int first_copy(int i) { /* is msgs[i] the first copy of a chunk that comes again later? */
  if (msgs[i].kind != 'c') return 0;
  for (int j = 0; j < i; j++)
    if (msgs[j].kind == 'c' && msgs[j].index == msgs[i].index) return 0;
  for (int j = i + 1; j < nmsgs; j++)
    if (msgs[j].kind == 'c' && msgs[j].index == msgs[i].index) return 1;
  return 0;
}

static int held_back(const message *m, const long *list, int n) {
  for (int i = 0; i < n; i++)
    if (m->kind == 'c' && m->index == list[i]) return 1;
  return 0;
}

static int deliver(const char *name, int pieces, int in_order) {
  static const long whole_back[] = {1, 2}, pieces_back[] = {1};
  const long *back = pieces ? pieces_back : whole_back;
  int nback = in_order ? 0 : pieces ? 1 : 2;
  measuring = in_order;
  mqimg_rx *rx = fresh();
  if (!rx) return -1;
  clock_ms = 1000;
  fprintf(out, "== %s\n", name);
  int page_due = -1; /* pieces: the page, held back until chunk 12 */
  for (int i = 0; i < nmsgs; i++) {
    const message *m = &msgs[i];
    if (m->kind == 'r' || m->kind == 0) continue;
    if (!pieces && !in_order && first_copy(i)) continue; /* as the capturing receiver: withheld, then repaired */
    if (held_back(m, back, nback)) continue;
    if (pieces && m->kind == 'h' && page_due < 0) {
      page_due = i;
      continue;
    }
    feed(rx, m, pieces);
    if (pieces && m->kind == 'c' && m->index == 12 && page_due >= 0) feed(rx, &msgs[page_due], pieces);
  }
  for (int i = 0; i < nmsgs; i++) /* the held-back chunks, last copies of each */
    if (held_back(&msgs[i], back, nback) && !first_copy(i)) feed(rx, &msgs[i], pieces);
  for (int polls = 0; mqimg_rx_work_left(rx) && polls < 1000; polls++) {
    clock_ms += 1;
    poll_once(rx);
  }
  fprintf(out, "completed %d\n", completed);
  char path[256];
  snprintf(path, sizeof path, "%s.%s.fb", REPLAY_OUT, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(fb, 1, sizeof fb, f) != sizeof fb || fclose(f) != 0) return -1;
  if (completed != 1) {
    fprintf(stderr, "replay %s: not completed\n", name);
    return -1;
  }
  if (!captured_complete || strcmp(complete_status, captured_complete) != 0) {
    fprintf(stderr, "replay %s: complete status differs from the captured one:\n  %s\n  %s\n", name, complete_status,
            captured_complete ? captured_complete : "(none captured)");
    return -1;
  }
  return 0;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

int main(void) {
#if HAVE_INSTRET
  /* The counter must count every instruction: 2 n + 2 exactly for loops of 2,000 and 20,000 instructions (qemu's
   * instret without -icount is a host clock and fails this). */
  uint32_t short_loop = known_loop(1000), long_loop = known_loop(10000);
  if (short_loop != 2002 || long_loop != 20002) {
    fprintf(stderr, "instret counted %lu and %lu for loops of 2,002 and 20,002 instructions: not an instruction "
                    "counter (run qemu with -icount shift=0)\n", (unsigned long)short_loop, (unsigned long)long_loop);
    return 3;
  }
#endif
  if (load(REPLAY_CAPTURE) != 0) {
    fprintf(stderr, "cannot read the capture %s\n", REPLAY_CAPTURE);
    return 2;
  }
  out = fopen(REPLAY_OUT, "w");
  if (!out) return 2;
  int bad = deliver("inorder", 0, 1);
  bad |= deliver("whole", 0, 0);
  bad |= deliver("pieces", 1, 0);
  fclose(out);
  qsort(chunk_calls, (size_t)nchunk_calls, sizeof chunk_calls[0], cmp_u32);
  printf("replayed %d captured messages three times (in order, with gaps, in 256-byte pieces): %s\n", nmsgs, bad ? "FAILED" : "completed");
#if HAVE_INSTRET
  uint32_t sum = 0;
  for (int i = 0; i < nchunk_calls; i++) sum += chunk_calls[i];
  printf("instructions per 1 KiB chunk: %lu\n", (unsigned long)chunk_calls[nchunk_calls / 2]);
  printf("  (median of the %d 1 KiB chunk messages delivered in order; their mean %lu, least %lu, most %lu; every call "
         "of that delivery, manifest, page and polls included: %lu per chunk)\n",
         nchunk_calls, (unsigned long)(sum / (uint32_t)nchunk_calls), (unsigned long)chunk_calls[0],
         (unsigned long)chunk_calls[nchunk_calls - 1], (unsigned long)(total / chunks));
  printf("largest call: %lu instructions (%s)\n", (unsigned long)largest, largest_what);
#endif
  return bad ? 1 : 0;
}
