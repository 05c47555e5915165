/* Repair requests (PROTOCOL.md 7.2, item 3): a gap is asked for when first seen, and again only once it has not
 * been filled within R = clamp(3 x S, 100, 3000) ms, S the smoothed repair time (200 ms at first). Requests are kept
 * as ranges, MQIMG_RX_MAX_ASKED at most (the oldest is forgotten first, so it may be asked again early). */
#include <string.h>
#include "rx_internal.h"

void rx_repairs_reset(mqimg_rx *rx) {
  rx->asked_count = 0;
  rx->repair_ms = 200;
}

static void drop_asked(mqimg_rx *rx, unsigned at) {
  memmove(&rx->asked[at], &rx->asked[at + 1], (rx->asked_count - at - 1) * sizeof rx->asked[0]);
  rx->asked_count--;
}

static void add_asked(mqimg_rx *rx, uint32_t first, uint32_t last, uint32_t at_ms) {
  if (rx->asked_count == MQIMG_RX_MAX_ASKED) drop_asked(rx, 0);
  rx_asked *a = &rx->asked[rx->asked_count++];
  a->first = first;
  a->last = last;
  a->at_ms = at_ms;
}

int rx_repairs_arrived(mqimg_rx *rx, uint32_t index, uint32_t now) {
  for (unsigned i = 0; i < rx->asked_count; i++) {
    rx_asked a = rx->asked[i];
    if (index < a.first || index > a.last) continue;
    rx->repair_ms = (3 * rx->repair_ms + (now - a.at_ms)) / 4;
    drop_asked(rx, i);
    if (a.first < index) add_asked(rx, a.first, index - 1, a.at_ms);
    if (index < a.last) add_asked(rx, index + 1, a.last, a.at_ms);
    return 1;
  }
  return 0;
}

/* Missing chunks: neither held nor set aside for their page, from `next` up to `high` (exclusive). */
static unsigned missing_ranges(const mqimg_rx *rx, uint32_t (*out)[2], unsigned max) {
  unsigned n = 0;
  uint32_t i = rx->next;
  uint32_t end = rx->high < 0 ? 0 : (uint32_t)rx->high;
  while (i < end && n < max) {
    if ((i & 7) == 0 && i + 8 <= end && (rx->held[i >> 3] | rx->pending[i >> 3]) == 0xff) {
      i += 8;
      continue;
    }
    if (rx_bit(rx->held, i) || rx_bit(rx->pending, i)) {
      i++;
      continue;
    }
    uint32_t first = i;
    while (i < end && !rx_bit(rx->held, i) && !rx_bit(rx->pending, i)) i++;
    out[n][0] = first;
    out[n][1] = i - 1;
    n++;
  }
  return n;
}

unsigned rx_repairs_due(mqimg_rx *rx, uint32_t now, uint32_t (*out)[2], unsigned max) {
  uint32_t missing[MQIMG_RX_MAX_RANGES][2];
  unsigned count = missing_ranges(rx, missing, MQIMG_RX_MAX_RANGES);
  uint32_t repeat = 3 * rx->repair_ms;
  if (repeat < 100) repeat = 100;
  if (repeat > 3000) repeat = 3000;
  for (unsigned i = 0; i < rx->asked_count;) {
    if (now - rx->asked[i].at_ms >= repeat) drop_asked(rx, i);
    else i++;
  }
  unsigned n = 0, recent = rx->asked_count;
  for (unsigned r = 0; r < count && n < max; r++) {
    uint32_t from = missing[r][0], last = missing[r][1];
    for (;;) {
      /* the lowest recent request overlapping [from, last] */
      int best = -1;
      for (unsigned i = 0; i < recent; i++) {
        const rx_asked *a = &rx->asked[i];
        if (a->last >= from && a->first <= last && (best < 0 || a->first < rx->asked[best].first)) best = (int)i;
      }
      if (best < 0) {
        out[n][0] = from;
        out[n][1] = last;
        n++;
        break;
      }
      const rx_asked *a = &rx->asked[best];
      if (a->first > from) {
        out[n][0] = from;
        out[n][1] = a->first - 1;
        n++;
      }
      if (a->last >= last || n >= max) break;
      from = a->last + 1;
    }
  }
  for (unsigned i = 0; i < n; i++) add_asked(rx, out[i][0], out[i][1], now);
  return n;
}
