/* Manifest parsing and checks (PROTOCOL.md section 5): JSON to fields, with the code of the first rule broken. */
#ifndef RX_MANIFEST_H
#define RX_MANIFEST_H
#include <stddef.h>
#include <stdint.h>
#include "mqimg_rx.h"

/** Longest `type` kept, bytes (longer valid types are kept cut; mqimg's are under 30). */
#define RX_TYPE_BYTES 48
/** Bytes of `name` kept (cut at a UTF-8 character boundary). */
#define RX_NAME_BYTES 64

typedef struct {
  char id[17];
  uint8_t nonce[16];
  uint8_t sha256[32];
  char type[RX_TYPE_BYTES];
  char name[RX_NAME_BYTES];
  uint32_t size, chunk_bytes, chunks, width, height, stride;
  uint64_t created_ms;
  mqimg_rx_pixel_format pixel_format;
  int supersede;
  int has_enc; /* a sealed manifest (section 13) */
  int has_sig;
  char epk[45];          /* named receivers (protocol 3): the sender's ephemeral X25519 key, base64; "" if absent */
  char sig_kid[17];      /* with has_sig: the key id */
  uint8_t sig_value[64]; /* with has_sig: the Ed25519 signature */
  uint32_t pages_bytes; /* decoded length of `pages` */
  uint32_t page_count;  /* P = ceil(chunks / floor(chunkBytes / 16)) */
} rx_manifest;

/** Optional copies of the raw text of `name` (decoded) and `pages` (as sent), for the signing text (section 12). */
typedef struct {
  char *name;
  size_t name_cap, name_len;
  char *pages;
  size_t pages_cap, pages_len;
} rx_manifest_capture;

/**
 * Parses `json` (`len` bytes) and checks every rule of section 5 except the `id` against the topic. When
 * `pages_out` is not NULL, the decoded `pages` go there (at most `pages_cap` bytes). Returns MQIMG_RX_OK,
 * MQIMG_RX_NOT_JSON, MQIMG_RX_UNSUPPORTED_VERSION, MQIMG_RX_INVALID_MANIFEST, or MQIMG_RX_ENCRYPTED when `enc` is
 * present with `mqimg` 3 (checked before the fields that a sealed manifest hides). A `sig` that is not
 * {alg: "ed25519", kid: 16 hex digits, value: 88 characters of base64} breaks the schema (`invalid_manifest`), as
 * does an `epk` that is not 44 characters of base64 (32 bytes). A receiver without an identity only keeps `epk`
 * for the signing text; `mqimg` other than 3 (version 2 included) is MQIMG_RX_UNSUPPORTED_VERSION.
 * `capture`, when not NULL, receives copies of `name` and `pages` (cut at their caps; lengths count all).
 */
mqimg_rx_code rx_manifest_parse(const uint8_t *json, size_t len, rx_manifest *m, uint8_t *pages_out,
                                size_t pages_cap, rx_manifest_capture *capture);
#endif
