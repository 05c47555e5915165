/*
 * mqimg_rx: a receiver for the mqimg protocol, version 3 (PROTOCOL.md), for microcontrollers.
 *
 * The application owns the MQTT client, the clock and the storage; this library owns the protocol. It:
 *   - parses and checks manifests (section 5), hash pages and chunks (section 6.3) as they arrive;
 *   - writes every chunk that passes its hash straight to its offset through the `write` callback (a frame
 *     buffer for raw pixel formats, a PSRAM buffer or a file for JPEG/PNG);
 *   - publishes `receiving` statuses with `next`, `high`, `win`, `missing` and `wantPages` at the pace section 7.2
 *     asks (every k chunks, at once on a gap or a repair, within 25 ms, a 500 ms heartbeat);
 *   - proves receipt (protocol 3, 7.1): the XOR of every chunk's tag, SHA-256(nonce || index || the chunk's
 *     SHA-256), folded in as each chunk is stored, then HMAC-SHA256 keyed by the nonce over it and `rx_id`. Every
 *     chunk is checked against its hash page, which the manifest lists; the file's SHA-256 is not computed again.
 *
 * It takes one transfer at a time (a display shows one image): a second manifest while one is in progress is
 * answered `too_many_transfers` (the sender retries every second) unless the one in progress stored nothing for
 * 2 s (it is then given up as `timeout`) or the new one supersedes it (section 8.5).
 *
 * Memory: no malloc, ever. The caller hands mqimg_rx_init() one buffer of mqimg_rx_state_size(max_chunks,
 * max_pages) bytes (MQIMG_RX_STATE_SIZE for a static array), which holds everything, the mbedTLS SHA-256
 * context included. Threads: none; call every function from one task. Time: the `now_ms` callback, and
 * mqimg_rx_poll() at least every 15 ms (it sends the 25 ms flush and the 500 ms heartbeat).
 *
 * Not supported (refused with the code the protocol gives): encrypted transfers (section 13, `encrypted`), resuming
 * across restarts (section 4), retained transfers whose chunks arrive before their manifest (they are dropped and
 * asked for again; a sender's retained copy cannot answer, so such a transfer times out), named receivers (a
 * receiver identity and sealed statuses: a manifest's `epk` is accepted and the statuses stay in clear). Signed
 * manifests (section 12) are checked when built with MQIMG_RX_WITH_SODIUM and given trusted keys.
 */
#ifndef MQIMG_RX_H
#define MQIMG_RX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The tunables (MQIMG_RX_MAX_TOPIC, MQIMG_RX_MAX_RANGES, ..., MQIMG_RX_WORK_PER_CALL, MQIMG_RX_BUILTIN_SHA256) are in
 * mqimg_rx_opts.h, which the library includes too: change them there. */
#include "mqimg_rx_opts.h"

/** The options that shape the state, as one number: mqimg_rx_init() compares the application's with the library's. */
#if defined(MQIMG_RX_WITH_IDENTITY) && !defined(MQIMG_RX_WITH_SODIUM)
#error "MQIMG_RX_WITH_IDENTITY needs MQIMG_RX_WITH_SODIUM (libsodium's X25519, SHA-512 and Ed25519 key derivation)"
#endif
#ifdef MQIMG_RX_WITH_IDENTITY
#define MQIMG_RX_OPTS_SODIUM_ 2u
#elif defined(MQIMG_RX_WITH_SODIUM)
#define MQIMG_RX_OPTS_SODIUM_ 1u
#else
#define MQIMG_RX_OPTS_SODIUM_ 0u
#endif
#define MQIMG_RX_OPTS_CHECK                                                                                       \
  ((((((((uint32_t)(MQIMG_RX_MAX_TOPIC)*131u + (uint32_t)(MQIMG_RX_MAX_RANGES)) * 131u +                          \
        (uint32_t)(MQIMG_RX_MAX_ASKED)) * 131u + (uint32_t)(MQIMG_RX_MAX_FINISHED)) * 131u +                      \
      (uint32_t)(MQIMG_RX_MAX_UNKNOWN)) * 131u + (uint32_t)(MQIMG_RX_MAX_KEYS)) * 131u + MQIMG_RX_OPTS_SODIUM_) *  \
       131u + (uint32_t)(MQIMG_RX_BUILTIN_SHA256))

