#include "rx_manifest.h"
#include <string.h>
#include "rx_json.h"

enum {
  F_MQIMG = 1u << 0, F_ID = 1u << 1, F_NONCE = 1u << 2, F_NAME = 1u << 3, F_TYPE = 1u << 4, F_SIZE = 1u << 5,
  F_CHUNK_BYTES = 1u << 6, F_CHUNKS = 1u << 7, F_SHA256 = 1u << 8, F_PAGES = 1u << 9, F_WIDTH = 1u << 10,
  F_HEIGHT = 1u << 11, F_CREATED = 1u << 12, F_PIXEL_FORMAT = 1u << 13, F_STRIDE = 1u << 14
};
#define F_REQUIRED                                                                                               \
  (F_MQIMG | F_ID | F_NONCE | F_NAME | F_TYPE | F_SIZE | F_CHUNK_BYTES | F_CHUNKS | F_SHA256 | F_PAGES |          \
   F_WIDTH | F_HEIGHT | F_CREATED)

/* Key names are short; a longer key is an unknown field. */
#define KEY_BYTES 16

/* Counts code points (UTF-8 bytes that are not continuation bytes) and keeps the first bytes whole. */
typedef struct {
  char *buf;
  size_t cap;
  size_t len;
  uint32_t code_points;
  int full;
  rx_manifest_capture *capture;
} name_sink;

static void name_byte(void *ctx, uint8_t byte) {
  name_sink *s = (name_sink *)ctx;
  if (s->capture && s->capture->name) {
    if (s->capture->name_len < s->capture->name_cap) s->capture->name[s->capture->name_len] = (char)byte;
    s->capture->name_len++;
  }
  int lead = (byte & 0xc0) != 0x80;
  if (lead) {
    s->code_points++;
    size_t need = byte < 0x80 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    if (s->len + need + 1 > s->cap) s->full = 1;
  }
  if (!s->full && s->len + 1 < s->cap) {
    s->buf[s->len++] = (char)byte;
    s->buf[s->len] = 0;
  }
}

/* Strict standard base64 with padding, decoded on the fly. */
typedef struct {
  uint8_t *out;
  size_t cap;
  uint32_t decoded;
  uint32_t chars;
  uint32_t acc;
  int bits;
  int padding;
  int bad;
  rx_manifest_capture *capture;
} b64_sink;

