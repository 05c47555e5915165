import type { Manifest } from '../protocol/manifest/manifest.js';

/** The SHA-256 of a complete file and the proof of receipt a receiver sends for it, both as lowercase hex. */
export interface FileDigests {
  sha256: string;
  proof: string;
}

/**
 * Where one transfer's checked chunks are kept: a hidden partial file on disk (session/receive/disk-store.ts) or
 * an array in memory (receiver-core/memory-store.ts, the display page). The receiver core decides what is kept and
 * when a transfer is complete; the stored file only keeps bytes and hashes them.
 */
export interface StoredFile {
  /** Keeps chunk `index` (checked against its hash) at its offset; returns why it could not, or undefined. */
  write(index: number, bytes: Uint8Array): string | undefined;
  /** The SHA-256 of the whole file and this receiver's proof of receipt; rejects when the bytes cannot be read. */
  digests(): Promise<FileDigests>;
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
      /** Held-chunk bitmap of an earlier, interrupted run of this transfer (or of the same content), if resumed. */
      resumedBitmap?: Uint8Array;
    }
  | { ok: false; message: string };

/** Sets up where admitted transfers are kept. */
export interface TransferStore<F extends StoredFile = StoredFile> {
  /**
   * Sets up storage for `manifest` from sender topic `topic`, synchronously (no message of the transfer can arrive
   * in between). `held()` returns the transfer's held-chunk bitmap whenever the store needs it (resume state).
   */
  open(manifest: Manifest, topic: string, held: () => Uint8Array): OpenedFile<F>;
  /**
   * Checks a complete file whose SHA-256 matched before it is published; returns why it must not be (a library
   * user's `verifyFile`), or undefined. Default: every such file is kept.
   */
  check?(file: F, manifest: Manifest): Promise<string | undefined>;
}
