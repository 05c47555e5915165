/* Topics, parsed from the right (PROTOCOL.md 3): T/mqimg/ID/m, T/mqimg/ID/h/J, T/mqimg/ID/c/N, T/mqimg/retained. */
#include <string.h>
#include "rx_internal.h"

/* The level ending just before `end` (exclusive): its start. */
static size_t level_start(const char *t, size_t end) {
  size_t s = end;
  while (s > 0 && t[s - 1] != '/') s--;
  return s;
}

static int is_hex_id(const char *s, size_t n) {
  if (n != 16) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

static int parse_index(const char *s, size_t n, uint32_t *out) {
  if (n == 0 || n > 9 || (n > 1 && s[0] == '0')) return -1;
  uint32_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (uint32_t)(s[i] - '0');
  }
  *out = v;
  return 0;
}

static int level_is(const char *t, size_t start, size_t end, const char *word) {
  size_t n = strlen(word);
  return end - start == n && memcmp(t + start, word, n) == 0;
}

void rx_parse_topic(const char *t, size_t len, topic_parts *out) {
  out->kind = TOPIC_OTHER;
  size_t end = len, s = level_start(t, end);
  /* T/mqimg/retained */
  if (level_is(t, s, end, "retained") && s >= 2) {
    size_t m = level_start(t, s - 1);
    if (level_is(t, m, s - 1, "mqimg") && m >= 2) {
      out->kind = TOPIC_RETAINED;
      out->t_len = m - 1;
      out->id[0] = 0;
    }
    return;
  }
  topic_kind kind;
  if (level_is(t, s, end, "m")) {
    kind = TOPIC_MANIFEST;
  } else {
    if (s < 2 || parse_index(t + s, end - s, &out->index) != 0) return;
    end = s - 1;
    s = level_start(t, end);
    if (level_is(t, s, end, "c")) kind = TOPIC_CHUNK;
    else if (level_is(t, s, end, "h")) kind = TOPIC_PAGE;
    else return;
  }
  if (s < 2) return;
  end = s - 1;
  s = level_start(t, end);
  if (!is_hex_id(t + s, end - s) || s < 2) return;
  memcpy(out->id, t + s, 16);
  out->id[16] = 0;
  end = s - 1;
  s = level_start(t, end);
  if (!level_is(t, s, end, "mqimg") || s < 2) return;
  out->t_len = s - 1;
  out->kind = kind;
}
