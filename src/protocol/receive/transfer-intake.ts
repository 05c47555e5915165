import {
  hashInPage,
  hashMatches,
  listedPageHash,
  pageCount,
  pageLength,
  pageOf,
} from '../manifest/chunk-hashes.js';
import type { Manifest } from '../manifest/manifest.js';
import { AckPolicy } from '../status/ack-policy.js';
import { MAX_WANT_PAGES, type Status } from '../status/status.js';
import { fromBase64 } from '../wire/bytes.js';
import type { RejectionCode } from '../wire/codes.js';
import { MAX_STATUS_RANGES } from '../wire/constants.js';
import type { IndexRange } from '../wire/ranges.js';
import { Reassembly } from './reassembly.js';
import { RepairRequests } from './repair-requests.js';

/** Most bytes of chunks kept waiting for their hash page, per transfer: 1 MiB (more are dropped and asked again). */
export const WAITING_BYTES = 1024 * 1024;
/** A hash page not there this long after the manifest is asked for, in milliseconds. */
const PAGE_GRACE_MS = 100;
/** A missing hash page is asked for again at most this often, in milliseconds. */
const PAGE_REPEAT_MS = 300;

/** What a chunk that arrived comes to before its bytes are checked against its hash. */
export type ChunkCheck =
  /** Refused by the reassembly (index out of range, wrong length): `code` and `message` say why. */
  | { kind: 'rejected'; code: RejectionCode; message: string }
  /** Already held (its hash was checked when it first came). */
  | { kind: 'duplicate' }
  /** Its hash page has not arrived yet: kept in memory (`held`) until it does, or dropped when too many wait. */
  | { kind: 'waiting'; held: boolean }
  /** To be checked: the first 16 bytes of its SHA-256 must equal `expected`; then `commit` it. */
  | { kind: 'verify'; expected: Uint8Array };

/** The rejection of a chunk whose bytes do not match its hash in its hash page. */
export function chunkMismatch(index: number): {
  kind: 'rejected';
  code: 'chunk_hash_mismatch';
  message: string;
} {
  return {
    kind: 'rejected',
    code: 'chunk_hash_mismatch',
    message: `chunk ${index} does not match its hash in the manifest (changed in transit or forged); dropped, the next copy is taken`,
  };
}

/**
 * The receiver's rules for one transfer, shared by the Node receiver (session/incoming-transfer.ts) and the display
 * page (display/page-receiver.ts): which hash pages it holds and asks for, which chunks wait for their page, which
 * chunks are held (Reassembly), which to ask for again (RepairRequests), when to report (AckPolicy) and what the
 * `receiving` status says. Pure: the caller hashes bytes (synchronously on Node, with WebCrypto in a browser) and
 * hands in monotonic time in milliseconds; where the bytes are kept is the caller's business.
 */
export class TransferIntake {
  readonly reassembly: Reassembly;
  readonly repairs = new RepairRequests();
  readonly ack = new AckPolicy((nowMs) => this.repairs.repeatDue(nowMs));
  /** Monotonic time of the last chunk or manifest, in milliseconds. */
  lastActivityMs: number;

  /** The manifest's `pages`: the 16-byte hash of every hash page. */
  private readonly listedPages: Uint8Array;
  /** Hash pages received and checked. */
  private readonly pages: Array<Uint8Array | undefined>;
  private pagesHeld = 0;
  /** When each missing page was last asked for (monotonic ms). */
  private readonly pageAskedMs: Float64Array;
  /** Chunks waiting for their hash page, and their total size. */
  private readonly waiting = new Map<number, Uint8Array>();
  private waitingBytes = 0;

  constructor(
    readonly manifest: Manifest,
    /** Monotonic start time, in milliseconds. */
    readonly startedMs: number,
    /** Held-chunk bitmap of an interrupted earlier run, when resuming. */
    resumedBitmap?: Uint8Array,
  ) {
    const { chunks, chunkBytes, size } = manifest;
    this.reassembly = new Reassembly(chunks, size, chunkBytes, resumedBitmap);
    this.listedPages = fromBase64(manifest.pages) ?? new Uint8Array(0);
    const pages = pageCount(chunks, chunkBytes);
    this.pages = new Array<Uint8Array | undefined>(pages).fill(undefined);
    this.pageAskedMs = new Float64Array(pages).fill(Number.NEGATIVE_INFINITY);
    this.lastActivityMs = startedMs;
  }

  /** Hash pages of the transfer. */
  get pageCount(): number {
    return this.pages.length;
  }

  /** Pages and chunks received so far (held, or waiting for their page). */
  get received(): number {
    return this.pagesHeld + this.reassembly.received + this.waiting.size;
  }

