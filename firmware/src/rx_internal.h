/* The receiver's state, laid out in the caller's buffer. Private to the library. */
#ifndef RX_INTERNAL_H
#define RX_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "mqimg_rx.h"
#include "rx_manifest.h"
#include "rx_sha256.h"

/** Status flush: unreported chunks go out this long after the first of them at the latest, ms (rule: 25). */
#define RX_FLUSH_MS 10
/** Heartbeat while a transfer is in progress, ms. */
#define RX_HEARTBEAT_MS 500
/** A missing hash page is first asked for this long after set-up, ms, and then every RX_PAGE_REPEAT_MS. */
#define RX_PAGE_GRACE_MS 100
#define RX_PAGE_REPEAT_MS 300
/** A transfer that stored nothing this long is given up to make room for a new one, ms. */
#define RX_IDLE_GIVE_UP_MS 2000
/** want-manifest for an unknown id, and final statuses for pages and chunks, at most this often, ms. */
#define RX_WANT_MANIFEST_MS 1000
#define RX_FINAL_REPEAT_MS 500
/** Bytes of a status payload: rx (64), numbers, MQIMG_RX_MAX_RANGES ranges of 2 x 10 digits, 16 pages. */
#define RX_STATUS_BYTES (160 + 24 * MQIMG_RX_MAX_RANGES + 16 * 4)

typedef struct {
  uint32_t first, last, at_ms;
} rx_asked;

typedef struct {
  char id[17];
  uint8_t used;
  uint8_t code; /* MQIMG_RX_OK: complete */
  uint32_t chunks;
  uint32_t last_repeat_ms;
  uint8_t proof[32];
#ifdef MQIMG_RX_WITH_IDENTITY
  uint8_t sealed;  /* its statuses are sealed under `key` (a named receiver's transfer) */
  uint8_t key[32];
#endif
} rx_finished;

typedef struct {
  char id[17];
  uint8_t used;
  uint32_t at_ms;
} rx_unknown;

struct mqimg_rx {
  mqimg_rx_config cfg;
  size_t rx_len;
  uint32_t max_chunks, max_pages;
  /* Areas sized at init, inside the caller's buffer. */
  uint8_t *held;       /* 1 bit per chunk: checked and written */
  uint8_t *pending;    /* 1 bit per chunk: written before its page came, not checked yet */
  uint8_t *hashes;     /* 16 bytes per chunk: the hash pages, page J at 16 * J * H */
  uint8_t *listed;     /* 16 bytes per page: `pages` decoded */
  uint8_t *page_held;  /* 1 bit per page */
  uint32_t *page_asked; /* per page: when last asked for (0: never) */

  /* The transfer in progress. */
  int active;
  char topic[MQIMG_RX_MAX_TOPIC + 1];
  rx_manifest m;
  mqimg_rx_info info;
  uint32_t per_page; /* H */
  uint32_t win, ack_every;
  uint32_t next, held_count, pending_count, pages_held;
  int32_t high;
  uint32_t started_ms, last_chunk_ms, last_status_ms, first_unreported_ms, unreported;
  uint32_t repair_ms;
  unsigned asked_count;
  rx_asked asked[MQIMG_RX_MAX_ASKED];
  rx_sha256 scratch;
  /* The proof of receipt as it grows (protocol 3, PROTOCOL.md 7.1): the XOR of the tags of the chunks held. */
  uint8_t acc[32];
  /* Catching up, spread over calls (rx_work): pending chunks from `check_from` on whose page is held are checked
   * (read back). `budget`: bytes of chunk SHA-256 input left in this call. */
  uint32_t check_from;
  uint32_t budget;
  int worked; /* an item of catching up was done in this call */
  /* A chunk arriving in pieces (mqimg_rx_on_message_part). */
  int piece_active, piece_page;
  uint32_t piece_index, piece_total, piece_received;
  rx_sha256 piece_hash;

