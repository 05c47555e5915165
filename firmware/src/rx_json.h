/* A bounded pull parser for the JSON of manifests: no allocation, no recursion beyond RX_JSON_MAX_DEPTH. */
#ifndef RX_JSON_H
#define RX_JSON_H
#include <stddef.h>
#include <stdint.h>

/** Nesting allowed inside values that are skipped (unknown fields). */
#define RX_JSON_MAX_DEPTH 16

typedef struct {
  const uint8_t *p;
  const uint8_t *end;
} rx_json;

/** Receives the decoded UTF-8 bytes of a string, one at a time. */
typedef void (*rx_json_sink)(void *ctx, uint8_t byte);

/** A number: `is_int` when it is an integer of at most 2^53 - 1 in magnitude (fraction of zeros allowed). */
typedef struct {
  int is_int;
  int negative;
  uint64_t value;
} rx_json_number;

void rx_json_ws(rx_json *j);
/** Consumes `c` after whitespace; 0 when found, -1 otherwise. */
int rx_json_expect(rx_json *j, uint8_t c);
/** The next non-blank byte, not consumed; 0 at the end. */
uint8_t rx_json_peek(rx_json *j);
/** A string (at its opening quote): decoded bytes go to `sink`. 0, or -1 when not a valid string. */
int rx_json_string(rx_json *j, rx_json_sink sink, void *ctx);
/** A number. 0, or -1 when not a valid JSON number. */
int rx_json_number_parse(rx_json *j, rx_json_number *out);
/** `true`/`false`: 0 and *out set, or -1. */
int rx_json_bool(rx_json *j, int *out);
/** Any value, skipped. 0, or -1 when invalid or nested deeper than RX_JSON_MAX_DEPTH. */
int rx_json_skip(rx_json *j);

/** A sink into a fixed buffer: keeps the first `cap` - 1 bytes, NUL-terminated; counts all. */
typedef struct {
  char *buf;
  size_t cap;
  size_t len; /* bytes decoded in all (may exceed cap - 1) */
} rx_json_buf;
void rx_json_buf_sink(void *ctx, uint8_t byte);
#endif
