/**
 * Counts QoS 1 publishes that wait for their PUBACK and lets callers wait for a free slot: mqtt.js itself would put
 * every publish on the socket at once, past the broker's Receive Maximum. Pure bookkeeping, no I/O and no timers.
 *
 * `run` takes a slot at once, whether or not one is free (the caller checks `hasSlot` or awaits `waitForSlot()`
 * first), and gives it back when the work settles, waking the longest waiter.
 */
export class InflightLimiter {
  private inflight = 0;
  private readonly waiters: Array<() => void> = [];

  /** @param maxInflight most slots taken at once before `hasSlot` turns false (a count, at least 1 to be useful). */
  constructor(readonly maxInflight: number) {}

  /** Slots taken now (publishes waiting for their acknowledgement). */
  get taken(): number {
    return this.inflight;
  }

  /** True when another publish can start without exceeding `maxInflight`. */
  get hasSlot(): boolean {
    return this.inflight < this.maxInflight;
  }

  /** Resolves when `hasSlot` is true: at once if it is now, otherwise when a slot is given back (first come, first served). */
  waitForSlot(): Promise<void> {
    if (this.hasSlot) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Takes a slot, runs `work`, and gives the slot back when it settles (resolved or rejected). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.inflight++;
    try {
      return await work();
    } finally {
      this.inflight--;
      this.waiters.shift()?.();
    }
  }
}