/**
 * Upper bound of the fixed part of the state, in bytes (the exact figure is mqimg_rx_state_size(0, 0), which
 * depends on the size of the platform's mbedtls_sha256_context; mqimg_rx_init() refuses a buffer too small).
 */
#if defined(MQIMG_RX_WITH_IDENTITY) /* the sealed status buffer, keys, the status key of each finished transfer */
#define MQIMG_RX_FIXED_BYTES                                                                                      \
  (3200 + 4 * MQIMG_RX_MAX_TOPIC + 4240 + 17 * MQIMG_RX_MAX_KEYS + 800 + 32 * MQIMG_RX_MAX_RANGES +               \
   33 * MQIMG_RX_MAX_FINISHED)
#elif defined(MQIMG_RX_WITH_SODIUM)
#define MQIMG_RX_FIXED_BYTES (3200 + 4 * MQIMG_RX_MAX_TOPIC + 4240 + 17 * MQIMG_RX_MAX_KEYS)
#else
#define MQIMG_RX_FIXED_BYTES (3200 + 4 * MQIMG_RX_MAX_TOPIC)
#endif
/**
 * State size for transfers of at most `max_chunks` chunks and `max_pages` hash pages: the fixed part, 2 bits
 * and 16 bytes per chunk (held and pending bitmaps, chunk hashes), 21 bytes per hash page (listed hash, time
 * asked, held bit). Use it to size a static buffer: `static uint8_t st[MQIMG_RX_STATE_SIZE(150, 3)];`
 */
#define MQIMG_RX_STATE_SIZE(max_chunks, max_pages)                                                                \
  (MQIMG_RX_FIXED_BYTES + 2 * (((size_t)(max_chunks) + 7) / 8) + 16 * (size_t)(max_chunks) +                      \
   21 * (size_t)(max_pages) + 16)
/** Hash pages of a transfer of `chunks` chunks of `chunk_bytes` bytes: ceil(chunks / floor(chunk_bytes / 16)). */
#define MQIMG_RX_PAGES(chunks, chunk_bytes) (((chunks) + (chunk_bytes) / 16 - 1) / ((chunk_bytes) / 16))
/** Chunks of a file of `size` bytes in chunks of `chunk_bytes` bytes. */
#define MQIMG_RX_CHUNKS(size, chunk_bytes) (((size) + (chunk_bytes) - 1) / (chunk_bytes))

/** Raw pixel layouts (PROTOCOL.md 5.1). MQIMG_RX_PX_NONE: an image file (JPEG, PNG, ...). */
typedef enum {
  MQIMG_RX_PX_NONE = 0,
  MQIMG_RX_PX_RGB565LE,
  MQIMG_RX_PX_RGB565BE,
  MQIMG_RX_PX_RGB888,
  MQIMG_RX_PX_GRAY8,
  MQIMG_RX_PX_GRAY4,
  MQIMG_RX_PX_MONO1
} mqimg_rx_pixel_format;

/**
 * Codes: 0 is success. The failure codes (a `failed` status's `reason`, PROTOCOL.md section 10) and the codes of
 * dropped messages (no status). mqimg_rx_code_name() gives the protocol's name of each.
 */
