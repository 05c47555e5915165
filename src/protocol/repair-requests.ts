import type { IndexRange } from './ranges.js';

/** Bounds of the interval between two requests for the same missing chunk, in milliseconds. */
const MIN_REPEAT_MS = 100;
const MAX_REPEAT_MS = 3000;

/**
 * The receiver's side of retransmission: which missing chunks to ask for now. A chunk is asked for when its gap
 * is first seen, and again only if it has not arrived after about three usual repair times (the time from asking
 * to receiving, smoothed), so that a resend still on its way is not requested twice. Pure: time is handed in.
 */
export class RepairRequests {
  private readonly askedMs = new Map<number, number>();
  private repairMs = 200;

  /**
   * Records that chunk `index` arrived at `nowMs`, learning the repair time if it had been asked for. Returns
   * true when it had been: a repair, which the receiver acknowledges at once so the sender's window moves on.
   */
  arrived(index: number, nowMs: number): boolean {
    const asked = this.askedMs.get(index);
    if (asked === undefined) return false;
    this.repairMs = this.repairMs * 0.75 + (nowMs - asked) * 0.25;
    this.askedMs.delete(index);
    return true;
  }

  /** Of the `missing` ranges, the parts that are due to be asked for at `nowMs`; marks them as asked. */
  due(missing: readonly IndexRange[], nowMs: number): [number, number][] {
    const repeatMs = Math.max(MIN_REPEAT_MS, Math.min(MAX_REPEAT_MS, 3 * this.repairMs));
    const out: [number, number][] = [];
    for (const [first, last] of missing) {
      let start = -1;
      for (let i = first; i <= last; i++) {
        const asked = this.askedMs.get(i);
        if (asked === undefined || nowMs - asked >= repeatMs) {
          if (start < 0) start = i;
          this.askedMs.set(i, nowMs);
        } else if (start >= 0) {
          out.push([start, i - 1]);
          start = -1;
        }
      }
      if (start >= 0) out.push([start, last]);
    }
    return out;
  }

  /** Smoothed time from asking for a chunk to receiving it, in milliseconds (200 before any sample). */
  get smoothedRepairMs(): number {
    return this.repairMs;
  }
}
