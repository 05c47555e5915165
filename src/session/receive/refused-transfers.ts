/** How long a transfer refused for now is remembered, in milliseconds (30 s, a sender's default --timeout). */
const REMEMBER_MS = 30_000;

/**
 * How long an ask for a refused transfer's manifest is taken to be on its way, in milliseconds (500): a sender
 * answers a `want-manifest` within 200 ms (PROTOCOL.md 8.1). Meanwhile that transfer is not asked for again, and
 * it counts against the room there is.
 */
export const ASK_PENDING_MS = 500;

/**
 * Most asks for one refused transfer's manifest (3): a sender that is there answers the first; one that is gone
 * (or a forged manifest that never had one) is not asked for ever.
 */
const MAX_ASKS = 3;

/** Most transfers remembered at once (the oldest is forgotten first). */
const MAX_REMEMBERED = 1024;

/**
 * Transfers a receiver refused for now (`too_many_transfers`, `too_many_bytes`: "try again later"), in the order
 * they were first refused. Their senders repeat the manifest every second (PROTOCOL.md 8.1); a receiver that has
 * room again asks the oldest ones for it at once (`want-manifest`) instead: with 50 cameras sending at the same
 * instant to a receiver of 16 places, each round of admissions then follows the previous one's end instead of the
 * next second.
 */
export class RefusedTransfers {
  private readonly byId = new Map<
    string,
    { topic: string; firstMs: number; askedMs: number; asks: number }
  >();

  /** Notes that transfer `id` on `topic` was refused for now, at `nowMs` (monotonic ms). */
  note(topic: string, id: string, nowMs: number): void {
    if (this.byId.has(id)) return;
    if (this.byId.size >= MAX_REMEMBERED) {
      const oldest = this.byId.keys().next();
      if (!oldest.done) this.byId.delete(oldest.value);
    }
    this.byId.set(id, { topic, firstMs: nowMs, askedMs: Number.NEGATIVE_INFINITY, asks: 0 });
  }

  /** True when transfer `id` was refused for now and is still remembered. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Forgets transfer `id` (admitted, or taken by another); true when it was remembered. */
  forget(id: string): boolean {
    return this.byId.delete(id);
  }

  /**
   * The transfers to ask for their manifest now, oldest first, marked as asked: as many as there is `room` (free
   * places) beyond the asks still pending (ASK_PENDING_MS), skipping those pending. Forgets transfers refused
   * longer than REMEMBER_MS ago, and those asked MAX_ASKS times (their sender's own repeats still come).
   */
  askNow(nowMs: number, room: number): { topic: string; id: string }[] {
    let free = room;
    for (const entry of this.byId.values()) if (nowMs - entry.askedMs < ASK_PENDING_MS) free--;
    const chosen: { topic: string; id: string }[] = [];
    for (const [id, entry] of this.byId) {
      const pending = nowMs - entry.askedMs < ASK_PENDING_MS;
      if (nowMs - entry.firstMs >= REMEMBER_MS || (!pending && entry.asks >= MAX_ASKS)) this.byId.delete(id);
      else if (chosen.length >= free) break;
      else if (!pending) {
        entry.askedMs = nowMs;
        entry.asks++;
        chosen.push({ topic: entry.topic, id });
      }
    }
    return chosen;
  }
}
