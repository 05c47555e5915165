import { shortHash } from '../platform/node-crypto.js';
import type { AckPolicy } from '../protocol/ack-policy.js';
import { toBase64 } from '../protocol/bytes.js';
import { hashMatches } from '../protocol/chunk-hashes.js';
import { chunkOffset } from '../protocol/chunking.js';
import type { RejectionCode } from '../protocol/codes.js';
import type { Manifest } from '../protocol/manifest.js';
import type { Reassembly } from '../protocol/reassembly.js';
import type { RepairRequests } from '../protocol/repair-requests.js';
import type { Status } from '../protocol/status.js';
import { chunkMismatch, TransferIntake } from '../protocol/transfer-intake.js';
import { InOrderHash } from './in-order-hash.js';
import type { PartialFile } from './partial-file.js';
import { type PartialState, removePartialState, savePartialState } from './partial-state.js';

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
  /** The receiver rules of this transfer (pages, waiting chunks, held chunks, repairs, acknowledgements). */
  readonly intake: TransferIntake;
  readonly hash: InOrderHash;
  /** Set once the transfer is being verified and saved, or was given up: later chunks are ignored. */
  finishing = false;
  /** Chunks arrived since the partial state was last saved. */
  dirty = false;
  lastSavedMs: number;
  /** Encrypted transfers: the key this receiver seals its statuses with (protocol/status-seal.ts). */
  statusKey: Promise<Uint8Array> | undefined;
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
    /** This receiver's id, which its proof of receipt includes. */
    receiverId: string,
    /** Held-chunk bitmap of an interrupted earlier run, when resuming. */
    resumedBitmap?: Uint8Array,
  ) {
    this.intake = new TransferIntake(manifest, startedMs, resumedBitmap);
    const { chunks, nonce } = manifest;
    // A resumed transfer is hashed from disk at the end: its first chunks are not in memory.
    this.hash = resumedBitmap
      ? InOrderHash.abandoned(chunks, nonce, receiverId)
      : new InOrderHash(chunks, nonce, receiverId);
    this.lastSavedMs = startedMs;
  }

  get reassembly(): Reassembly {
    return this.intake.reassembly;
  }

  get repairs(): RepairRequests {
    return this.intake.repairs;
  }

  get ack(): AckPolicy {
    return this.intake.ack;
  }

  /** Monotonic time of the last chunk or manifest, in milliseconds. */
  get lastActivityMs(): number {
    return this.intake.lastActivityMs;
  }

  set lastActivityMs(ms: number) {
    this.intake.lastActivityMs = ms;
  }

  /** Hash pages of the transfer. */
  get pageCount(): number {
    return this.intake.pageCount;
  }

  /** Pages and chunks received so far (held, or waiting for their page). */
  get received(): number {
    return this.intake.received;
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
    return this.intake.storePage(page, bytes, shortHash(bytes));
  }

  /** Hash pages still missing that are due to be asked for at `nowMs` (at most MAX_WANT_PAGES); marks them. */
  wantPages(nowMs: number): number[] {
    return this.intake.wantPages(nowMs);
  }

  /** Takes chunk `index` (already opened, for encrypted transfers) at monotonic time `nowMs`. */
  store(index: number, payload: Uint8Array, nowMs: number, windowChunks: number): ChunkOutcome {
    const checked = this.intake.check(index, payload);
    if (checked.kind !== 'verify') return checked;
    // Checked on arrival: a wrong copy is refused now, and the next copy of the chunk is taken.
    if (!hashMatches(shortHash(payload), checked.expected)) return chunkMismatch(index);
    const { complete, reportNow } = this.intake.commit(index, nowMs, windowChunks);
    this.hash.add(index, payload);
    this.dirty = true;
    try {
      this.file.write(chunkOffset(index, this.manifest.chunkBytes), payload);
    } catch (error) {
      return { kind: 'write_failed', message: `cannot write ${this.file.path}: ${(error as Error).message}` };
    }
    return { kind: 'stored', complete, reportNow };
  }

  /** The `receiving` status to publish now, offering `windowChunks`; records that it went out. */
  status(receiverId: string, windowChunks: number, nowMs: number): Status {
    return this.intake.status(receiverId, windowChunks, nowMs);
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

  /** "nothing received for N s with X of Y chunks held", as of monotonic `nowMs`. */
  heldSummary(nowMs: number): string {
    return this.intake.heldSummary(nowMs);
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
