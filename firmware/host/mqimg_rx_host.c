/*
 * mqimg-rx-host: mqimg_rx behind libmosquitto on a PC, the way firmware wires it on a device. Used by the tests
 * (test/firmware/host-harness.test.ts) to receive real `mqimg send` transfers through Mosquitto.
 *
 *   mqimg-rx-host --port 1883 --topic cam/1 --out /tmp/img.bin [--count 1] [--drop 3,7] [--drop-pages 0]
 *                 [--drop-times 1] [--pieces N]
 *                 [--rx rx-host] [--qos 0] [--max-bytes N] [--win N] [--exit-after 60] [--trust KEY.pub]
 *                 [--identity NAME.key]
 *
 * Prints one JSON object per line: ready (subscribed), begin, dropped (a chunk or page the harness withheld on its
 * first --drop-times arrivals, default 1: a test hook), reject (a message the library dropped), refused (a manifest
 * answered with a `failed` status, e.g. `unsigned`), complete (the file was verified; it is written to --out, and,
 * with --count above 1, --out.N), failed. Exits 0 after --count transfers completed,
 * 1 when --exit-after seconds passed first, 2 on a usage error. --trust (builds with MQIMG_RX_WITH_SODIUM): an
 * Ed25519 public key in PEM, as `mqimg keygen` writes it; signed manifests are then required (PROTOCOL.md 12).
 * --identity (builds with MQIMG_RX_WITH_IDENTITY): a named receiver (PROTOCOL.md 12.1) with the Ed25519 private key
 * of `mqimg keygen NAME` (NAME.key, PKCS#8 PEM): its id is `k-` and its key id (--rx is ignored; the `ready` event
 * names it), and it seals its statuses to a sender that names it.
 * --pieces N hands every message longer than N bytes to mqimg_rx_on_message_part in pieces of N bytes, the topic
 * with the first piece only, as esp-mqtt does with a buffer of N bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mqimg_rx.h"

#define MAX_CHUNKS 8192
#define MAX_PAGES 128
#define MAX_DROPS 64

static uint8_t storage[64u << 20]; /* the "frame buffer" / PSRAM: 64 MiB on the host */
static uint8_t state[MQIMG_RX_STATE_SIZE(MAX_CHUNKS, MAX_PAGES)];

