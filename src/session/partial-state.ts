import { readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { type Manifest, validateManifest } from '../protocol/manifest.js';
import { PARTIAL_DIR } from './partial-file.js';

/**
 * What a receiver keeps beside a partial file, `<out>/.mqimg-partial/<id>.json`, so that a receiver started again
 * with the same `--out` resumes the transfer and asks only for the chunks it lacks.
 */
export interface PartialState {
  /** The sender topic the transfer came on. */
  topic: string;
  manifest: Manifest;
  /** Held-chunk bitmap (`Reassembly.bitmap()`), base64. Only chunks already written to the partial file. */
  bitmap: string;
  /** When this state was written, in milliseconds since the epoch. */
  savedAtMs: number;
}

/** Default time after which unfinished partial transfers are deleted: 24 hours. */
export const PARTIAL_TTL_MS = 24 * 60 * 60 * 1000;

const statePath = (outDir: string, id: string) => join(outDir, PARTIAL_DIR, `${id}.json`);

/** Writes the state atomically (temporary file, then rename), so that a crash leaves the old or the new one. */
export async function savePartialState(outDir: string, state: PartialState): Promise<void> {
  const path = statePath(outDir, state.manifest.id);
  await writeFile(`${path}.tmp`, JSON.stringify(state));
  await rename(`${path}.tmp`, path);
}

/** Deletes a transfer's state file, if any; never throws. */
export async function removePartialState(outDir: string, id: string): Promise<void> {
  await unlink(statePath(outDir, id)).catch(() => {});
}

/**
 * Reads every resumable partial transfer under `outDir`, and deletes what cannot be resumed: states older than
 * `ttlMs`, unreadable or invalid states, states whose partial file is missing or has the wrong size, and partial
 * files without a state that are older than `ttlMs`. Never throws for a bad file.
 */
export async function loadPartialStates(
  outDir: string,
  ttlMs: number,
  nowMs: number,
): Promise<Map<string, PartialState>> {
  const dir = join(outDir, PARTIAL_DIR);
  const states = new Map<string, PartialState>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return states;
  }
  const remove = (name: string) => unlink(join(dir, name)).catch(() => {});
  // Only files named after a transfer id are transfers'; others (signatures.json) belong to someone else.
  names = names.filter((name) => /^[0-9a-f]{16}\.(json|part|json\.tmp)$/.test(name));
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const id = name.slice(0, -'.json'.length);
    const state = await readState(join(dir, name));
    const part = await stat(join(dir, `${id}.part`)).catch(() => undefined);
    const usable =
      state !== undefined &&
      state.manifest.id === id &&
      nowMs - state.savedAtMs < ttlMs &&
      part !== undefined &&
      part.size <= state.manifest.size;
    if (usable) states.set(id, state);
    else await Promise.all([remove(name), remove(`${id}.part`)]);
  }
  for (const name of names) {
    if (!name.endsWith('.part') && !name.endsWith('.tmp')) continue;
    const id = name.replace(/\.(part|json\.tmp)$/, '');
    if (states.has(id) && name.endsWith('.part')) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info && nowMs - info.mtimeMs >= ttlMs) await remove(name);
  }
  return states;
}

/** The state file's shape; the manifest inside is checked by the protocol's own schema. */
const stateFileSchema = z.object({
  topic: z.string(),
  manifest: z.unknown(),
  bitmap: z.string(),
  savedAtMs: z.number(),
});

async function readState(path: string): Promise<PartialState | undefined> {
  try {
    const file = stateFileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (!file.success) return undefined;
    const parsed = validateManifest(file.data.manifest);
    if (!parsed.ok) return undefined;
    return { ...file.data, manifest: parsed.manifest };
  } catch {
    return undefined;
  }
}
