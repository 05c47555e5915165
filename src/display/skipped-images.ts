import type { FailureCode } from '../protocol/wire/codes.js';

/**
 * Why a display leaves an image out: a newer one on the same sender topic replaced it unfinished (`superseded`),
 * the page was already busy with as many transfers or bytes as it takes (`too_many_transfers`, `too_many_bytes`:
 * refusals the sender may retry), or it arrived whole but a newer one was decoded first (the view's own skip).
 */
const SKIPPING_FAILURES: ReadonlySet<FailureCode> = new Set([
  'superseded',
  'too_many_transfers',
  'too_many_bytes',
]);

/**
 * Counts the images a display did not show because it could not keep up with the feed, so that the page can say so
 * ("skipped N, showing the newest") instead of silently showing fewer images than were sent. An image counts once,
 * when a newer one is shown while it is still unshown; a refused transfer that is admitted later (its sender
 * retried) and shown is not counted. Memory: at most `limit` (default 1,000) transfer ids are remembered.
 */
export class SkippedImages {
  /** Transfers refused or dropped for a newer one and not (yet) shown. */
  private readonly pending = new Set<string>();
  /** Transfers already counted as skipped, in case one is admitted and shown after all. */
  private readonly counted = new Set<string>();
  private skippedCount = 0;

  constructor(private readonly limit = 1_000) {}

  /** Images skipped so far. */
  get skipped(): number {
    return this.skippedCount;
  }

  /** Transfer `id` failed with `code`; true when that means it was left out for a newer or a busy page. */
  failed(id: string, code: FailureCode): boolean {
    if (!SKIPPING_FAILURES.has(code)) return false;
    this.remember(this.pending, id);
    return true;
  }

  /** Transfer `id` was admitted (perhaps after a refusal its sender retried): it may yet be shown. */
  started(id: string): void {
    this.pending.delete(id);
  }

  /** A finished image (`id`) was overtaken by a newer one before it reached the screen. */
  overtaken(id: string): void {
    this.pending.delete(id);
    this.count(id);
  }

  /** Image `id` is on screen: every transfer left out before it is now skipped for good. */
  shown(id: string): void {
    this.pending.delete(id);
    if (this.counted.delete(id)) this.skippedCount--;
    for (const left of this.pending) this.count(left);
    this.pending.clear();
  }

  private count(id: string): void {
    if (this.counted.has(id)) return;
    this.skippedCount++;
    this.remember(this.counted, id);
  }

  /** Adds `id` to `set`, forgetting the oldest entry beyond `limit`. */
  private remember(set: Set<string>, id: string): void {
    set.add(id);
    if (set.size > this.limit) {
      const oldest = set.values().next().value;
      if (oldest !== undefined) set.delete(oldest);
    }
  }
}

/** The overlay's line for `skipped` images: empty while none were, else how many and that the newest is shown. */
export function skippedLine(skipped: number): string {
  if (skipped === 0) return '';
  const images = skipped === 1 ? '1 image' : `${skipped} images`;
  return `skipped ${images} (the feed is faster than this display): showing the newest`;
}
