import type { Status } from '../protocol/status/status.js';

/** A final status is repeated to a sender at most this often, in milliseconds (unless it sent a manifest). */
export const FINAL_REPEAT_MS = 500;
/** A `want-manifest` for one unknown transfer id goes out at most this often, in milliseconds. */
export const WANT_MANIFEST_MS = 1000;
/** Most unknown transfer ids tracked at once: a flood of ids cannot grow the table. */
const MAX_UNKNOWN = 64;
/**
 * Finished transfers remembered at most (~500 bytes each); past it, the oldest is forgotten. A sender repeats its
 * manifest only while it waits for its receivers (`--timeout`, 30 s by default): 4,096 newer transfers finished
 * meanwhile is 136 a second for that whole wait. Was 10,000, dropping the oldest half at once: a receiver's memory
 * grew by ~5 MB over its first 10,000 images (scripts/bench-soak.ts).
 */
export const MAX_FINISHED = 4096;

interface Finished {
  status: Status;
  topic: string;
  lastSentMs: number;
  /** Encrypted transfers: the status key the status is sealed with. */
  key?: Promise<Uint8Array> | undefined;
}

/**
 * What a receiver answers senders about transfers it is not receiving: the final status of those it finished
 * (a sender that missed it asks again), and `want-manifest` for chunks of transfers it never saw, each rate-limited
 * and in bounded tables. Times are monotonic milliseconds.
 */
export class SenderAnswers {
  private readonly finished = new Map<string, Finished>();
  private readonly unknown = new Map<string, number>();

  /** Remembers the final status of transfer `id`, sent at `nowMs`. */
  finish(id: string, topic: string, status: Status, nowMs: number, key?: Promise<Uint8Array>): void {
    this.finished.set(id, { status, topic, lastSentMs: nowMs, key });
    this.unknown.delete(id);
    if (this.finished.size > MAX_FINISHED) {
      // A sender still asking after this many newer transfers has given up anyway.
      const oldest = this.finished.keys().next();
      if (!oldest.done) this.finished.delete(oldest.value);
    }
  }

  /** True when transfer `id` finished here. */
  isFinished(id: string): boolean {
    return this.finished.has(id);
  }

  /**
   * The final status to repeat for a message about finished transfer `id`, or undefined when it was repeated
   * less than FINAL_REPEAT_MS ago (`force`: a manifest, which is answered every time).
   */
  repeatFinal(id: string, nowMs: number, force: boolean): Finished | undefined {
    const done = this.finished.get(id);
    if (!done || (!force && nowMs - done.lastSentMs < FINAL_REPEAT_MS)) return undefined;
    done.lastSentMs = nowMs;
    return done;
  }

  /** True when a `want-manifest` for unknown transfer `id` should go out now; records it. */
  askForManifest(id: string, nowMs: number): boolean {
    const last = this.unknown.get(id);
    if (last !== undefined && nowMs - last < WANT_MANIFEST_MS) return false;
    if (last === undefined && this.unknown.size >= MAX_UNKNOWN) return false;
    this.unknown.set(id, nowMs);
    return true;
  }

  /** Forgets that `id` was unknown (its manifest arrived). */
  known(id: string): void {
    this.unknown.delete(id);
  }
}
