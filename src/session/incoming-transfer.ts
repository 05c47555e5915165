import { AckPolicy } from '../protocol/ack-policy.js';
import { toBase64 } from '../protocol/bytes.js';
import { chunkOffset } from '../protocol/chunking.js';
import type { RejectionCode } from '../protocol/codes.js';
import { MAX_STATUS_RANGES } from '../protocol/constants.js';
import type { Manifest } from '../protocol/manifest.js';
import { Reassembly } from '../protocol/reassembly.js';
import { RepairRequests } from '../protocol/repair-requests.js';
import type { Status } from '../protocol/status.js';
import { InOrderHash } from './in-order-hash.js';
import type { PartialFile } from './partial-file.js';
import { type PartialState, removePartialState, savePartialState } from './partial-state.js';

/** What storing one chunk came to. */
export type ChunkOutcome =
  /** Refused by the reassembly (index out of range, wrong length): `code` and `message` say why. */
  | { kind: 'rejected'; code: RejectionCode; message: string }
  /** Already held; `conflicting` when its bytes differ from the copy on disk. */
  | { kind: 'duplicate'; conflicting: boolean }
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
  /** The partial-state write in progress, if any. */
  saving: Promise<void> | undefined;

  constructor(
    readonly manifest: Manifest,
    /** The sender topic. */
    readonly topic: string,
    readonly file: PartialFile,
    /** The key chunks are sealed with (encrypted transfers only). */
    readonly chunkKey: Uint8Array | undefined,
    /** Monotonic start time, in milliseconds. */
    readonly startedMs: number,
    /** Held-chunk bitmap of an interrupted earlier run, when resuming. */
    resumedBitmap?: Uint8Array,
  ) {
    this.reassembly = new Reassembly(manifest.chunks, manifest.size, manifest.chunkBytes, resumedBitmap);
    // A resumed transfer is hashed from disk at the end: its first chunks are not in memory.
    this.hash = resumedBitmap ? InOrderHash.abandoned(manifest.chunks) : new InOrderHash(manifest.chunks);
    this.lastActivityMs = startedMs;
    this.lastSavedMs = startedMs;
  }

  get id(): string {
    return this.manifest.id;
  }

  /** Takes chunk `index` (already opened, for encrypted transfers) at monotonic time `nowMs`. */
  store(index: number, payload: Uint8Array, nowMs: number, windowChunks: number): ChunkOutcome {
    const result = this.reassembly.accept(index, payload.length);
    if (result.kind === 'rejected') return { kind: 'rejected', code: result.code, message: result.message };
    this.lastActivityMs = nowMs;
    const offset = chunkOffset(index, this.manifest.chunkBytes);
    if (result.kind === 'duplicate') {
      // Rare, so compared with the copy on disk rather than with a checksum kept for every chunk on the hot path.
      let same = true;
      try {
        same = this.file.holds(offset, payload);
      } catch {
        // Unreadable now: the SHA-256 at the end decides anyway.
      }
      return { kind: 'duplicate', conflicting: !same };
    }
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
    const missing = this.repairs.due(r.missing(MAX_STATUS_RANGES), nowMs);
    this.ack.sent(nowMs);
    const status: Status = {
      rx: receiverId,
      state: 'receiving',
      next: r.next,
      high: r.high,
      win: windowChunks,
    };
    if (missing.length > 0) status.missing = missing;
    return status;
  }

  /**
   * Starts writing the partial state (the bitmap of chunks already in the file) in the background when chunks
   * arrived since it was last saved, at most every `everyMs` (monotonic `nowMs`; `wallNowMs` stamps the state).
   */
  saveStateEvery(everyMs: number, outDir: string, nowMs: number, wallNowMs: number): void {
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
