import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { numberedFileName } from './safe-file-name.js';

/** Name of the hidden folder inside `--out` that holds transfers in progress (same file system: rename is atomic). */
export const PARTIAL_DIR = '.mqimg-partial';

/**
 * One transfer's bytes on disk while it is incomplete: `<out>/.mqimg-partial/<id>.part`, written at each chunk's
 * offset as it arrives, so the receiver holds no more than the chunks being written. Never visible in `<out>`
 * until `publish` moves it there whole.
 */
export class PartialFile {
  private pendingWrites = 0;
  private readonly idleWaiters: Array<() => void> = [];

  private constructor(
    private readonly handle: FileHandle,
    /** Path of the partial file. */
    readonly path: string,
  ) {}

  /** Creates (or truncates) the partial file for transfer `id` under `outDir`. */
  static async create(outDir: string, id: string): Promise<PartialFile> {
    const dir = join(outDir, PARTIAL_DIR);
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${id}.part`);
    const handle = await open(path, 'w');
    return new PartialFile(handle, path);
  }

  /** Writes `bytes` at byte `offset`. Writes may overlap in time; `flushed()` waits for all of them. */
  async write(offset: number, bytes: Uint8Array): Promise<void> {
    this.pendingWrites++;
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, offset + done);
        done += bytesWritten;
      }
    } finally {
      this.pendingWrites--;
      if (this.pendingWrites === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves when no write is in progress. */
  flushed(): Promise<void> {
    if (this.pendingWrites === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** SHA-256 (hex) of the file as written, after flushing it to disk. */
  async sha256(): Promise<string> {
    await this.flushed();
    await this.handle.sync();
    const hash = createHash('sha256');
    for await (const piece of createReadStream(this.path, { highWaterMark: 1 << 20 }))
      hash.update(piece as Buffer);
    return hash.digest('hex');
  }

  /**
   * Moves the finished file into `outDir` as `fileName`, or `name-1.ext`, `name-2.ext`... when taken. Uses
   * link-then-unlink so that an existing file is never replaced and the file appears whole or not at all.
   * Returns the final path.
   */
  async publish(outDir: string, fileName: string): Promise<string> {
    await this.flushed();
    await this.handle.close();
    for (let n = 0; n < 10_000; n++) {
      const target = join(outDir, n === 0 ? fileName : numberedFileName(fileName, n));
      try {
        await link(this.path, target);
        await unlink(this.path);
        return target;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') continue;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
        // File systems without hard links: check, then rename (a tiny race, documented in the README).
        if (await exists(target)) continue;
        await rename(this.path, target);
        return target;
      }
    }
    throw new Error(`no free file name for ${fileName} in ${outDir}`);
  }

  /** Closes and deletes the partial file; never throws. */
  async discard(): Promise<void> {
    await this.flushed();
    await this.handle.close().catch(() => {});
    await unlink(this.path).catch(() => {});
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