static struct {
  struct mosquitto *mosq;
  mqimg_rx *rx;
  const char *topic, *out, *rx_id;
  int qos, count, completed, done, exit_code, subscribed;
  long drops[MAX_DROPS], drop_pages[MAX_DROPS];
  int ndrops, ndrop_pages, drop_times;
  size_t pieces;
  uint8_t dropped[MAX_CHUNKS], dropped_pages[MAX_PAGES];
  double chunk_cpu_s;
  unsigned long chunk_messages;
} h;

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t now_ms(void *user) {
  (void)user;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static int publish(void *user, const char *topic, const char *payload, size_t len) {
  (void)user;
  return mosquitto_publish(h.mosq, NULL, topic, (int)len, payload, 1, false) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static int write_cb(void *user, uint32_t offset, const uint8_t *data, size_t len) {
  (void)user;
  if ((size_t)offset + len > sizeof storage) return -1;
  memcpy(storage + offset, data, len);
  return 0;
}

static int read_cb(void *user, uint32_t offset, uint8_t *data, size_t len) {
  (void)user;
  if ((size_t)offset + len > sizeof storage) return -1;
  memcpy(data, storage + offset, len);
  return 0;
}

static const char *format_name(mqimg_rx_pixel_format f) {
  static const char *const names[] = {"", "rgb565le", "rgb565be", "rgb888", "gray8", "gray4", "mono1"};
  return names[f];
}

static int begin(void *user, const mqimg_rx_info *info) {
  (void)user;
  memset(h.dropped, 0, sizeof h.dropped);
  memset(h.dropped_pages, 0, sizeof h.dropped_pages);
  printf("{\"event\":\"begin\",\"id\":\"%s\",\"type\":\"%s\",\"size\":%u,\"chunkBytes\":%u,\"chunks\":%u,"
         "\"width\":%u,\"height\":%u,\"pixelFormat\":\"%s\",\"stride\":%u}\n",
         info->id, info->type, info->size, info->chunk_bytes, info->chunks, info->width, info->height,
         format_name(info->pixel_format), info->stride);
  fflush(stdout);
  return 0;
}

static int complete(void *user, const mqimg_rx_info *info) {
  (void)user;
  char path[4096];
  h.completed++;
  if (h.count > 1) snprintf(path, sizeof path, "%s.%d", h.out, h.completed);
  else snprintf(path, sizeof path, "%s", h.out);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(storage, 1, info->size, f) != info->size || fclose(f) != 0) {
    fprintf(stderr, "mqimg-rx-host: cannot write %s\n", path);
    return -1;
  }
  mqimg_rx_stats s;
  mqimg_rx_get_stats(h.rx, &s);
  printf("{\"event\":\"complete\",\"id\":\"%s\",\"file\":\"%s\",\"bytes\":%u,\"chunks\":%u,\"chunksStored\":%u,"
         "\"duplicates\":%u,\"rejected\":%u,\"pending\":%u,\"statuses\":%u,\"chunkMessages\":%lu,"
         "\"cpuUsPerChunk\":%.2f}\n",
         info->id, path, info->size, info->chunks, s.chunks_stored, s.chunks_duplicate, s.chunks_rejected,
         s.chunks_pending, s.statuses, h.chunk_messages,
         h.chunk_messages ? h.chunk_cpu_s * 1e6 / (double)h.chunk_messages : 0.0);
  fflush(stdout);
  if (h.completed >= h.count) h.done = 1;
  return 0;
}

static void failed(void *user, const mqimg_rx_info *info, mqimg_rx_code code) {
  (void)user;
  printf("{\"event\":\"failed\",\"id\":\"%s\",\"code\":\"%s\"}\n", info->id, mqimg_rx_code_name(code));
  fflush(stdout);
}

static void reject(void *user, mqimg_rx_code code, long index) {
  (void)user;
  printf("{\"event\":\"reject\",\"code\":\"%s\",\"index\":%ld}\n", mqimg_rx_code_name(code), index);
  fflush(stdout);
}

/* "cam/1/mqimg/ID/c/N" -> N when the topic is a chunk ('c') or page ('h') topic, else -1. */
static long index_of(const char *topic, char kind) {
  const char *last = strrchr(topic, '/');
  if (!last || last - topic < 2 || last[-1] != kind || last[-2] != '/') return -1;
  char *end;
  long n = strtol(last + 1, &end, 10);
  return *end == 0 && last[1] != 0 ? n : -1;
}

static int listed(const long *list, int n, long v) {
  for (int i = 0; i < n; i++)
    if (list[i] == v) return 1;
  return 0;
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg) {
  (void)m;
  (void)ud;
  long chunk = index_of(msg->topic, 'c'), page = index_of(msg->topic, 'h');
  if (chunk >= 0 && chunk < MAX_CHUNKS && listed(h.drops, h.ndrops, chunk) && h.dropped[chunk] < h.drop_times &&
      mqimg_rx_busy(h.rx)) {
    h.dropped[chunk]++;
    printf("{\"event\":\"dropped\",\"chunk\":%ld}\n", chunk);
    fflush(stdout);
    return;
  }
  if (page >= 0 && page < MAX_PAGES && listed(h.drop_pages, h.ndrop_pages, page) &&
      h.dropped_pages[page] < h.drop_times && mqimg_rx_busy(h.rx)) {
    h.dropped_pages[page]++;
    printf("{\"event\":\"dropped\",\"page\":%ld}\n", page);
    fflush(stdout);
    return;
  }
  double t0 = chunk >= 0 ? cpu_seconds() : 0;
  const uint8_t *payload = (const uint8_t *)msg->payload;
  size_t len = (size_t)msg->payloadlen;
  mqimg_rx_code code = MQIMG_RX_OK;
  if (h.pieces == 0 || len <= h.pieces) {
    code = mqimg_rx_on_message(h.rx, msg->topic, strlen(msg->topic), payload, len);
  } else {
    for (size_t off = 0; off < len; off += h.pieces) {
      size_t n = len - off < h.pieces ? len - off : h.pieces;
      const char *topic = off ? NULL : msg->topic;
      mqimg_rx_code c = mqimg_rx_on_message_part(h.rx, topic, off ? 0 : strlen(msg->topic), payload + off, n, off, len);
      if (c != MQIMG_RX_OK) code = c;
    }
  }
  if (code != MQIMG_RX_OK && code < MQIMG_RX_NOT_JSON) {
    printf("{\"event\":\"refused\",\"code\":\"%s\"}\n", mqimg_rx_code_name(code));
    fflush(stdout);
  }
  if (chunk >= 0) {
    h.chunk_cpu_s += cpu_seconds() - t0;
    h.chunk_messages++;
  }
}

static void on_connect(struct mosquitto *m, void *ud, int rc) {
  (void)ud;
  if (rc != 0) {
    fprintf(stderr, "mqimg-rx-host: the broker refused the connection (%s)\n", mosquitto_connack_string(rc));
    h.done = 1;
    h.exit_code = 1;
    return;
  }
  char filter[512];
  /* Manifests first (QoS 1), then pages and chunks at one QoS (PROTOCOL.md 3, 8.6). */
  snprintf(filter, sizeof filter, "%s/mqimg/+/m", h.topic);
  mosquitto_subscribe(m, NULL, filter, 1);
  snprintf(filter, sizeof filter, "%s/mqimg/retained", h.topic);
  mosquitto_subscribe(m, NULL, filter, 1);
  snprintf(filter, sizeof filter, "%s/mqimg/+/h/+", h.topic);
  mosquitto_subscribe(m, NULL, filter, h.qos);
  snprintf(filter, sizeof filter, "%s/mqimg/+/c/+", h.topic);
  mosquitto_subscribe(m, NULL, filter, h.qos);
}

static void on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *granted) {
  (void)m;
  (void)ud;
  (void)mid;
  (void)n;
  (void)granted;
  if (++h.subscribed == 4) {
    printf("{\"event\":\"ready\",\"rx\":\"%s\"}\n", mqimg_rx_id(h.rx));
    fflush(stdout);
  }
}