static int b64_value(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

static void b64_byte(void *ctx, uint8_t c) {
  b64_sink *s = (b64_sink *)ctx;
  if (s->capture && s->capture->pages) {
    if (s->capture->pages_len < s->capture->pages_cap) s->capture->pages[s->capture->pages_len] = (char)c;
    s->capture->pages_len++;
  }
  s->chars++;
  if (c == '=') {
    s->padding++;
    if (s->padding > 2) s->bad = 1;
    return;
  }
  int v = b64_value(c);
  if (v < 0 || s->padding > 0) {
    s->bad = 1;
    return;
  }
  s->acc = (s->acc << 6) | (uint32_t)v;
  s->bits += 6;
  if (s->bits >= 8) {
    s->bits -= 8;
    if (s->out && s->decoded < s->cap) s->out[s->decoded] = (uint8_t)(s->acc >> s->bits);
    s->decoded++;
    s->acc &= (1u << s->bits) - 1;
  }
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1; /* lowercase only */
}

/* `hex` of exactly 2 * n lowercase digits into `out`. 0, or -1. */
static int from_hex(const char *hex, size_t hex_len, uint8_t *out, size_t n) {
  if (hex_len != 2 * n) return -1;
  for (size_t i = 0; i < n; i++) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    if (out) out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

/* ^[a-z]+/[a-z0-9.+-]+$ */
static int valid_type(const char *t, size_t len) {
  size_t i = 0;
  while (i < len && t[i] >= 'a' && t[i] <= 'z') i++;
  if (i == 0 || i >= len || t[i] != '/') return 0;
  size_t start = ++i;
  for (; i < len; i++) {
    char c = t[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-')) return 0;
  }
  return i > start;
}

/* epk: ^[A-Za-z0-9+/]{43}=$ (32 bytes of standard base64) */
static int valid_epk(const char *t, size_t len) {
  if (len != 44 || t[43] != '=') return 0;
  for (size_t i = 0; i < 43; i++) {
    char c = t[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return 0;
  }
  return 1;
}

static mqimg_rx_pixel_format pixel_format_of(const char *s) {
  static const char *const names[] = {"rgb565le", "rgb565be", "rgb888", "gray8", "gray4", "mono1"};
  for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(s, names[i]) == 0) return (mqimg_rx_pixel_format)(MQIMG_RX_PX_RGB565LE + i);
  }
  return MQIMG_RX_PX_NONE;
}

/* An integer field in [min, max]; sets *bad when it is not. */
static int int_field(rx_json *j, uint64_t min, uint64_t max, uint64_t *out, int *bad) {
  rx_json_number n;
  uint8_t c = rx_json_peek(j);
  if (c != '-' && (c < '0' || c > '9')) {
    *bad = 1;
    return rx_json_skip(j);
  }
  if (rx_json_number_parse(j, &n) != 0) return -1;
  if (!n.is_int || n.negative || n.value < min || n.value > max) *bad = 1;
  else *out = n.value;
  return 0;
}

/* A string field into `buf` (cap bytes); *bad when not a string or longer than cap - 1. */
static int str_field(rx_json *j, char *buf, size_t cap, size_t *len, int *bad) {
  if (rx_json_peek(j) != '"') {
    *bad = 1;
    return rx_json_skip(j);
  }
  rx_json_buf b = {buf, cap, 0};
  buf[0] = 0;
  if (rx_json_string(j, rx_json_buf_sink, &b) != 0) return -1;
  if (b.len >= cap) *bad = 1;
  *len = b.len;
  return 0;
}

/* sig: {"alg":"ed25519","kid":16 hex,"value":88 base64 characters}, nothing else. 0, or -1 when not JSON. */
static int sig_field(rx_json *j, rx_manifest *m, int *bad) {
  unsigned seen = 0;
  char key[8], tmp[96];
  size_t tlen;
  if (rx_json_peek(j) != '{') {
    *bad = 1;
    return rx_json_skip(j);
  }
  j->p++;
  if (rx_json_peek(j) == '}') {
    j->p++;
    *bad = 1;
    return 0;
  }
  for (;;) {
    rx_json_buf kb = {key, sizeof key, 0};
    key[0] = 0;
    if (rx_json_string(j, rx_json_buf_sink, &kb) != 0 || rx_json_expect(j, ':') != 0) return -1;
    int rc;
    if (kb.len < sizeof key && strcmp(key, "alg") == 0) {
      rc = str_field(j, tmp, sizeof tmp, &tlen, bad);
      if (rc == 0 && strcmp(tmp, "ed25519") != 0) *bad = 1;
      seen |= 1;
    } else if (kb.len < sizeof key && strcmp(key, "kid") == 0) {
      rc = str_field(j, m->sig_kid, sizeof m->sig_kid, &tlen, bad);
      if (rc == 0 && (tlen != 16 || from_hex(m->sig_kid, tlen, 0, 8) != 0)) *bad = 1;
      seen |= 2;
    } else if (kb.len < sizeof key && strcmp(key, "value") == 0) {
      if (rx_json_peek(j) != '"') {
        *bad = 1;
        rc = rx_json_skip(j);
      } else {
        b64_sink v = {m->sig_value, sizeof m->sig_value, 0, 0, 0, 0, 0, 0, 0};
        rc = rx_json_string(j, b64_byte, &v);
        if (v.bad || v.chars != 88 || v.decoded != 64 || v.padding != 2) *bad = 1;
      }
      seen |= 4;
    } else {
      *bad = 1; /* additionalProperties: false */
      rc = rx_json_skip(j);
    }
    if (rc != 0) return -1;
    uint8_t c = rx_json_peek(j);
    j->p++;
    if (c == '}') break;
    if (c != ',') return -1;
  }
  if (seen != 7) *bad = 1;
  return 0;
}

mqimg_rx_code rx_manifest_parse(const uint8_t *json, size_t len, rx_manifest *m, uint8_t *pages_out,
                                size_t pages_cap, rx_manifest_capture *capture) {
  rx_json j = {json, json + len};
  uint32_t seen = 0;
  int bad = 0, version_ok = 0;
  uint64_t v = 0;
  char tmp[72];
  size_t tlen;
  name_sink name = {0};
  b64_sink pages = {0};

  memset(m, 0, sizeof *m);
  name.buf = m->name;
  name.cap = sizeof m->name;
  name.capture = capture;
  if (capture) capture->name_len = capture->pages_len = 0;
  pages.out = pages_out;
  pages.cap = pages_cap;

  if (rx_json_expect(&j, '{') != 0) return MQIMG_RX_NOT_JSON;
  if (rx_json_peek(&j) == '}') {
    j.p++;
  } else {
    for (;;) {
      char key[KEY_BYTES];
      rx_json_buf kb = {key, sizeof key, 0};
      key[0] = 0;
      if (rx_json_string(&j, rx_json_buf_sink, &kb) != 0 || rx_json_expect(&j, ':') != 0) return MQIMG_RX_NOT_JSON;
      if (kb.len >= sizeof key) key[0] = 0; /* unknown */
      int rc = 0;
      if (strcmp(key, "mqimg") == 0) {
        rx_json_number n;
        uint8_t c = rx_json_peek(&j);
        if (c == '-' || (c >= '0' && c <= '9')) {
          rc = rx_json_number_parse(&j, &n);
          version_ok = rc == 0 && n.is_int && !n.negative && n.value == 3;
        } else {
          version_ok = 0;
          rc = rx_json_skip(&j);
        }
        seen |= F_MQIMG;
      } else if (strcmp(key, "id") == 0) {
        rc = str_field(&j, m->id, sizeof m->id, &tlen, &bad);
        if (rc == 0 && (tlen != 16 || from_hex(m->id, tlen, 0, 8) != 0)) bad = 1;
        seen |= F_ID;
      } else if (strcmp(key, "nonce") == 0) {
        rc = str_field(&j, tmp, sizeof tmp, &tlen, &bad);
        if (rc == 0 && from_hex(tmp, tlen, m->nonce, 16) != 0) bad = 1;
        seen |= F_NONCE;
      } else if (strcmp(key, "sha256") == 0) {
        rc = str_field(&j, tmp, sizeof tmp, &tlen, &bad);
        if (rc == 0 && from_hex(tmp, tlen, m->sha256, 32) != 0) bad = 1;
        seen |= F_SHA256;
      } else if (strcmp(key, "name") == 0) {
        if (rx_json_peek(&j) != '"') {
          bad = 1;
          rc = rx_json_skip(&j);
        } else {
          name.len = 0;
          if (capture) capture->name_len = 0;
          name.code_points = 0;
          name.full = 0;
          m->name[0] = 0;
          rc = rx_json_string(&j, name_byte, &name);
          if (name.code_points < 1 || name.code_points > 255) bad = 1;
        }
        seen |= F_NAME;
      } else if (strcmp(key, "type") == 0) {
        rc = str_field(&j, m->type, sizeof m->type, &tlen, &bad);
        if (rc == 0 && !valid_type(m->type, tlen)) bad = 1;
        seen |= F_TYPE;
      } else if (strcmp(key, "pixelFormat") == 0) {
        rc = str_field(&j, tmp, sizeof tmp, &tlen, &bad);
        m->pixel_format = pixel_format_of(tmp);
        if (rc == 0 && m->pixel_format == MQIMG_RX_PX_NONE) bad = 1;
        seen |= F_PIXEL_FORMAT;
      } else if (strcmp(key, "pages") == 0) {
        if (rx_json_peek(&j) != '"') {
          bad = 1;
          rc = rx_json_skip(&j);
        } else {
          b64_sink fresh = {pages_out, pages_cap, 0, 0, 0, 0, 0, 0, capture};
          if (capture) capture->pages_len = 0;
          pages = fresh;
          rc = rx_json_string(&j, b64_byte, &pages);
          if (pages.bad || pages.chars % 4 != 0 || pages.chars > 2732) bad = 1;
          m->pages_bytes = pages.decoded;
        }
        seen |= F_PAGES;
      } else if (strcmp(key, "size") == 0) {
        rc = int_field(&j, 1, 1073741824u, &v, &bad);
        m->size = (uint32_t)v;
        seen |= F_SIZE;
      } else if (strcmp(key, "chunkBytes") == 0) {
        rc = int_field(&j, 64, 524288, &v, &bad);
        m->chunk_bytes = (uint32_t)v;
        seen |= F_CHUNK_BYTES;
      } else if (strcmp(key, "chunks") == 0) {
        rc = int_field(&j, 1, 9007199254740991ULL, &v, &bad);
        m->chunks = v > 0xffffffffu ? 0xffffffffu : (uint32_t)v;
        seen |= F_CHUNKS;
      } else if (strcmp(key, "width") == 0) {
        rc = int_field(&j, 1, 1000000, &v, &bad);
        m->width = (uint32_t)v;
        seen |= F_WIDTH;
      } else if (strcmp(key, "height") == 0) {
        rc = int_field(&j, 1, 1000000, &v, &bad);
        m->height = (uint32_t)v;
        seen |= F_HEIGHT;
      } else if (strcmp(key, "stride") == 0) {
        rc = int_field(&j, 1, 9007199254740991ULL, &v, &bad);
        m->stride = v > 0xffffffffu ? 0xffffffffu : (uint32_t)v;
        seen |= F_STRIDE;
      } else if (strcmp(key, "createdMs") == 0) {
        rc = int_field(&j, 0, 9007199254740991ULL, &m->created_ms, &bad);
        seen |= F_CREATED;
      } else if (strcmp(key, "supersede") == 0) {
        if (rx_json_bool(&j, &m->supersede) != 0) {
          bad = 1;
          rc = rx_json_skip(&j);
        }
      } else if (strcmp(key, "epk") == 0) {
        rc = str_field(&j, m->epk, sizeof m->epk, &tlen, &bad);
        if (rc == 0 && !valid_epk(m->epk, tlen)) bad = 1;
      } else if (strcmp(key, "enc") == 0) {
        m->has_enc = 1;
        rc = rx_json_skip(&j);
      } else if (strcmp(key, "sig") == 0) {
        m->has_sig = 1;
        rc = sig_field(&j, m, &bad);
      } else {
        rc = rx_json_skip(&j);
      }
      if (rc != 0) return MQIMG_RX_NOT_JSON;
      uint8_t c = rx_json_peek(&j);
      j.p++;
      if (c == '}') break;
      if (c != ',') return MQIMG_RX_NOT_JSON;
    }
  }
  rx_json_ws(&j);
  if (j.p != j.end) return MQIMG_RX_NOT_JSON;

  if (!version_ok) return (seen & F_MQIMG) ? MQIMG_RX_UNSUPPORTED_VERSION : MQIMG_RX_INVALID_MANIFEST;
  if (m->has_enc) return MQIMG_RX_ENCRYPTED;
  if (bad || (seen & F_REQUIRED) != F_REQUIRED) return MQIMG_RX_INVALID_MANIFEST;
  /* The rules that relate fields. */
  uint32_t per_page = m->chunk_bytes / 16;
  if (m->chunks != (m->size + m->chunk_bytes - 1) / m->chunk_bytes) return MQIMG_RX_INVALID_MANIFEST;
  if ((uint64_t)m->chunks > 128ULL * per_page) return MQIMG_RX_INVALID_MANIFEST;
  m->page_count = (m->chunks + per_page - 1) / per_page;
  if (m->pages_bytes != 16 * m->page_count) return MQIMG_RX_INVALID_MANIFEST;
  if ((seen & F_PIXEL_FORMAT) &&
      (!(seen & F_STRIDE) || (uint64_t)m->stride * m->height != (uint64_t)m->size))
    return MQIMG_RX_INVALID_MANIFEST;
  if (!(seen & F_PIXEL_FORMAT)) {
    m->pixel_format = MQIMG_RX_PX_NONE;
    m->stride = 0; /* a stride without pixelFormat is an unknown-meaning field: ignored */
  }
  return MQIMG_RX_OK;
}
