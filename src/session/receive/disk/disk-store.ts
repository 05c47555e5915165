import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../../../errors.js';
import type { Manifest } from '../../../protocol/manifest/manifest.js';
import { fromBase64, toBase64 } from '../../../protocol/wire/bytes.js';
import { chunkOffset } from '../../../protocol/wire/chunking.js';
import { sameContent } from '../../../protocol/wire/transfer-id.js';
import type {
  HeldState,
  OpenedFile,
  StoredFile,
  TransferStore,
} from '../../../receiver-core/transfer-store.js';
import type { Clock } from '../../../util/clock.js';
import { InOrderHash } from './in-order-hash.js';
import { trimPartialStates } from './partial-budget.js';
import { PARTIAL_DIR, PartialFile } from './partial-file.js';
import { type PartialState, removePartialState, savePartialState } from './partial-state.js';
import { SavedFiles, type SavedFilesOptions } from './saved-files.js';

/** How often the partial state of a transfer in progress is saved for resuming, at most, in milliseconds. */
const SAVE_STATE_MS = 1000;

/** What a disk store needs from its receiver. */
export interface DiskStoreOptions extends SavedFilesOptions {
  /** The folder files are saved in; partial files live in `<outDir>/.mqimg-partial`. */
  outDir: string;
  /** This receiver's id, which its proof of receipt includes. */
  receiverId: string;
  /** Most bytes of partial state kept on disk for resuming (the receiver's --max-bytes). */
  maxBytes: number;
  /** Monotonic milliseconds. */
  clock: Clock;
  /** Milliseconds since the epoch, stamped on saved partial state. */
  wallClock: Clock;
  /** Ids of the transfers in progress (their partial state is never trimmed). */
  activeIds: () => ReadonlySet<string>;
  /** Checks a verified file before it is saved; returns why it must not be (`verifyFile`). */
  verifyFile?: ((path: string, manifest: Manifest) => Promise<string | undefined>) | undefined;
}

/**
 * One transfer on disk: the hidden partial file its chunks are written to as they arrive, the running hash, and
 * the partial state (held-chunk bitmap) saved every SAVE_STATE_MS for a resume after a crash or a timeout.
 */
export class DiskFile implements StoredFile {
  /** Chunks arrived since the partial state was last saved. */
  private dirty = false;
  private lastSavedMs: number;
  /** The partial-state write in progress, if any. */
  private saving: Promise<void> | undefined;

  constructor(
    private readonly store: DiskStore,
    readonly manifest: Manifest,
    private readonly topic: string,
    readonly file: PartialFile,
    private readonly hash: InOrderHash,
    private readonly held: () => HeldState,
  ) {
    this.lastSavedMs = store.options.clock();
  }

  get path(): string {
    return this.file.path;
  }

  write(index: number, bytes: Uint8Array): string | undefined {
    this.hash.add(index, bytes);
    this.dirty = true;
    try {
      this.file.write(chunkOffset(index, this.manifest.chunkBytes), bytes);
      return undefined;
    } catch (error) {
      return `cannot write ${this.file.path}: ${messageOf(error)}`;
    }
  }

  async sha256(): Promise<string> {
    await this.file.sync();
    return this.hash.digest() ?? (await this.file.sha256());
  }

  async accumulator(): Promise<Uint8Array> {
    return this.file.proofAccumulator(this.manifest.nonce, this.manifest.chunkBytes);
  }

  /** Moves the file into the folder under a safe name, atomically; then its partial state goes. */
  async publish(): Promise<string> {
    const { outDir, wallClock } = this.store.options;
    await this.file.close();
    const path = await this.store.saved.save(this.file.path, this.manifest, this.topic, wallClock());
    await this.saving;
    await removePartialState(outDir, this.manifest.id);
    return path;
  }

  async close(keep: boolean): Promise<void> {
    const { outDir, maxBytes, wallClock, clock, activeIds } = this.store.options;
    if (!keep) {
      await this.saving;
      await Promise.all([this.file.discard().catch(() => {}), removePartialState(outDir, this.manifest.id)]);
      return;
    }
    // Resumable by content in this process too (a sender that restarts sends with a new id).
    this.store.resumable.set(this.manifest.id, this.partialState(wallClock()));
    await this.saving;
    await this.saveState(clock()).catch(() => {});
    await this.file.close().catch(() => {});
    await trimPartialStates(outDir, maxBytes, new Set(activeIds())).catch(() => {});
  }