static int parse_list(const char *s, long *out) {
  int n = 0;
  while (*s && n < MAX_DROPS) {
    char *end;
    out[n++] = strtol(s, &end, 10);
    if (end == s) return -1;
    s = *end == ',' ? end + 1 : end;
  }
  return n;
}

#ifdef MQIMG_RX_WITH_SODIUM
/* The raw 32-byte Ed25519 key of a PEM SubjectPublicKeyInfo file (public) or PKCS#8 file (private: the seed): the
 * last 32 bytes of its base64 body. */
static int read_public_key(const char *path, uint8_t out[32]) {
  char line[256];
  uint8_t der[128];
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "-----", 5) == 0) continue;
    for (char *c = line; *c; c++) {
      const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      const char *at = *c ? strchr(alphabet, *c) : NULL;
      if (!at) continue;
      acc = (acc << 6) | (uint32_t)(at - alphabet);
      bits += 6;
      if (bits >= 8 && n < sizeof der) {
        bits -= 8;
        der[n++] = (uint8_t)(acc >> bits);
      }
    }
  }
  fclose(f);
  if (n < 32) return -1;
  memcpy(out, der + n - 32, 32);
  return 0;
}
#endif

static void usage(void) {
  fprintf(stderr, "usage: mqimg-rx-host --port N --topic T --out FILE [--host H] [--count N] [--drop 3,7]\n"
                  "       [--drop-pages 0] [--drop-times 1] [--rx ID] [--qos 0|1] [--max-bytes N] [--win N]\n"
                  "       [--exit-after S] [--trust KEY.pub] [--pieces N] [--identity NAME.key]\n");
  exit(2);
}

