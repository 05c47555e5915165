import { chunkLength } from '../wire/chunking.js';
import type { IndexRange } from '../wire/ranges.js';

/** What happened to a chunk handed to `Reassembly.accept`. */
export type AcceptResult =
  | { kind: 'new' }
  | { kind: 'duplicate' }
  | { kind: 'rejected'; code: 'index_out_of_range' | 'wrong_length'; message: string };

/**
 * Which chunks of one transfer are held, and which are missing. Pure bookkeeping: the bytes themselves are
 * written elsewhere. Memory: one bit per chunk.
 */
export class Reassembly {
  private readonly held: Uint8Array;
  private heldCount = 0;
  private lowestMissing = 0;
  private highestHeld = -1;

  constructor(
    /** Number of chunks in the transfer. */
    readonly chunks: number,
    /** File size in bytes. */
    readonly sizeBytes: number,
    /** Payload bytes of every chunk but the last. */
    readonly chunkBytes: number,
    /** A bitmap from `bitmap()` to resume from. */
    bitmap?: Uint8Array,
  ) {
    this.held = new Uint8Array(Math.ceil(chunks / 8));
    if (bitmap && bitmap.length === this.held.length) {
      this.held.set(bitmap);
      for (let i = 0; i < chunks; i++) {
        if (this.has(i)) {
          this.heldCount++;
          this.highestHeld = i;
        }
      }
      this.advance();
    }
  }

  /** Checks a chunk's index and length, and records it. Never throws. */
  accept(index: number, lengthBytes: number): AcceptResult {
    const result = this.check(index, lengthBytes);
    if (result.kind === 'new') this.commit(index);
    return result;
  }

  /** Checks a chunk's index and length without recording it (`commit` does, once its bytes are checked too). */
  check(index: number, lengthBytes: number): AcceptResult {
    if (!Number.isInteger(index) || index < 0 || index >= this.chunks) {
      return {
        kind: 'rejected',
        code: 'index_out_of_range',
        message: `chunk index ${index} is outside 0..${this.chunks - 1}`,
      };
    }
    const expected = chunkLength(index, this.sizeBytes, this.chunkBytes);
    if (lengthBytes !== expected) {
      return {
        kind: 'rejected',
        code: 'wrong_length',
        message: `chunk ${index} has ${lengthBytes} bytes; the manifest says it has ${expected}`,
      };
    }
    if (this.has(index)) return { kind: 'duplicate' };
    return { kind: 'new' };
  }

  /** Records chunk `index` (checked, not yet held) as held. */
  commit(index: number): void {
    if (this.has(index)) return;
    this.held[index >> 3] = (this.held[index >> 3] ?? 0) | (1 << (index & 7));
    this.heldCount++;
    if (index > this.highestHeld) this.highestHeld = index;
    if (index === this.lowestMissing) this.advance();
  }

  /** True when chunk `index` is held. */
  has(index: number): boolean {
    return ((this.held[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
  }

  /** Every chunk below this index is held; equals `chunks` when complete. */
  get next(): number {
    return this.lowestMissing;
  }
  /** Highest chunk index held, -1 when none. */
  get high(): number {
    return this.highestHeld;
  }
  /** Number of distinct chunks held. */
  get received(): number {
    return this.heldCount;
  }
  get complete(): boolean {
    return this.heldCount === this.chunks;
  }

  /**
   * Missing ranges, inclusive, between `next` and `below` (exclusive; default `high`, so that chunks still in
   * flight beyond the highest one held are not reported), at most `maxRanges` of them, lowest first.
   */
  missing(maxRanges: number, below = this.highestHeld): IndexRange[] {
    const ranges: IndexRange[] = [];
    let i = this.lowestMissing;
    const end = Math.min(below, this.chunks);
    while (i < end && ranges.length < maxRanges) {
      if (this.has(i)) {
        // Whole bytes of held chunks are skipped 8 at a time: the cost follows the gaps, not the chunks.
        i = i % 8 === 0 && this.held[i >> 3] === 0xff ? i + 8 : i + 1;
        continue;
      }
      const first = i;
      while (i < end && !this.has(i)) i = i % 8 === 0 && this.held[i >> 3] === 0 ? i + 8 : i + 1;
      i = Math.min(i, end);
      ranges.push([first, i - 1]);
    }
    return ranges;
  }

  /** A copy of the held-chunk bitmap (bit i%8 of byte i/8 set when chunk i is held), for persisting. */
  bitmap(): Uint8Array {
    return this.held.slice();
  }

  private advance(): void {
    while (this.lowestMissing < this.chunks && this.has(this.lowestMissing)) this.lowestMissing++;
  }
}
