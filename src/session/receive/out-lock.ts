import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { UsageError } from '../../errors.js';
import { sleep, wallClock } from '../../util/clock.js';
import { errnoCode, errnoMessage } from '../../util/errno-message.js';
import { PARTIAL_DIR } from './disk/partial-file.js';

/** Name of the lock file inside `<out>/.mqimg-partial`. */
export const OUT_LOCK_NAME = 'receiver.lock';
/** Age after which a lock file that cannot be read as one is taken over, in milliseconds: 1 minute. */
export const UNREADABLE_LOCK_STALE_MS = 60_000;
/** Looks at the lock before giving up, when other processes race for the same stale lock. */
const ATTEMPTS = 8;
/** Wait before looking again while another process removes a stale lock, in milliseconds. */
const GUARD_BUSY_WAIT_MS = 15;
/** Age after which a takeover guard is taken to be left by a process that died holding it, in milliseconds. */
const TAKEOVER_GUARD_STALE_MS = 10_000;

/** A held `--out` lock. */
export interface OutLock {
  /** Path of the lock file. */
  readonly path: string;
  /** Deletes the lock file if it is still this holder's. Never throws; calling it again does nothing. */
  release(): Promise<void>;
}

const lockFileSchema = z.object({ pid: z.number().int(), host: z.string(), token: z.string() });
type LockFile = z.infer<typeof lockFileSchema>;

/**
 * Makes this process the one receiver of `outDir`: creates `<outDir>/.mqimg-partial/receiver.lock` exclusively,
 * holding this process's pid and host name. When another receiver holds it, a live process on this host (or any
 * process on another host, which cannot be checked from here), throws a `UsageError` (exit 2) that says so and
 * what to do. Takes over a stale lock: one whose pid is not running on this host, or one that cannot be read and
 * is older than UNREADABLE_LOCK_STALE_MS. `outDir` must exist (checkOutDir). Call `release()` when stopping.
 */
export async function acquireOutLock(outDir: string): Promise<OutLock> {
  const dir = join(outDir, PARTIAL_DIR);
  const path = join(dir, OUT_LOCK_NAME);
  const mine: LockFile = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex') };
  const content = JSON.stringify(mine);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`--out ${outDir}: cannot create ${dir} (${errnoMessage(error)})`, { outDir });
  }
  const keepTaking = () =>
    new UsageError(`--out ${outDir}: other receivers keep taking ${path}: give each receiver its own --out`, {
      outDir,
    });
  for (let attempt = 1; ; attempt++) {
    try {
      await writeFile(path, content, { flag: 'wx' });
      return heldLock(path, content);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') {
        throw new UsageError(`--out ${outDir}: cannot create the lock ${path} (${errnoMessage(error)})`, {
          outDir,
        });
      }
    }
    const held = await readFile(path, 'utf8').catch(() => undefined);
    if (held === undefined) {
      if (attempt >= ATTEMPTS) throw keepTaking();
      continue; // released meanwhile: try again
    }
    const holder = parseLock(held);
    if (holder === undefined) {
      const info = await stat(path).catch(() => undefined);
      if (info && wallClock() - info.mtimeMs < UNREADABLE_LOCK_STALE_MS) {
        throw new UsageError(
          `--out ${outDir}: another receiver is starting on it (${path} was just created); if none is, delete that file or wait a minute`,
          { outDir },
        );
      }
    } else if (holder.host !== mine.host) {
      throw new UsageError(
        `--out ${outDir} is used by a receiver on host ${holder.host} (pid ${holder.pid}): give each receiver its own --out; if that receiver is gone, delete ${path}`,
        { outDir, pid: holder.pid, host: holder.host },
      );
    } else if (isRunning(holder.pid)) {
      throw new UsageError(
        `another receiver (pid ${holder.pid}) is using this --out (${outDir}): stop it, or give this receiver another --out`,
        { outDir, pid: holder.pid },
      );
    }
    if (attempt >= ATTEMPTS) throw keepTaking();
    // a successful takeover is always followed by another exclusive create
    if (!(await takeAway(path, held))) await sleep(GUARD_BUSY_WAIT_MS);
  }
}

function heldLock(path: string, content: string): OutLock {
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      const now = await readFile(path, 'utf8').catch(() => undefined);
      if (now === content) await unlink(path).catch(() => {});
    },
  };
}

function parseLock(text: string): LockFile | undefined {
  try {
    const parsed = lockFileSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** True when a process with `pid` runs on this host (EPERM: it runs, as another user). */
function isRunning(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/**
 * Removes the stale lock whose content was `stale`, and only that one: another process may have taken the lock
 * since it was read. Only the process that holds the takeover guard (`<lock>.takeover`, created exclusively and
 * held for a read and an unlink, a few milliseconds) may delete the lock, and only if it still reads `stale`; a
 * fresh lock carries a new random token, so it never matches. Returns false when another process holds the
 * guard (the caller waits a moment and looks again). A guard older than TAKEOVER_GUARD_STALE_MS was left by a
 * process that died holding it and is removed.
 */
async function takeAway(path: string, stale: string): Promise<boolean> {
  const guard = `${path}.takeover`;
  try {
    await writeFile(guard, String(process.pid), { flag: 'wx' });
  } catch {
    const info = await stat(guard).catch(() => undefined);
    if (info && wallClock() - info.mtimeMs > TAKEOVER_GUARD_STALE_MS) await unlink(guard).catch(() => {});
    return false;
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => undefined);
    if (now === stale) await unlink(path).catch(() => {});
    return true;
  } finally {
    await unlink(guard).catch(() => {});
  }
}
