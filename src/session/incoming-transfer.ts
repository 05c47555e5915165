import { shortHash } from '../platform/node-crypto.js';
import { AckPolicy } from '../protocol/ack-policy.js';
import { fromBase64, toBase64 } from '../protocol/bytes.js';
import {
  hashInPage,
  hashMatches,
  listedPageHash,
  pageCount,
  pageLength,
  pageOf,
} from '../protocol/chunk-hashes.js';
import { chunkOffset } from '../protocol/chunking.js';
import type { RejectionCode } from '../protocol/codes.js';
import { MAX_STATUS_RANGES } from '../protocol/constants.js';
import type { Manifest } from '../protocol/manifest.js';
import type { IndexRange } from '../protocol/ranges.js';
import { Reassembly } from '../protocol/reassembly.js';
import { RepairRequests } from '../protocol/repair-requests.js';
import { MAX_WANT_PAGES, type Status } from '../protocol/status.js';
import { InOrderHash } from './in-order-hash.js';
import type { PartialFile } from './partial-file.js';
import { type PartialState, removePartialState, savePartialState } from './partial-state.js';

/** Most bytes of chunks kept waiting for their hash page, per transfer: 1 MiB (more are dropped and asked again). */
const WAITING_BYTES = 1024 * 1024;
/** A hash page not there this long after the manifest is asked for, in milliseconds. */
const PAGE_GRACE_MS = 100;
/** A missing hash page is asked for again at most this often, in milliseconds. */
const PAGE_REPEAT_MS = 300;

/** How often the partial state of a transfer in progress is saved for resuming, at most, in milliseconds. */
const SAVE_STATE_MS = 1000;

/** What storing one chunk came to. */
export type ChunkOutcome =
  /** Refused by the reassembly (index out of range, wrong length): `code` and `message` say why. */
  | { kind: 'rejected'; code: RejectionCode; message: string }
  /** Already held (its hash was checked when it first came). */
  | { kind: 'duplicate' }
  /** Its hash page has not arrived yet: kept in memory (`held`) until it does, or dropped when too many wait. */
  | { kind: 'waiting'; held: boolean }
  /** Could not be written to the partial file. */
  | { kind: 'write_failed'; message: string }
  /** Written; `reportNow` when the acknowledgement policy wants a status at once. */
  | { kind: 'stored'; complete: boolean; reportNow: boolean };

/**
 * One transfer a receiver is taking in: its manifest, the hidden partial file the chunks are written to as they
 * arrive, which chunks are held, the running hash, the repair requests made, and when to report. Knows nothing of
 * MQTT: the receiver routes messages to it and publishes what it says.
 */
