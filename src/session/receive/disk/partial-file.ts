import { createHash } from 'node:crypto';
import {
  close as closeFd,
  createReadStream,
  fdatasync,
  fsync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { proofAccumulatorOf } from '../../../platform/node-crypto.js';

/** Written bytes after which a partial file is flushed to disk in the background: 8 MiB. */
const FLUSH_BYTES = 8 * 1024 * 1024;

/** Name of the hidden folder inside `--out` that holds transfers in progress (same file system: rename is atomic). */
export const PARTIAL_DIR = '.mqimg-partial';

/**
 * One transfer's bytes on disk while it is incomplete: `<out>/.mqimg-partial/<id>.part`, written at each chunk's
 * offset as it arrives. Writes are synchronous on purpose: a chunk is a few KiB into the page cache (microseconds),
 * no chunk buffer outlives its message handler, and a disk slower than the network slows the receiver down, which
 * its statuses then pass on to the sender. Never visible in `<out>` until `publish` moves it there whole.
 */
export class PartialFile {
  private closed = false;
  /** Bytes written since the last background flush started. */
  private unflushed = 0;
  private flushing: Promise<void> | undefined;

  private constructor(
    private readonly fd: number,
    /** Path of the partial file. */
    readonly path: string,
  ) {}

  /**
   * Creates (or truncates) the partial file for transfer `id` under `outDir`; with `resume`, opens the existing
   * one as it is instead. Synchronous, like the writes: two system calls of microseconds, where the asynchronous
   * versions waited behind every chunk already queued on the event loop (about 15 ms for a fast sender).
   */
  static create(outDir: string, id: string, resume = false): PartialFile {
    const dir = join(outDir, PARTIAL_DIR);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${id}.part`);
    return new PartialFile(openSync(path, resume ? 'r+' : 'w+'), path);
  }

  /**
   * Writes `bytes` at byte `offset`, before returning. Throws on a write error (disk full...). Every FLUSH_BYTES it
   * starts a background `fdatasync`, so that the `sync` before the file is saved has only the tail left to flush.
   */
  write(offset: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, offset + done);
    this.unflushed += bytes.length;
    if (this.unflushed >= FLUSH_BYTES && !this.flushing) {
      this.unflushed = 0;
      this.flushing = promisify(fdatasync)(this.fd)
        .catch(() => {}) // the final sync reports what matters
        .finally(() => {
          this.flushing = undefined;
        });
    }
  }

  /** True when the file holds exactly `bytes` at byte `offset` (read back synchronously, from the page cache). */
  holds(offset: number, bytes: Uint8Array): boolean {
    const held = Buffer.allocUnsafe(bytes.length);
    let done = 0;
    while (done < held.length) {
      const n = readSync(this.fd, held, done, held.length - done, offset + done);
      if (n === 0) return false;
      done += n;
    }
    return held.equals(bytes);
  }

  /** Flushes the file to disk (so that a saved file survives a power cut); runs off the main thread. */
  async sync(): Promise<void> {
    await this.flushing;
    await promisify(fsync)(this.fd);
  }

  /** SHA-256 (hex) of the file as written, read back from disk in 256 KiB pieces. */
  async sha256(): Promise<string> {
    const hash = createHash('sha256');
    for await (const piece of createReadStream(this.path, { highWaterMark: 256 * 1024 }))
      hash.update(piece as Buffer);
    return hash.digest('hex');
  }

  /**
   * The proof accumulator (protocol/security/receipt.ts) of the file as written, cut into `chunkBytes` chunks, read
   * back from disk: for a transfer resumed from another send of the same image, whose accumulator was under
   * another nonce.
   */
  async proofAccumulator(nonceHex: string, chunkBytes: number): Promise<Uint8Array> {
    const { size } = await stat(this.path);
    return proofAccumulatorOf(nonceHex, await this.chunkDigests(size, chunkBytes));
  }

  private async chunkDigests(size: number, chunkBytes: number): Promise<Uint8Array> {
    const chunks = Math.max(1, Math.ceil(size / chunkBytes));
    const digests = new Uint8Array(chunks * 32);
    const buffer = Buffer.allocUnsafe(chunkBytes);
    const handle = await open(this.path, 'r');
    try {
      for (let i = 0; i < chunks; i++) {
        const length = Math.min(chunkBytes, size - i * chunkBytes);
        const { bytesRead } = await handle.read(buffer, 0, length, i * chunkBytes);
        digests.set(createHash('sha256').update(buffer.subarray(0, bytesRead)).digest(), i * 32);
      }
    } finally {
      await handle.close();
    }
    return digests;
  }

  /** Closes and deletes the partial file; never throws. */
  async discard(): Promise<void> {
    await this.close().catch(() => {});
    await unlink(this.path).catch(() => {});
  }

  /** Closes the file, keeping it for a later resume. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing; // never close the descriptor under a flush still using it
    await promisify(closeFd)(this.fd);
  }
}
