/** Milliseconds from an arbitrary origin; injected so that tests can drive time. */
export type Clock = () => number;

/** The real monotonic clock, for durations and timeouts. */
export const monotonicClock: Clock = () => performance.now();

/** The real wall clock: milliseconds since the Unix epoch, for timestamps that cross machines or restarts. */
export const wallClock: Clock = () => Date.now();

/** Cancels a timer set by a `Scheduler`; calling it again, or after the timer ran, does nothing. */
export type Cancel = () => void;

/**
 * Sets timers; injected beside the clock (as MQTT.js's `get-timer.ts`), so that protocol, session and page code
 * never call `setTimeout` or `setInterval` themselves and tests drive time with a fake scheduler instead of sleeping.
 */
export interface Scheduler {
  /** Runs `task` once after `delayMs` milliseconds. */
  after(delayMs: number, task: () => void): Cancel;
  /** Runs `task` every `periodMs` milliseconds until cancelled. */
  every(periodMs: number, task: () => void): Cancel;
}

/** The real scheduler: the host's timers (Node's or the browser's). */
export const realScheduler: Scheduler = {
  after(delayMs, task) {
    const timer = setTimeout(task, delayMs);
    return () => clearTimeout(timer);
  },
  every(periodMs, task) {
    const timer = setInterval(task, periodMs);
    return () => clearInterval(timer);
  },
};

/**
 * Resolves after `delayMs` milliseconds on `scheduler` (default the host's); rejects with the signal's reason once
 * `signal` aborts.
 */
export function sleep(
  delayMs: number,
  signal?: AbortSignal,
  scheduler: Scheduler = realScheduler,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = scheduler.after(delayMs, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