export class IncomingTransfer {
  readonly reassembly: Reassembly;
  readonly repairs = new RepairRequests();
  readonly ack = new AckPolicy();
  readonly hash: InOrderHash;
  /** Monotonic time of the last chunk or manifest, in milliseconds. */
  lastActivityMs: number;
  /** Set once the transfer is being verified and saved, or was given up: later chunks are ignored. */
  finishing = false;
  /** Chunks arrived since the partial state was last saved. */
  dirty = false;
  lastSavedMs: number;
  /** Encrypted transfers: the key this receiver seals its statuses with (protocol/status-seal.ts). */
  statusKey: Promise<Uint8Array> | undefined;
  /** The partial-state write in progress, if any. */
  saving: Promise<void> | undefined;

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
    /** The sender topic. */
    readonly topic: string,
    readonly file: PartialFile,
    /** The key chunks are sealed with (encrypted transfers only). */
    readonly chunkKey: Uint8Array | undefined,
    /** Monotonic start time, in milliseconds. */
    readonly startedMs: number,
    /** This receiver's id, which its proof of receipt includes. */
    receiverId: string,
    /** Held-chunk bitmap of an interrupted earlier run, when resuming. */
    resumedBitmap?: Uint8Array,
  ) {
    this.reassembly = new Reassembly(manifest.chunks, manifest.size, manifest.chunkBytes, resumedBitmap);
    const { chunks, nonce } = manifest;
    // A resumed transfer is hashed from disk at the end: its first chunks are not in memory.
    this.hash = resumedBitmap
      ? InOrderHash.abandoned(chunks, nonce, receiverId)
      : new InOrderHash(chunks, nonce, receiverId);
    this.listedPages = fromBase64(manifest.pages) ?? new Uint8Array(0);
    const pages = pageCount(chunks, manifest.chunkBytes);
    this.pages = new Array<Uint8Array | undefined>(pages).fill(undefined);
    this.pageAskedMs = new Float64Array(pages).fill(Number.NEGATIVE_INFINITY);
    this.lastActivityMs = startedMs;
    this.lastSavedMs = startedMs;
  }

  /** Hash pages of the transfer. */
  get pageCount(): number {
    return this.pages.length;
  }

  /** Pages and chunks received so far (held, or waiting for their page). */
  get received(): number {
    return this.pagesHeld + this.reassembly.received + this.waiting.size;
  }

  get id(): string {
    return this.manifest.id;
  }

  /**
   * Takes hash page `page` (already opened, for encrypted transfers). Returns the chunks that were waiting for it,
   * to be stored now, or a rejection when it is not the page the manifest lists (the next copy may be).
   */
  storePage(
    page: number,
    bytes: Uint8Array,
  ): { kind: 'stored'; waiting: Array<[number, Uint8Array]> } | { kind: 'rejected'; message: string } {
    const { chunks, chunkBytes } = this.manifest;
    if (page >= this.pages.length)
      return { kind: 'rejected', message: `hash page ${page} is beyond the manifest` };
    if (this.pages[page]) return { kind: 'stored', waiting: [] };
    const listed = listedPageHash(this.listedPages, page);
    if (bytes.length !== pageLength(page, chunks, chunkBytes) || !hashMatches(shortHash(bytes), listed))
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

  /** Takes chunk `index` (already opened, for encrypted transfers) at monotonic time `nowMs`. */
  store(index: number, payload: Uint8Array, nowMs: number, windowChunks: number): ChunkOutcome {
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
    // Checked on arrival: a wrong copy is refused now, and the next copy of the chunk is taken.
    if (!hashMatches(shortHash(payload), hashInPage(page, index, chunkBytes))) {
      return {
        kind: 'rejected',
        code: 'chunk_hash_mismatch',
        message: `chunk ${index} does not match its hash in the manifest (changed in transit or forged); dropped, the next copy is taken`,
      };
    }
    this.reassembly.commit(index);
    this.lastActivityMs = nowMs;
    const offset = chunkOffset(index, chunkBytes);
    const repaired = this.repairs.arrived(index, nowMs);
    this.hash.add(index, payload);
    this.dirty = true;
    try {
      this.file.write(offset, payload);
    } catch (error) {
      return { kind: 'write_failed', message: `cannot write ${this.file.path}: ${(error as Error).message}` };
    }
    const r = this.reassembly;
    const gap = index > r.next && !r.has(index - 1);
    const reportNow = this.ack.stored({ gap, repaired }, windowChunks);
    return { kind: 'stored', complete: r.complete, reportNow };
  }

  /** The `receiving` status to publish now, offering `windowChunks`; records that it went out. */
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

  /**
   * Starts writing the partial state (the bitmap of chunks already in the file) in the background when chunks
   * arrived since it was last saved, at most every `everyMs` (default 1 s; monotonic `nowMs`; `wallNowMs` stamps the
   * state).
   */
  saveStateEvery(outDir: string, nowMs: number, wallNowMs: number, everyMs = SAVE_STATE_MS): void {
    if (!this.dirty || this.saving || nowMs - this.lastSavedMs < everyMs) return;
    this.saving = this.saveState(outDir, nowMs, wallNowMs)
      .catch(() => {})
      .finally(() => {
        this.saving = undefined;
      });
  }

  /** Saves the partial state and closes the file, for a later resume. Never rejects. */
  async keepForResume(outDir: string, nowMs: number, wallNowMs: number): Promise<void> {
    await this.saving;
    await this.saveState(outDir, nowMs, wallNowMs).catch(() => {});
    await this.file.close().catch(() => {});
  }

  /** Deletes the partial file and state, once any state write in progress is done. Never rejects. */
  async discard(outDir: string): Promise<void> {
    await this.saving;
    await Promise.all([this.file.discard().catch(() => {}), removePartialState(outDir, this.id)]);
  }

  private saveState(outDir: string, nowMs: number, wallNowMs: number): Promise<void> {
    this.dirty = false;
    this.lastSavedMs = nowMs;
    return savePartialState(outDir, this.partialState(wallNowMs));
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

  /** "nothing received for N s with X of Y chunks held", as of monotonic `nowMs`. */
  heldSummary(nowMs: number): string {
    const idleS = Math.round((nowMs - this.lastActivityMs) / 1000);
    return `nothing received for ${idleS} s with ${this.reassembly.received} of ${this.manifest.chunks} chunks held`;
  }

  /** What to save for a later resume, stamped with wall-clock `savedAtMs`. */
  partialState(savedAtMs: number): PartialState {
    return {
      topic: this.topic,
      manifest: this.manifest,
      bitmap: toBase64(this.reassembly.bitmap()),
      savedAtMs,
    };
  }
}
