import type { Manifest } from '../protocol/manifest/manifest.js';

/** What a transfer holds, for a resume: its held-chunk bitmap and its proof accumulator (PROTOCOL.md 7.1). */
export interface HeldState {
  bitmap: Uint8Array;
  proof: Uint8Array;
}

/**
 * Where one transfer's checked chunks are kept: a hidden partial file on disk (session/receive/disk-store.ts) or
 * an array in memory (receiver-core/memory-store.ts, the display page). The receiver core decides what is kept and
 * when a transfer is complete; the stored file only keeps bytes and hashes them.
 */
export interface StoredFile {
  /** Keeps chunk `index` (checked against its hash) at its offset; returns why it could not, or undefined. */
  write(index: number, bytes: Uint8Array): string | undefined;
  /** The SHA-256 of the whole file, 64 hex digits; rejects when the bytes cannot be read. */
  sha256(): Promise<string>;
  /**
   * The proof accumulator of the whole file under the manifest's nonce, from the stored bytes: only asked for
   * when the transfer resumed with an empty accumulator (the stored chunks came under another nonce).
   */
  accumulator?(): Promise<Uint8Array>;
  /**
   * Makes the verified file available to its user (moved into the folder under a safe name, or handed to the page)
   * and returns where it went (a path; empty for a page). Rejects when it could not be.
   */
  publish(): Promise<string>;
  /**
   * Gives the transfer up: `keep` when what is held should stay for a later resume (a timeout, or the receiver
   * stopping), else everything is deleted. Never rejects.
   */
  close(keep: boolean): Promise<void>;
  /** Timer work of a transfer in progress (saving resume state), at monotonic `nowMs`. */
  tick?(nowMs: number): void;
}

/** What a store hands back for a transfer the receiver admitted. */
export type OpenedFile<F extends StoredFile> =
  | {
      ok: true;
      file: F;
      /** What an earlier, interrupted run of this transfer (or of the same content) held, if resumed. */
      resumed?: HeldState;
    }
  | { ok: false; message: string };

/** Sets up where admitted transfers are kept. */
export interface TransferStore<F extends StoredFile = StoredFile> {
  /**
   * Sets up storage for `manifest` from sender topic `topic`, synchronously (no message of the transfer can arrive
   * in between). `held()` returns what the transfer holds whenever the store needs it (resume state).
   */
  open(manifest: Manifest, topic: string, held: () => HeldState): OpenedFile<F>;
  /**
   * Checks a complete file whose SHA-256 matched before it is published; returns why it must not be (a library
   * user's `verifyFile`), or undefined. Default: every such file is kept.
   */
  check?(file: F, manifest: Manifest): Promise<string | undefined>;
}
