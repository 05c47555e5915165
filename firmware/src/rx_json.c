#include "rx_json.h"

void rx_json_ws(rx_json *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

uint8_t rx_json_peek(rx_json *j) {
  rx_json_ws(j);
  return j->p < j->end ? *j->p : 0;
}

int rx_json_expect(rx_json *j, uint8_t c) {
  rx_json_ws(j);
  if (j->p >= j->end || *j->p != c) return -1;
  j->p++;
  return 0;
}

static int json_hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int read_u16(rx_json *j, uint32_t *out) {
  if (j->end - j->p < 4) return -1;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    int h = json_hex_value(j->p[i]);
    if (h < 0) return -1;
    v = (v << 4) | (uint32_t)h;
  }
  j->p += 4;
  *out = v;
  return 0;
}

static void emit_utf8(uint32_t cp, rx_json_sink sink, void *ctx) {
  if (cp < 0x80) {
    sink(ctx, (uint8_t)cp);
  } else if (cp < 0x800) {
    sink(ctx, (uint8_t)(0xc0 | (cp >> 6)));
    sink(ctx, (uint8_t)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    sink(ctx, (uint8_t)(0xe0 | (cp >> 12)));
    sink(ctx, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
    sink(ctx, (uint8_t)(0x80 | (cp & 0x3f)));
  } else {
    sink(ctx, (uint8_t)(0xf0 | (cp >> 18)));
    sink(ctx, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
    sink(ctx, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
    sink(ctx, (uint8_t)(0x80 | (cp & 0x3f)));
  }
}

int rx_json_string(rx_json *j, rx_json_sink sink, void *ctx) {
  if (rx_json_expect(j, '"') != 0) return -1;
  while (j->p < j->end) {
    uint8_t c = *j->p++;
    if (c == '"') return 0;
    if (c < 0x20) return -1;
    if (c != '\\') {
      sink(ctx, c);
      continue;
    }
    if (j->p >= j->end) return -1;
    c = *j->p++;
    switch (c) {
    case '"': case '\\': case '/': sink(ctx, c); break;
    case 'b': sink(ctx, '\b'); break;
    case 'f': sink(ctx, '\f'); break;
    case 'n': sink(ctx, '\n'); break;
    case 'r': sink(ctx, '\r'); break;
    case 't': sink(ctx, '\t'); break;
    case 'u': {
      uint32_t cp;
      if (read_u16(j, &cp) != 0) return -1;
      if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
        const uint8_t *save = j->p;
        uint32_t lo;
        j->p += 2;
        if (read_u16(j, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else {
          j->p = save;
        }
      }
      /* A lone surrogate is valid JSON; it becomes U+FFFD, as a JavaScript string turned to UTF-8 would. */
      if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
      emit_utf8(cp, sink, ctx);
      break;
    }
    default: return -1;
    }
  }
  return -1;
}

#define MAX_SAFE_INTEGER 9007199254740991ULL

int rx_json_number_parse(rx_json *j, rx_json_number *out) {
  rx_json_ws(j);
  out->is_int = 1;
  out->negative = 0;
  out->value = 0;
  if (j->p < j->end && *j->p == '-') {
    out->negative = 1;
    j->p++;
  }
  if (j->p >= j->end || *j->p < '0' || *j->p > '9') return -1;
  if (*j->p == '0') {
    j->p++;
  } else {
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
      if (out->value > MAX_SAFE_INTEGER / 10) out->is_int = 0;
      else out->value = out->value * 10 + (uint64_t)(*j->p - '0');
      j->p++;
    }
    if (out->value > MAX_SAFE_INTEGER) out->is_int = 0;
  }
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return -1;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
      if (*j->p != '0') out->is_int = 0;
      j->p++;
    }
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return -1;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    out->is_int = 0; /* exponents are not used by JSON.stringify for integers below 1e21 */
  }
  if (out->negative && out->value == 0) out->negative = 0;
  return 0;
}

static int literal(rx_json *j, const char *word) {
  rx_json_ws(j);
  for (const char *w = word; *w; w++) {
    if (j->p >= j->end || *j->p != (uint8_t)*w) return -1;
    j->p++;
  }
  return 0;
}

int rx_json_bool(rx_json *j, int *out) {
  uint8_t c = rx_json_peek(j);
  if (c == 't' && literal(j, "true") == 0) {
    *out = 1;
    return 0;
  }
  if (c == 'f' && literal(j, "false") == 0) {
    *out = 0;
    return 0;
  }
  return -1;
}

static void discard(void *ctx, uint8_t byte) {
  (void)ctx;
  (void)byte;
}

/* Iterative: a stack of one bit per level (object or array) instead of recursion. */
int rx_json_skip(rx_json *j) {
  uint32_t stack = 0; /* bit d set: level d is an object */
  int depth = 0;
  for (;;) {
    /* a value */
    uint8_t c = rx_json_peek(j);
    if (c == '{' || c == '[') {
      j->p++;
      if (depth >= RX_JSON_MAX_DEPTH) return -1;
      if (c == '{') stack |= (1u << depth);
      else stack &= ~(1u << depth);
      depth++;
      uint8_t close = (c == '{') ? '}' : ']';
      if (rx_json_peek(j) == close) {
        j->p++;
        depth--;
        goto after_value;
      }
      if (c == '{') {
        if (rx_json_string(j, discard, 0) != 0 || rx_json_expect(j, ':') != 0) return -1;
      }
      continue;
    } else if (c == '"') {
      if (rx_json_string(j, discard, 0) != 0) return -1;
    } else if (c == 't') {
      if (literal(j, "true") != 0) return -1;
    } else if (c == 'f') {
      if (literal(j, "false") != 0) return -1;
    } else if (c == 'n') {
      if (literal(j, "null") != 0) return -1;
    } else {
      rx_json_number n;
      if (rx_json_number_parse(j, &n) != 0) return -1;
    }
  after_value:
    while (depth > 0) {
      int is_object = (stack >> (depth - 1)) & 1u;
      uint8_t next = rx_json_peek(j);
      if (next == ',') {
        j->p++;
        if (is_object) {
          if (rx_json_string(j, discard, 0) != 0 || rx_json_expect(j, ':') != 0) return -1;
        }
        break; /* another value at this level */
      }
      if (next != (is_object ? '}' : ']')) return -1;
      j->p++;
      depth--;
    }
    if (depth == 0) return 0;
  }
}

void rx_json_buf_sink(void *ctx, uint8_t byte) {
  rx_json_buf *b = (rx_json_buf *)ctx;
  if (b->len + 1 < b->cap) {
    b->buf[b->len] = (char)byte;
    b->buf[b->len + 1] = 0;
  }
  b->len++;
}
