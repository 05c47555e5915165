import type { Cancel, Scheduler } from '../../src/util/clock.js';

/**
 * A clock and scheduler that move only when a test says so: `advance(ms)` runs every timer that falls due, in
 * order, and lets the promises each one starts settle before the next. For the injected `clock`/`scheduler`
 * options of the receivers and the sender, so that timeouts are tested without sleeping.
 */
export class FakeScheduler implements Scheduler {
  private nowMs = 0;
  private nextId = 0;
  private readonly timers = new Map<
    number,
    { atMs: number; periodMs: number | undefined; task: () => void }
  >();

  /** The fake monotonic clock, in milliseconds. */
  readonly clock = (): number => this.nowMs;

  after(delayMs: number, task: () => void): Cancel {
    return this.add(delayMs, undefined, task);
  }

  every(periodMs: number, task: () => void): Cancel {
    return this.add(periodMs, periodMs, task);
  }

  /** Moves time on by `ms`, running what falls due on the way. */
  async advance(ms: number): Promise<void> {
    const endMs = this.nowMs + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.atMs <= endMs)
        .sort((a, b) => a[1].atMs - b[1].atMs)[0];
      if (!due) break;
      const [id, timer] = due;
      this.nowMs = Math.max(this.nowMs, timer.atMs);
      if (timer.periodMs === undefined) this.timers.delete(id);
      else timer.atMs += timer.periodMs;
      timer.task();
      await settle();
    }
    this.nowMs = endMs;
    await settle();
  }

  private add(delayMs: number, periodMs: number | undefined, task: () => void): Cancel {
    const id = this.nextId++;
    this.timers.set(id, { atMs: this.nowMs + delayMs, periodMs, task });
    return () => {
      this.timers.delete(id);
    };
  }
}

/** Lets pending promise callbacks and I/O callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