  rx_finished finished[MQIMG_RX_MAX_FINISHED];
  unsigned finished_next;
  rx_unknown unknown[MQIMG_RX_MAX_UNKNOWN];
  unsigned unknown_next;

#ifdef MQIMG_RX_WITH_SODIUM
  char key_ids[MQIMG_RX_MAX_KEYS][17];
  /* The signing text of section 12: 19 lines, the topic, the name (up to 1,020 bytes), pages (2,732) and epk (44)
   * included. */
  char sig_text[4250 + MQIMG_RX_MAX_TOPIC];
#endif
#ifdef MQIMG_RX_WITH_IDENTITY
  /* A named receiver: its id (`k-` and its key id), X25519 private key, and the transfer in progress's status key. */
  char named_id[19];
  uint8_t x25519_private[32];
  int sealing;
  uint8_t status_key[32];
  /* A sealed status: {"rx":"...","sealed":"<base64 of nonce, ciphertext, tag>"} */
  char sealed[32 + 64 + 4 * ((RX_STATUS_BYTES + 28 + 2) / 3)];
#endif
  char status_topic[MQIMG_RX_MAX_TOPIC + 32];
  char status[RX_STATUS_BYTES];
  mqimg_rx_stats stats;
};

/* Shared helpers. */
static inline uint32_t rx_now(mqimg_rx *rx) { return rx->cfg.now_ms(rx->cfg.user); }
static inline void rx_reject(mqimg_rx *rx, mqimg_rx_code code, long index) {
  if (rx->cfg.reject) rx->cfg.reject(rx->cfg.user, code, index);
}
/** Final failures are remembered and repeated (section 10); MQIMG_RX_OK (complete) is final too. */
static inline int rx_is_final(mqimg_rx_code code) {
  return code == MQIMG_RX_TOO_LARGE || code == MQIMG_RX_SUPERSEDED || code == MQIMG_RX_WRITE_FAILED ||
         code == MQIMG_RX_CHECKSUM_MISMATCH || code == MQIMG_RX_NOT_AN_IMAGE || code == MQIMG_RX_OK;
}
static inline size_t rx_bitmap_bytes(uint32_t n) { return ((size_t)n + 7) / 8; }

/* rx_topic.c: what a topic is, parsed from the right. */
typedef enum { TOPIC_OTHER, TOPIC_MANIFEST, TOPIC_PAGE, TOPIC_CHUNK, TOPIC_RETAINED } topic_kind;

typedef struct {
  topic_kind kind;
  size_t t_len; /* the sender topic T is topic[0, t_len) */
  char id[17];
  uint32_t index;
} topic_parts;
void rx_parse_topic(const char *t, size_t len, topic_parts *out);

/* rx_finished.c: ended transfers and unknown ids. */
rx_finished *rx_find_finished(mqimg_rx *rx, const char *id);
/** `key`: the status key its statuses are sealed under (a named receiver's transfer), or NULL. */
void rx_remember_finished(mqimg_rx *rx, const char *id, mqimg_rx_code code, uint32_t chunks, const uint8_t *proof,
                          const uint8_t *key, uint32_t now);
void rx_repeat_final(mqimg_rx *rx, const char *topic, size_t t_len, rx_finished *f);
void rx_want_manifest(mqimg_rx *rx, const char *topic, size_t t_len, const char *id, uint32_t now);

/* rx_transfer.c: the transfer in progress. */
void rx_fail(mqimg_rx *rx, mqimg_rx_code code);
mqimg_rx_code rx_on_page(mqimg_rx *rx, uint32_t j, const uint8_t *payload, size_t len);
mqimg_rx_code rx_on_chunk(mqimg_rx *rx, uint32_t n, const uint8_t *payload, size_t len);
uint32_t rx_chunk_length(const rx_manifest *m, uint32_t n);
/** Chunk `n` was checked and written: held now. `digest`: its whole SHA-256, folded into the proof (7.1). */
void rx_commit(mqimg_rx *rx, uint32_t n, const uint8_t digest[32], uint32_t now);
/** Chunk `n`'s tag of the proof of receipt: SHA-256(nonce || n as 4 bytes big endian || digest). */
void rx_chunk_tag(rx_sha256 *scratch, const uint8_t nonce[16], uint32_t n, const uint8_t digest[32],
                  uint8_t out[32]);
