import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PARTIAL_DIR } from './partial-file.js';
import { transferFileKind } from './partial-state.js';

/** One transfer's partial file in `<out>/.mqimg-partial`, as found on disk. */
interface PartialOnDisk {
  id: string;
  /** Size of `<id>.part`, in bytes. */
  bytes: number;
  /** When the transfer was last kept (its state's `savedAtMs`, else the partial file's mtime), ms since the epoch. */
  lastMs: number;
}

/**
 * Total size in bytes of the partial files (`<id>.part`) under `<outDir>/.mqimg-partial`: what unfinished
 * transfers hold on disk, resumable or in progress. 0 when the folder does not exist. Never throws.
 */
export async function partialBytes(outDir: string): Promise<number> {
  let total = 0;
  for (const partial of await listPartials(outDir, false)) total += partial.bytes;
  return total;
}

/**
 * Bounds what unfinished transfers keep on disk: deletes whole transfers (`<id>.part` and `<id>.json`), oldest
 * first (by the time their state was saved, else by the partial file's mtime), until the partial files under
 * `<outDir>/.mqimg-partial` add up to at most `maxBytes` bytes. Never deletes a transfer whose id is in `keepIds`
 * (the receiver's transfers in progress: their partial file is open), even when those alone exceed `maxBytes`.
 * Returns the ids of the deleted transfers, oldest first. Never throws; a file that cannot be deleted is skipped.
 */
export async function trimPartialStates(
  outDir: string,
  maxBytes: number,
  keepIds: ReadonlySet<string>,
): Promise<string[]> {
  const dir = join(outDir, PARTIAL_DIR);
  const partials = await listPartials(outDir, true);
  let total = partials.reduce((sum, partial) => sum + partial.bytes, 0);
  const removed: string[] = [];
  const candidates = partials.filter((p) => !keepIds.has(p.id)).sort((a, b) => a.lastMs - b.lastMs);
  for (const partial of candidates) {
    if (total <= maxBytes) break;
    try {
      await unlink(join(dir, `${partial.id}.part`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') continue;
    }
    await unlink(join(dir, `${partial.id}.json`)).catch(() => {});
    total -= partial.bytes;
    removed.push(partial.id);
  }
  return removed;
}

/** The partial files under `outDir`; `withAge` reads each state's `savedAtMs` too (else `lastMs` is the mtime). */
async function listPartials(outDir: string, withAge: boolean): Promise<PartialOnDisk[]> {
  const dir = join(outDir, PARTIAL_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: PartialOnDisk[] = [];
  for (const name of names) {
    const file = transferFileKind(name);
    if (file?.kind !== 'part') continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (!info?.isFile()) continue;
    const savedAtMs = withAge ? await savedAt(join(dir, `${file.id}.json`)) : undefined;
    found.push({ id: file.id, bytes: info.size, lastMs: savedAtMs ?? info.mtimeMs });
  }
  return found;
}

/** The `savedAtMs` of a state file, or undefined when there is none or it cannot be read. */
async function savedAt(path: string): Promise<number | undefined> {
  try {
    const state = JSON.parse(await readFile(path, 'utf8')) as { savedAtMs?: unknown };
    return typeof state.savedAtMs === 'number' ? state.savedAtMs : undefined;
  } catch {
    return undefined;
  }
}