typedef enum {
  MQIMG_RX_OK = 0,
  /* failures, sent as `reason` */
  MQIMG_RX_TOO_LARGE,          /* final: size, chunks or pages beyond this receiver's limits */
  MQIMG_RX_TOO_MANY_TRANSFERS, /* not final: another transfer is in progress; the sender retries */
  MQIMG_RX_TIMEOUT,            /* not final: nothing stored for the timeout, or given up idle to make room */
  MQIMG_RX_SUPERSEDED,         /* final: a newer transfer with supersede arrived on the same topic */
  MQIMG_RX_WRITE_FAILED,       /* final: the write callback (or the complete callback) returned an error */
  MQIMG_RX_CHECKSUM_MISMATCH,  /* final: the file's SHA-256 differs from the manifest's (not produced: protocol 3) */
  MQIMG_RX_NOT_AN_IMAGE,       /* final: raw pixels whose stride is not the format's, or refused by `begin` */
  MQIMG_RX_UNSIGNED,           /* not final: signatures required and the manifest has none */
  MQIMG_RX_UNTRUSTED_KEY,      /* not final: signed by a key not trusted */
  MQIMG_RX_BAD_SIGNATURE,      /* not final: the signature does not verify for this manifest and topic */
  MQIMG_RX_EXPIRED_SIGNATURE,  /* not final: createdMs older than max_age_ms */
  MQIMG_RX_FUTURE_SIGNATURE,   /* not final: createdMs more than 60 s ahead */
  MQIMG_RX_ENCRYPTED,          /* not final: a sealed manifest (section 13 is not supported) */
  /* dropped messages: no status, reported through on_reject only */
  MQIMG_RX_NOT_JSON,
  MQIMG_RX_UNSUPPORTED_VERSION,
  MQIMG_RX_INVALID_MANIFEST,
  MQIMG_RX_INDEX_OUT_OF_RANGE,
  MQIMG_RX_WRONG_LENGTH,
  MQIMG_RX_CHUNK_HASH_MISMATCH,
  MQIMG_RX_PAGE_HASH_MISMATCH,
  MQIMG_RX_CODE_COUNT
} mqimg_rx_code;

/** What a manifest announced; handed to `begin` and `complete`. Strings are NUL-terminated, in the state. */
typedef struct {
  const char *topic;   /* the sender topic T */
  const char *id;      /* the transfer id, 16 hex digits */
  const char *type;    /* media type, e.g. "image/jpeg", "application/octet-stream" */
  const char *name;    /* suggested file name, UTF-8, cut to 63 bytes at a character boundary; untrusted */
  uint32_t size;       /* file size, bytes */
  uint32_t chunk_bytes;
  uint32_t chunks;
  uint32_t width, height; /* pixels */
  mqimg_rx_pixel_format pixel_format;
  uint32_t stride; /* bytes per row for raw pixels, else 0 */
  uint64_t created_ms; /* sender's wall clock, ms since 1970 */
} mqimg_rx_info;

/**
 * The application's side. `publish`, `write`, `read` and `now_ms` are required; the others may be NULL.
 * Every callback gets `user` first. Callbacks must not call back into the library.
 */