#ifdef MQIMG_RX_WITH_IDENTITY
static uint8_t identity_seed[32];
#endif
#ifdef MQIMG_RX_WITH_SODIUM
static uint8_t trusted[1][32];
static uint64_t wall_ms(void *user) {
  (void)user;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
#endif

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 1883, exit_after = 60;
  mqimg_rx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  h.rx_id = "rx-host";
  h.count = 1;
  h.drop_times = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (strcmp(a, "--host") == 0) host = v;
    else if (strcmp(a, "--port") == 0) port = atoi(v);
    else if (strcmp(a, "--topic") == 0) h.topic = v;
    else if (strcmp(a, "--out") == 0) h.out = v;
    else if (strcmp(a, "--count") == 0) h.count = atoi(v);
    else if (strcmp(a, "--rx") == 0) h.rx_id = v;
    else if (strcmp(a, "--qos") == 0) h.qos = atoi(v);
    else if (strcmp(a, "--max-bytes") == 0) cfg.max_size = (uint32_t)strtoul(v, NULL, 10);
    else if (strcmp(a, "--win") == 0) cfg.win = (uint32_t)strtoul(v, NULL, 10);
    else if (strcmp(a, "--exit-after") == 0) exit_after = atoi(v);
    else if (strcmp(a, "--drop-times") == 0) h.drop_times = atoi(v);
    else if (strcmp(a, "--pieces") == 0) h.pieces = (size_t)strtoul(v, NULL, 10);
    else if (strcmp(a, "--trust") == 0) {
#ifdef MQIMG_RX_WITH_SODIUM
      if (read_public_key(v, trusted[0]) != 0) {
        fprintf(stderr, "mqimg-rx-host: cannot read an Ed25519 public key (PEM) from %s\n", v);
        return 2;
      }
      cfg.trusted_keys = trusted;
      cfg.trusted_key_count = 1;
      cfg.wall_ms = wall_ms;
#else
      fprintf(stderr, "mqimg-rx-host: built without MQIMG_RX_WITH_SODIUM: --trust is not available\n");
      return 2;
#endif
    }
    else if (strcmp(a, "--identity") == 0) {
#ifdef MQIMG_RX_WITH_IDENTITY
      if (read_public_key(v, identity_seed) != 0) {
        fprintf(stderr, "mqimg-rx-host: cannot read an Ed25519 private key (PKCS#8 PEM) from %s\n", v);
        return 2;
      }
      cfg.identity_seed = identity_seed;
#else
      fprintf(stderr, "mqimg-rx-host: built without MQIMG_RX_WITH_IDENTITY: --identity is not available\n");
      return 2;
#endif
    }
    else if (strcmp(a, "--drop") == 0) {
      if ((h.ndrops = parse_list(v, h.drops)) < 0) usage();
    } else if (strcmp(a, "--drop-pages") == 0) {
      if ((h.ndrop_pages = parse_list(v, h.drop_pages)) < 0) usage();
    } else usage();
    i++;
  }
  if (!h.topic || !h.out) usage();
  if (!cfg.max_size) cfg.max_size = sizeof storage;
  cfg.rx_id = h.rx_id;
  cfg.publish = publish;
  cfg.write = write_cb;
  cfg.read = read_cb;
  cfg.now_ms = now_ms;
  cfg.begin = begin;
  cfg.complete = complete;
  cfg.failed = failed;
  cfg.reject = reject;
  h.rx = mqimg_rx_init(state, sizeof state, MAX_CHUNKS, MAX_PAGES, &cfg);
  if (!h.rx) {
    fprintf(stderr, "mqimg-rx-host: invalid configuration (receiver id: 1 to 64 of A-Z a-z 0-9 _ . -)\n");
    return 2;
  }
  mosquitto_lib_init();
  h.mosq = mosquitto_new(NULL, true, NULL);
  mosquitto_int_option(h.mosq, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(h.mosq, on_connect);
  mosquitto_subscribe_callback_set(h.mosq, on_subscribe);
  mosquitto_message_callback_set(h.mosq, on_message);
  if (mosquitto_connect(h.mosq, host, port, 30) != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "mqimg-rx-host: cannot connect to %s:%d\n", host, port);
    return 1;
  }
  uint32_t start = now_ms(NULL);
  while (!h.done) {
    /* As firmware would: while the library has catching up to do (a gap filled), poll again at once, between
     * messages, instead of waiting for the next one. */
    int rc = mosquitto_loop(h.mosq, mqimg_rx_work_left(h.rx) ? 0 : 5, 100);
    if (rc != MOSQ_ERR_SUCCESS) {
      fprintf(stderr, "mqimg-rx-host: connection lost (%s)\n", mosquitto_strerror(rc));
      h.exit_code = 1;
      break;
    }
    mqimg_rx_poll(h.rx);
    if (now_ms(NULL) - start > (uint32_t)exit_after * 1000u) {
      fprintf(stderr, "mqimg-rx-host: %d of %d transfers completed in %d s; giving up\n", h.completed, h.count,
              exit_after);
      h.exit_code = 1;
      break;
    }
  }
  /* Let the final status reach the broker. */
  for (int i = 0; i < 20; i++) mosquitto_loop(h.mosq, 5, 100);
  mosquitto_disconnect(h.mosq);
  mosquitto_destroy(h.mosq);
  mosquitto_lib_cleanup();
  return h.exit_code;
}