/** The proof of receipt: HMAC-SHA256(nonce, "mqimg-proof-v3" || acc || rx id). */
void rx_proof(mqimg_rx *rx, uint8_t out[32]);
/** A new call of the library: the budget of catching up for it (MQIMG_RX_WORK_PER_CALL). */
void rx_work_begin(mqimg_rx *rx);
/** Catching up within this call's budget: pending chunks whose page came, then the completion. */
void rx_work(mqimg_rx *rx);
/** Is catching up waiting? */
int rx_work_waiting(const mqimg_rx *rx);
/** Chunk `n` was written before its hash page came: held aside, checked when the page comes. */
void rx_set_aside(mqimg_rx *rx, uint32_t n, uint32_t now);

/** Bytes of hash page `j`. */
uint32_t rx_page_length(const mqimg_rx *rx, uint32_t j);
/** Hash page `j` (already in `hashes`) matched the manifest: held now, and the chunks set aside for it checked. */
void rx_page_held(mqimg_rx *rx, uint32_t j);

/* rx_pieces.c: chunks and hash pages that arrive in pieces (esp-mqtt, AsyncMqttClient). `page`: a hash page. */
mqimg_rx_code rx_on_piece(mqimg_rx *rx, int page, uint32_t index, const uint8_t *data, size_t len, size_t offset,
                          size_t total);
void rx_piece_abandon(mqimg_rx *rx);

/* rx_admit.c: manifests. `topic_id` is NULL for T/mqimg/retained. */
mqimg_rx_code rx_on_manifest(mqimg_rx *rx, const char *topic, size_t t_len, const char *topic_id,
                             const uint8_t *payload, size_t len);

/* rx_status.c: the status JSON of section 7, published on T/mqimg/ID/r. */
void rx_publish_receiving(mqimg_rx *rx, uint32_t now);
/** `key`: seal it under this status key (a named receiver's transfer, MQIMG_RX_WITH_IDENTITY), or NULL: in clear. */
void rx_publish_final(mqimg_rx *rx, const char *topic, size_t topic_len, const char *id, mqimg_rx_code code,
                      uint32_t chunks, const uint8_t proof[32], const uint8_t *key);
/** The status key of the transfer in progress, or NULL when its statuses go in clear. */
const uint8_t *rx_active_key(mqimg_rx *rx);
void rx_publish_want_manifest(mqimg_rx *rx, const char *topic, size_t topic_len, const char *id);

/* rx_repairs.c: which missing ranges to ask for now (section 7.2, item 3). */
void rx_repairs_reset(mqimg_rx *rx);
/** Chunk `index` arrived; returns 1 when it had been asked for (a repair). */
int rx_repairs_arrived(mqimg_rx *rx, uint32_t index, uint32_t now);
/** Writes into `out` (at most `max`) the parts of the missing ranges due now, and marks them asked. */
unsigned rx_repairs_due(mqimg_rx *rx, uint32_t now, uint32_t (*out)[2], unsigned max);

#ifdef MQIMG_RX_WITH_SODIUM
/* rx_sig.c: key ids of the trusted keys, and the checks of section 12 (MQIMG_RX_OK without trusted keys). */
void rx_sig_init(mqimg_rx *rx);
mqimg_rx_code rx_sig_check(mqimg_rx *rx, const char *topic, size_t t_len, const uint8_t *json, size_t len,
                           const rx_manifest *m);
#endif

#ifdef MQIMG_RX_WITH_IDENTITY
/* rx_identity.c: named receivers (12.1). */
void rx_identity_init(mqimg_rx *rx);
/** The status key of the transfer of manifest `m` (with `epk`): 0, or -1 when `epk` is no usable X25519 key. */
int rx_identity_status_key(mqimg_rx *rx, const rx_manifest *m, uint8_t key[32]);
/** Seals the status in rx->status (`len` bytes; encrypted in place) into rx->sealed; its length, 0 if too long. */
size_t rx_identity_seal(mqimg_rx *rx, const uint8_t key[32], const char *id, size_t len);
#endif

static inline int rx_bit(const uint8_t *bits, uint32_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }
static inline void rx_set_bit(uint8_t *bits, uint32_t i) { bits[i >> 3] = (uint8_t)(bits[i >> 3] | (1u << (i & 7))); }
static inline void rx_clear_bit(uint8_t *bits, uint32_t i) {
  bits[i >> 3] = (uint8_t)(bits[i >> 3] & ~(1u << (i & 7)));
}
#endif