typedef struct {
  /** Receiver id `rx`: 1 to 64 of A-Z a-z 0-9 _ . - ; stable across restarts (e.g. "tft-" + MAC). */
  const char *rx_id;
  /** Largest file accepted, bytes (`too_large` beyond). */
  uint32_t max_size;
  /** `win` offered, chunks beyond `next`, 1 to 65535; 0: the protocol default max(4, min(768, 16 MiB / chunkBytes)). */
  uint32_t win;
  /** A transfer that stored no chunk this long is given up (`timeout`), ms; 0: 30000. */
  uint32_t timeout_ms;

  /** Publishes `len` bytes of JSON on `topic` (QoS 1 if it can, else 0). Returns 0 on success (ignored else). */
  int (*publish)(void *user, const char *topic, const char *payload, size_t len);
  /** Writes `len` bytes at `offset` of the file. Returns 0, or non-zero to fail the transfer (`write_failed`). */
  int (*write)(void *user, uint32_t offset, const uint8_t *data, size_t len);
  /** Reads back `len` bytes at `offset` that `write` wrote (to hash them). Returns 0, or non-zero (`write_failed`). */
  int (*read)(void *user, uint32_t offset, uint8_t *data, size_t len);
  /** A monotonic clock, ms; may wrap at 2^32. */
  uint32_t (*now_ms)(void *user);
  /** Optional. A manifest was accepted; return 0 to take it, or an mqimg_rx_code to refuse it (e.g. the
   *  geometry does not fit the display: MQIMG_RX_NOT_AN_IMAGE, final). Called before anything is written. */
  int (*begin)(void *user, const mqimg_rx_info *info);
  /** Optional. The file is whole, every chunk checked against its hash page: show it. Return 0, or non-zero
   * (`write_failed`). */
  int (*complete)(void *user, const mqimg_rx_info *info);
  /** Optional. A transfer that had begun failed with `code` (the table in README.md says which codes are final).
   *  Manifests refused before `begin` are not reported here: see mqimg_rx_on_message's return value. */
  void (*failed)(void *user, const mqimg_rx_info *info, mqimg_rx_code code);
  /** Optional. A message was dropped with `code`; `index` is the chunk or page index, or -1. For logs. */
  void (*reject)(void *user, mqimg_rx_code code, long index);
  void *user;

  /** Signed manifests (MQIMG_RX_WITH_SODIUM only): trusted Ed25519 public keys; with one or more, unsigned
   *  manifests are refused. `wall_ms`, when set, returns ms since 1970 for the age checks (max_age_ms, 0: 600000);
   *  without it, signature age is not checked. Ignored in builds without MQIMG_RX_WITH_SODIUM. */
  const uint8_t (*trusted_keys)[32];
  unsigned trusted_key_count;
  uint64_t (*wall_ms)(void *user);
  uint32_t max_age_ms;

  /** A named receiver (MQIMG_RX_WITH_IDENTITY only; mqimg_rx_init refuses it otherwise): the 32-byte Ed25519 seed
   *  of `mqimg keygen NAME` (NAME.key). The receiver id is then `k-` and the first 16 hex digits of SHA-256 of its
   *  public key (`rx_id` is ignored and may be NULL), and to a manifest with `epk` (a sender run with
   *  --recipient NAME.pub) every status is sealed under the status key of PROTOCOL.md 12.1. Must stay valid. */
  const uint8_t *identity_seed;
  /** Optional, with identity_seed: fills `out` with `len` random bytes (the nonces of sealed statuses), e.g.
   *  esp_fill_random. NULL: libsodium's randombytes_buf. */
  void (*random)(void *user, uint8_t *out, size_t len);
} mqimg_rx_config;

typedef struct mqimg_rx mqimg_rx;

/** Exact bytes of state for transfers of at most `max_chunks` chunks and `max_pages` hash pages (<= 128). */
size_t mqimg_rx_state_size(uint32_t max_chunks, uint32_t max_pages);

/**
 * Lays the receiver out in `buf` (`len` bytes, any alignment) for transfers of at most `max_chunks` chunks and
 * `max_pages` hash pages. The config is copied, but `rx_id` and `trusted_keys` must stay valid. Returns the
 * receiver, or NULL when `buf` is too small, the config is invalid (a required callback missing, a bad rx_id), or
 * the application was compiled with other options (mqimg_rx_opts.h) than the library. On NULL, `buf` holds a
 * one-line reason, NUL-terminated (cut to `len` bytes), e.g. "mqimg_rx_init: a buffer of 4000 bytes; 5859 needed":
 * print it. mqimg_rx_init is a macro that passes the application's options (MQIMG_RX_OPTS_CHECK) along.
 */
mqimg_rx *(mqimg_rx_init)(void *buf, size_t len, uint32_t max_chunks, uint32_t max_pages, const mqimg_rx_config *cfg);
mqimg_rx *mqimg_rx_init_checked(void *buf, size_t len, uint32_t max_chunks, uint32_t max_pages,
                                const mqimg_rx_config *cfg, uint32_t opts_check);
#define mqimg_rx_init(buf, len, max_chunks, max_pages, cfg)                                                       \
  mqimg_rx_init_checked((buf), (len), (max_chunks), (max_pages), (cfg), MQIMG_RX_OPTS_CHECK)

