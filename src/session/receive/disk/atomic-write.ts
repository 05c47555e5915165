import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

/** Counts temporary files made by this process, so that two writes in the same millisecond never share a name. */
let counter = 0;

/** Matches the names `temporaryPathFor` makes: `<target>.<pid>-<8 hex>-<counter>.tmp`. */
const TEMP_NAME = /\.\d+-[0-9a-f]{8}-\d+\.tmp$/;

/**
 * A fresh temporary path beside `path` (same folder, so same file system, so `rename` is atomic):
 * `<path>.<pid>-<random>-<counter>.tmp`. Unique across processes (pid), restarts (random) and calls (counter).
 */
export function temporaryPathFor(path: string): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}-${counter}.tmp`;
}

/** True when `name` (a file name or path) is one `temporaryPathFor` made: a leftover if its writer is gone. */
export function isTemporaryName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * Replaces the file at `path` with `data` (a string is written as UTF-8) so that a reader or a crash sees the old
 * content or the new one, never a part: writes a uniquely named temporary file beside it, flushes it to disk
 * (fsync), then renames it over `path`. On any error the temporary file is removed and the error thrown; `path` is
 * then untouched. Concurrent calls for the same `path` are safe: each has its own temporary file, and the last
 * rename wins. The folder must exist.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = temporaryPathFor(path);
  let created = false;
  try {
    const file = await open(temporary, 'wx');
    created = true;
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    if (created) await unlink(temporary).catch(() => {});
    throw error;
  }
}
