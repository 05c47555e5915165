import { MAX_WINDOW_BYTES } from '../wire/constants.js';

/** A receiver's timer period, in milliseconds: new chunks not yet reported go out in a status within this long. */
export const STATUS_FLUSH_MS = 25;
/** A receiver repeats its status at least this often while a transfer is in progress, in milliseconds. */
export const HEARTBEAT_MS = 500;
/** Chunks the broker may queue for one receiver across all its transfers: below Mosquitto's 1000 queued messages. */
export const WINDOW_BUDGET_CHUNKS = 768;
/** The smallest window a receiver offers, in chunks. */
export const MIN_WINDOW_CHUNKS = 4;
/** Most new chunks between two statuses. */
export const MAX_ACK_EVERY = 16;

/** New chunks between two statuses for a window of `windowChunks`: an eighth of it, 1 to MAX_ACK_EVERY. */
export function ackEvery(windowChunks: number): number {
  return Math.max(1, Math.min(MAX_ACK_EVERY, Math.floor(windowChunks / 8)));
}

/**
 * The window (`win`, in chunks beyond `next`) a receiver offers each of its `activeTransfers` transfers: its
 * budget shared among them, at most MAX_WINDOW_BYTES of chunks of `chunkBytes`, never below MIN_WINDOW_CHUNKS.
 */
export function receiverWindow(activeTransfers: number, chunkBytes: number): number {
  const share = Math.floor(WINDOW_BUDGET_CHUNKS / Math.max(1, activeTransfers));
  return Math.max(MIN_WINDOW_CHUNKS, Math.min(share, Math.floor(MAX_WINDOW_BYTES / chunkBytes)));
}

/**
 * When a receiver reports on one transfer (PROTOCOL.md, statuses): at once when a gap appears or a repaired chunk
 * arrives, after every `ackEvery(win)` new chunks (like TCP's delayed ACK), within STATUS_FLUSH_MS of any chunk
 * not yet reported, and every HEARTBEAT_MS regardless. The receiver and the simulation tests share this object,
 * so the simulation exercises the real cadence.
 */
export class AckPolicy {
  private newSinceStatus = 0;
  private lastStatusMs = Number.NEGATIVE_INFINITY;

  /**
   * `repeatDue`: true when a repair request has gone unanswered long enough to be repeated
   * (`RepairRequests.repeatDue`); a status then goes out at the next timer tick instead of the next heartbeat.
   */
  constructor(private readonly repeatDue: (nowMs: number) => boolean = () => false) {}

  /**
   * A new chunk was stored. `gap`: it lies beyond a chunk not yet received; `repaired`: it answers a repair
   * request. Returns true when a status must go out now.
   */
  stored(change: { gap: boolean; repaired: boolean }, windowChunks: number): boolean {
    this.newSinceStatus++;
    return change.gap || change.repaired || this.newSinceStatus >= ackEvery(windowChunks);
  }

  /** Asked every STATUS_FLUSH_MS: true when chunks are unreported, a repair request is to be repeated, or the heartbeat is due. */
  due(nowMs: number): boolean {
    return this.newSinceStatus > 0 || nowMs - this.lastStatusMs >= HEARTBEAT_MS || this.repeatDue(nowMs);
  }

  /** A status went out at `nowMs`. */
  sent(nowMs: number): void {
    this.newSinceStatus = 0;
    this.lastStatusMs = nowMs;
  }
}