/**
 * Hands the library one MQTT message: `topic` (`topic_len` bytes, NUL not needed) and its payload. Topics that are
 * not mqimg's are ignored. Returns MQIMG_RX_OK, or the code of a message dropped or refused (for logs).
 */
mqimg_rx_code mqimg_rx_on_message(mqimg_rx *rx, const char *topic, size_t topic_len, const uint8_t *payload,
                                  size_t len);

/**
 * The same for a message that the MQTT client hands over in pieces (esp-mqtt's `current_data_offset` and
 * `total_data_len`, AsyncMqttClient's `index` and `total`): call it for every piece, in order; `offset` is the
 * piece's position in the message, `total` the message's length, and `topic` is needed with the first piece only
 * (offset 0; later pieces may pass NULL, 0). Pieces of chunks and hash pages go straight to their place and into a
 * SHA-256, and the whole is checked when its last piece is in, so the client's buffer may be much smaller than a
 * chunk. A manifest must arrive whole (one piece): one in pieces is refused as `not_json`.
 */
mqimg_rx_code mqimg_rx_on_message_part(mqimg_rx *rx, const char *topic, size_t topic_len, const uint8_t *data,
                                       size_t len, size_t offset, size_t total);

/**
 * Runs the timers (flush, heartbeat, page requests, timeout) and a bounded share of the catching up that a
 * late hash page leaves (MQIMG_RX_WORK_PER_CALL in mqimg_rx_opts.h): chunks stored before their page, read back
 * and checked against it, and then the completion. Call at
 * least every 15 ms, and again at once (releasing any lock in between) while mqimg_rx_work_left() is non-zero.
 */
void mqimg_rx_poll(mqimg_rx *rx);

/**
 * Non-zero while catching up is waiting for mqimg_rx_poll (chunks to read back and check against a page that
 * came, a completion): call mqimg_rx_poll again soon. 0 when a call of mqimg_rx_poll would only run the
 * timers. No call of the library does more than its own message plus about MQIMG_RX_WORK_PER_CALL chunks' worth
 * of this (MQIMG_RX_WORK_PER_CALL SHA-256 passes over a chunk).
 */
int mqimg_rx_work_left(const mqimg_rx *rx);

/** The receiver id in its statuses and proofs: `rx_id`, or a named receiver's `k-` and key id (identity_seed). */
const char *mqimg_rx_id(const mqimg_rx *rx);

/** True while a transfer is in progress. */
int mqimg_rx_busy(const mqimg_rx *rx);

/** The protocol's name of `code` ("too_large", "chunk_hash_mismatch", ...); "ok" for 0. */
const char *mqimg_rx_code_name(mqimg_rx_code code);

/** Bytes per row of `width` pixels in `format` (5.1); 0 for MQIMG_RX_PX_NONE. */
uint32_t mqimg_rx_stride(mqimg_rx_pixel_format format, uint32_t width);

/**
 * For raw pixels: the rows that bytes [offset, offset + len) touch, so that a display can be updated as chunks
 * arrive. Sets *first_row and *rows (rows may be partly covered at either end). Returns 0, or -1 for MQIMG_RX_PX_NONE.
 */
int mqimg_rx_rows(const mqimg_rx_info *info, uint32_t offset, uint32_t len, uint32_t *first_row, uint32_t *rows);

/** Counters since init, for tests and logs. */
typedef struct {
  uint32_t chunks_stored;     /* chunks checked and written */
  uint32_t chunks_duplicate;  /* copies of chunks already held */
  uint32_t chunks_rejected;   /* wrong index, length or hash */
  uint32_t chunks_pending;    /* chunks written before their hash page and checked later */
  uint32_t statuses;          /* statuses published */
  uint32_t completed;         /* transfers verified and completed */
  uint32_t failed;            /* transfers failed */
} mqimg_rx_stats;
void mqimg_rx_get_stats(const mqimg_rx *rx, mqimg_rx_stats *out);

#ifdef __cplusplus
}
#endif
#endif
