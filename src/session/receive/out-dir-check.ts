import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { errnoCode, errnoMessage } from '../../util/errno-message.js';

/**
 * Makes sure a receiver can save into `outDir` before it announces anything: creates it (and missing parents) when
 * missing, then proves it is writable by creating and deleting a probe file. Throws a `UsageError` (exit 2) that
 * says which of these failed: the folder cannot be created (e.g. under /proc, or a parent is a file), the path is
 * not a folder, or it is not writable (read-only, permissions). Every step runs once: no retry loop, so it settles
 * within milliseconds on a local disk. (Node's own `mkdir(..., { recursive: true })` spins forever on paths such
 * as /proc/x, where mkdir answers ENOENT although the parent exists: this one never uses it.)
 */
export async function checkOutDir(outDir: string): Promise<void> {
  const path = resolve(outDir);
  let info: Stats | undefined;
  try {
    info = await stat(path);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw notUsable(outDir, `cannot use it (${errnoMessage(error)})`);
  }
  if (!info) {
    await createFolders(outDir, path);
  } else if (!info.isDirectory()) {
    throw notUsable(outDir, 'it exists and is not a folder: give a folder (mqimg saves each image there)');
  }
  const probe = join(path, `.mqimg-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const file = await open(probe, 'wx');
    await file.close();
  } catch (error) {
    throw notUsable(
      outDir,
      `cannot write into it (${errnoMessage(error)}): check its permissions, or choose another`,
    );
  }
  await unlink(probe).catch(() => {});
}

/** Creates `path` and its missing parents, one mkdir each, from the deepest existing one down. */
async function createFolders(outDir: string, path: string): Promise<void> {
  const missing: string[] = [];
  for (let at = path; ; at = dirname(at)) {
    const exists = await stat(at).then(
      (info) => info,
      () => undefined,
    );
    if (exists) {
      if (!exists.isDirectory()) throw notUsable(outDir, `cannot create it: ${at} is not a folder`);
      break;
    }
    missing.unshift(at);
    if (dirname(at) === at) break; // a root that does not exist: mkdir below says why
  }
  for (const folder of missing) {
    try {
      await mkdir(folder);
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') continue; // made by someone else meanwhile
      throw notUsable(
        outDir,
        `cannot create ${folder === path ? 'it' : folder} (${errnoMessage(error, { ENOENT: 'the system does not allow it here' })})`,
      );
    }
  }
}

function notUsable(outDir: string, why: string): UsageError {
  return new UsageError(`--out ${outDir}: ${why}`, { outDir });
}