  /** Starts writing the partial state in the background when chunks arrived since, at most every SAVE_STATE_MS. */
  tick(nowMs: number): void {
    if (!this.dirty || this.saving || nowMs - this.lastSavedMs < SAVE_STATE_MS) return;
    this.saving = this.saveState(nowMs)
      .catch(() => {})
      .finally(() => {
        this.saving = undefined;
      });
  }

  private saveState(nowMs: number): Promise<void> {
    this.dirty = false;
    this.lastSavedMs = nowMs;
    return savePartialState(this.store.options.outDir, this.partialState(this.store.options.wallClock()));
  }

  /** What to save for a later resume, stamped with wall-clock `savedAtMs`. */
  private partialState(savedAtMs: number): PartialState {
    const { bitmap, proof } = this.held();
    return {
      topic: this.topic,
      manifest: this.manifest,
      bitmap: toBase64(bitmap),
      proof: toBase64(proof),
      savedAtMs,
    };
  }
}

/**
 * Keeps transfers in `<out>/.mqimg-partial` until they are verified, then moves each into `<out>`. It resumes a
 * transfer from partial state saved by an earlier run of this receiver, found by the transfer id (the same sender,
 * still running) or, since every send has a new id, by content (a sender that restarted and sends the same image to
 * the same topic: same SHA-256, size, chunk size and chunk hashes); that partial file is then renamed to the new id.
 */
export class DiskStore implements TransferStore<DiskFile> {
  /** Partial transfers found on disk at start or given up since, waiting for their manifest to resume. */
  resumable = new Map<string, PartialState>();
  /** Where verified files go: names, `--latest`, `--keep`. */
  readonly saved: SavedFiles;

  constructor(readonly options: DiskStoreOptions) {
    this.saved = new SavedFiles(options);
  }

  open(manifest: Manifest, topic: string, held: () => HeldState): OpenedFile<DiskFile> {
    const { outDir } = this.options;
    const { id, chunks } = manifest;
    let saved = this.resumable.get(id);
    if (!saved) {
      saved = [...this.resumable.values()].find(
        (s) => s.topic === topic && sameContent(s.manifest, manifest),
      );
    }
    const resume = saved !== undefined && sameContent(saved.manifest, manifest);
    if (saved) this.resumable.delete(saved.manifest.id);
    try {
      if (resume && saved && saved.manifest.id !== id) {
        const dir = join(outDir, PARTIAL_DIR);
        renameSync(join(dir, `${saved.manifest.id}.part`), join(dir, `${id}.part`));
        void removePartialState(outDir, saved.manifest.id);
      }
      const file = PartialFile.create(outDir, id, resume);
      // A resumed transfer is hashed from disk at the end: its first chunks are not in memory.
      const hash = resume ? InOrderHash.abandoned(chunks) : new InOrderHash(chunks);
      const disk = new DiskFile(this, manifest, topic, file, hash, held);
      if (!resume) return { ok: true, file: disk };
      const bitmap = fromBase64(saved?.bitmap ?? '') ?? new Uint8Array(0);
      // The saved accumulator is under the saved transfer's nonce: a sender that restarted drew a new one, and
      // then the proof is computed from the file at the end (an empty accumulator says so).
      const sameNonce = saved?.manifest.nonce === manifest.nonce;
      const proof = sameNonce ? (fromBase64(saved?.proof ?? '') ?? new Uint8Array(0)) : new Uint8Array(0);
      return { ok: true, file: disk, resumed: { bitmap, proof } };
    } catch (error) {
      return { ok: false, message: `cannot create a partial file in ${outDir}: ${messageOf(error)}` };
    }
  }

  check(file: DiskFile, manifest: Manifest): Promise<string | undefined> {
    return this.options.verifyFile?.(file.path, manifest) ?? Promise.resolve(undefined);
  }
}