  /**
   * Takes hash page `page` (already opened, for encrypted transfers), whose first 16 bytes of SHA-256 are
   * `shortHash`. Returns the chunks that were waiting for it, to be stored now, or a rejection when it is not the
   * page the manifest lists (the next copy may be).
   */
  storePage(
    page: number,
    bytes: Uint8Array,
    shortHash: Uint8Array,
  ): { kind: 'stored'; waiting: Array<[number, Uint8Array]> } | { kind: 'rejected'; message: string } {
    const { chunks, chunkBytes } = this.manifest;
    if (page >= this.pages.length)
      return { kind: 'rejected', message: `hash page ${page} is beyond the manifest` };
    if (this.pages[page]) return { kind: 'stored', waiting: [] };
    const listed = listedPageHash(this.listedPages, page);
    if (bytes.length !== pageLength(page, chunks, chunkBytes) || !hashMatches(shortHash, listed))
      return { kind: 'rejected', message: `hash page ${page} does not match the manifest; dropped` };
    this.pages[page] = Uint8Array.from(bytes);
    this.pagesHeld++;
    const waiting: Array<[number, Uint8Array]> = [];
    for (const [index, payload] of this.waiting) {
      if (pageOf(index, chunkBytes) !== page) continue;
      waiting.push([index, payload]);
      this.waiting.delete(index);
      this.waitingBytes -= payload.length;
    }
    return { kind: 'stored', waiting };
  }

  /**
   * First step of taking chunk `index` (already opened, for encrypted transfers): refused, a duplicate, set aside
   * for its hash page, or to be verified against the hash its page lists (then `commit`).
   */
  check(index: number, payload: Uint8Array): ChunkCheck {
    const result = this.reassembly.check(index, payload.length);
    if (result.kind === 'rejected') return { kind: 'rejected', code: result.code, message: result.message };
    if (result.kind === 'duplicate') return { kind: 'duplicate' };
    const { chunkBytes } = this.manifest;
    const page = this.pages[pageOf(index, chunkBytes)];
    if (!page) {
      if (this.waiting.has(index)) return { kind: 'waiting', held: true };
      const held = this.waitingBytes + payload.length <= WAITING_BYTES;
      if (held) {
        this.waiting.set(index, Uint8Array.from(payload));
        this.waitingBytes += payload.length;
      }
      return { kind: 'waiting', held };
    }
    return { kind: 'verify', expected: hashInPage(page, index, chunkBytes) };
  }

  /**
   * Second step: chunk `index` matched its hash and is now held, at monotonic `nowMs`. Returns whether the
   * transfer is complete and whether the acknowledgement policy wants a status at once (a window of
   * `windowChunks`).
   */
  commit(index: number, nowMs: number, windowChunks: number): { complete: boolean; reportNow: boolean } {
    const r = this.reassembly;
    r.commit(index);
    this.lastActivityMs = nowMs;
    const repaired = this.repairs.arrived(index, nowMs);
    const gap = index > r.next && !r.has(index - 1);
    const reportNow = this.ack.stored({ gap, repaired }, windowChunks);
    return { complete: r.complete, reportNow };
  }

  /** Hash pages still missing that are due to be asked for at `nowMs` (at most MAX_WANT_PAGES); marks them. */
  wantPages(nowMs: number): number[] {
    if (this.pagesHeld === this.pages.length) return [];
    // Pages go out right after the manifest: give them a moment, unless a chunk is already waiting for one.
    if (this.waiting.size === 0 && nowMs - this.startedMs < PAGE_GRACE_MS) return [];
    const want: number[] = [];
    for (let j = 0; j < this.pages.length && want.length < MAX_WANT_PAGES; j++) {
      if (this.pages[j] || nowMs - (this.pageAskedMs[j] ?? 0) < PAGE_REPEAT_MS) continue;
      this.pageAskedMs[j] = nowMs;
      want.push(j);
    }
    return want;
  }

  /** The `receiving` status of receiver `receiverId` to publish now, offering `windowChunks`; records it went out. */
  status(receiverId: string, windowChunks: number, nowMs: number): Status {
    const r = this.reassembly;
    const missing = this.repairs.due(this.withoutWaiting(r.missing(MAX_STATUS_RANGES)), nowMs);
    const wantPages = this.wantPages(nowMs);
    this.ack.sent(nowMs);
    const status: Status = {
      rx: receiverId,
      state: 'receiving',
      next: r.next,
      high: r.high,
      win: windowChunks,
    };
    if (missing.length > 0) status.missing = missing;
    if (wantPages.length > 0) status.wantPages = wantPages;
    return status;
  }

  /** "nothing received for N s with X of Y chunks held", as of monotonic `nowMs`. */
  heldSummary(nowMs: number): string {
    const idleS = Math.round((nowMs - this.lastActivityMs) / 1000);
    return `nothing received for ${idleS} s with ${this.reassembly.received} of ${this.manifest.chunks} chunks held`;
  }

  /** `ranges` without the chunks set aside for their hash page: they are held, not missing (PROTOCOL.md 7.2). */
  private withoutWaiting(ranges: IndexRange[]): IndexRange[] {
    if (this.waiting.size === 0) return ranges;
    const waiting = [...this.waiting.keys()].sort((a, b) => a - b);
    const out: IndexRange[] = [];
    for (const [first, last] of ranges) {
      let from = first;
      // Cost follows the chunks set aside (at most 1 MiB of them), never the length of a range.
      for (const i of waiting) {
        if (i < from || i > last) continue;
        if (i > from) out.push([from, i - 1]);
        from = i + 1;
      }
      if (from <= last) out.push([from, last]);
    }
    return out;
  }
}
