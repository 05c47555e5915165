import type { IndexRange } from '../wire/ranges.js';

/** Bounds of the interval between two requests for the same missing chunk, in milliseconds. */
const MIN_REPEAT_MS = 100;
const MAX_REPEAT_MS = 3000;

/** A range of chunks asked for at one time. */
interface Asked {
  first: number;
  last: number;
  atMs: number;
}

/**
 * The receiver's side of retransmission: which missing chunks to ask for now. A chunk is asked for when its gap
 * is first seen, and again only if it has not arrived after about three usual repair times (the time from asking
 * to receiving, smoothed), so that a resend still on its way is not requested twice. Requests are kept as ranges:
 * memory and time grow with the number of gaps, never with the number of chunks (a manifest of 131,072 chunks
 * with one chunk far out costs two ranges). Pure: time is handed in.
 */
export class RepairRequests {
  /** Ranges asked for less than the repeat interval ago, oldest first; they never overlap. */
  private asked: Asked[] = [];
  private repairMs = 200;

  /**
   * Records that chunk `index` arrived at `nowMs`, learning the repair time if it had been asked for. Returns
   * true when it had been: a repair, which the receiver acknowledges at once so the sender's window moves on.
   */
  arrived(index: number, nowMs: number): boolean {
    const at = this.asked.findIndex((a) => a.first <= index && index <= a.last);
    const a = this.asked[at];
    if (!a) return false;
    this.repairMs = this.repairMs * 0.75 + (nowMs - a.atMs) * 0.25;
    // Split the range around the chunk that came.
    const parts: Asked[] = [];
    if (a.first < index) parts.push({ first: a.first, last: index - 1, atMs: a.atMs });
    if (index < a.last) parts.push({ first: index + 1, last: a.last, atMs: a.atMs });
    this.asked.splice(at, 1, ...parts);
    return true;
  }

  /** Of the `missing` ranges, the parts that are due to be asked for at `nowMs`; marks them as asked. */
  due(missing: readonly IndexRange[], nowMs: number): [number, number][] {
    const repeatMs = this.repeatMs();
    this.asked = this.asked.filter((a) => nowMs - a.atMs < repeatMs);
    const out: [number, number][] = [];
    for (const [first, last] of missing) {
      // The parts of [first, last] not covered by a recent request.
      let from = first;
      const covering = this.asked
        .filter((a) => a.last >= first && a.first <= last)
        .sort((x, y) => x.first - y.first);
      for (const a of covering) {
        if (a.first > from) out.push([from, a.first - 1]);
        from = Math.max(from, a.last + 1);
        if (from > last) break;
      }
      if (from <= last) out.push([from, last]);
    }
    for (const [first, last] of out) this.asked.push({ first, last, atMs: nowMs });
    return out;
  }

  /**
   * True when a request made earlier has gone unanswered for the repeat interval: the chunks are asked for again
   * in the next status, which is therefore due now (PROTOCOL.md 7.2), not only at the next heartbeat.
   */
  repeatDue(nowMs: number): boolean {
    const repeatMs = this.repeatMs();
    return this.asked.some((a) => nowMs - a.atMs >= repeatMs);
  }

  private repeatMs(): number {
    return Math.max(MIN_REPEAT_MS, Math.min(MAX_REPEAT_MS, 3 * this.repairMs));
  }

  /** Smoothed time from asking for a chunk to receiving it, in milliseconds (200 before any sample). */
  get smoothedRepairMs(): number {
    return this.repairMs;
  }
}
