/** Retransmission timeout before any round trip was measured, in milliseconds. */
export const INITIAL_RTO_MS = 1000;
/** Bounds of the retransmission timeout, in milliseconds. */
export const MIN_RTO_MS = 100;
export const MAX_RTO_MS = 8000;

/**
 * The sender's round-trip estimate (PROTOCOL.md 8.1): samples are the time from a chunk's only publication to the
 * status that first acknowledges it as `high` (Karn's rule is the caller's: a resent chunk gives no sample);
 * smoothed as 7/8 x RTT + 1/8 x sample, like TCP's SRTT. All times in milliseconds.
 */
export class RttEstimator {
  private srtt = Number.NaN;

  /** Takes a sample: the chunk went out at `sentMs` and was acknowledged at `nowMs`. */
  sample(sentMs: number, nowMs: number): void {
    const sample = Math.max(0, nowMs - sentMs);
    this.srtt = Number.isNaN(this.srtt) ? sample : this.srtt * 0.875 + sample * 0.125;
  }

  /** Smoothed round-trip time, NaN until the first sample. */
  get smoothedMs(): number {
    return this.srtt;
  }

  /** Retransmission timeout: INITIAL_RTO_MS until measured, then clamp(2 x RTT + 50, MIN_RTO_MS, MAX_RTO_MS). */
  get rtoMs(): number {
    if (Number.isNaN(this.srtt)) return INITIAL_RTO_MS;
    return Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, 2 * this.srtt + 50));
  }
}
