import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { type Manifest, TRANSFER_ID_PATTERN, validateManifest } from '../../../protocol/manifest/manifest.js';
import { isTemporaryName, writeFileAtomic } from './atomic-write.js';
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
  /** The proof accumulator of those chunks (PROTOCOL.md 7.1), base64 of 32 bytes. */
  proof: string;
  /** When this state was written, in milliseconds since the epoch. */
  savedAtMs: number;
}

/** Default time after which unfinished partial transfers are deleted: 24 hours. */
export const PARTIAL_TTL_MS = 24 * 60 * 60 * 1000;

const statePath = (outDir: string, id: string) => join(outDir, PARTIAL_DIR, `${id}.json`);

/** Age after which a temporary file (atomic-write.ts) is a leftover of a crashed write, in milliseconds: 1 minute. */
export const TEMP_LEFTOVER_MS = 60_000;

/**
 * Writes the state atomically (writeFileAtomic: unique temporary file, fsync, rename), so that a crash leaves the
 * old or the new one, and two saves at once never collide.
 */
export async function savePartialState(outDir: string, state: PartialState): Promise<void> {
  await writeFileAtomic(statePath(outDir, state.manifest.id), JSON.stringify(state));
}

/**
 * The transfer id and the kind of a file in `.mqimg-partial` that belongs to a transfer: `<id>.json` (state),
 * `<id>.part` (bytes) or a temporary file of either (`<id>.json.tmp` from older versions, or writeFileAtomic's
 * names); undefined for any other file (signatures.json, receiver.lock...).
 */
export function transferFileKind(name: string): { id: string; kind: 'json' | 'part' | 'tmp' } | undefined {
  const dot = name.indexOf('.');
  if (dot < 0) return undefined;
  const id = name.slice(0, dot);
  if (!TRANSFER_ID_PATTERN.test(id)) return undefined;
  const rest = name.slice(dot);
  if (rest === '.json') return { id, kind: 'json' };
  if (rest === '.part') return { id, kind: 'part' };
  if (rest === '.json.tmp' || (rest.startsWith('.json.') && isTemporaryName(rest)))
    return { id, kind: 'tmp' };
  return undefined;
}

/** Deletes a transfer's state file, if any; never throws. */
export async function removePartialState(outDir: string, id: string): Promise<void> {
  await unlink(statePath(outDir, id)).catch(() => {});
}

/**
 * Reads every resumable partial transfer under `outDir`, and deletes what cannot be resumed: states older than
 * `ttlMs`, unreadable or invalid states, states whose partial file is missing or has the wrong size, and partial
 * files without a state that are older than `ttlMs`. Also deletes temporary files (from writeFileAtomic, of a
 * transfer's state or of signatures.json) older than TEMP_LEFTOVER_MS, whatever `ttlMs`: a write takes
 * milliseconds, so an older one is a crashed write's, and a younger one may be a write in progress. Never throws
 * for a bad file.
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
  const transferFiles = names.flatMap((name) => {
    const file = transferFileKind(name);
    return file ? [{ name, ...file }] : [];
  });
  for (const { name, id, kind } of transferFiles) {
    if (kind !== 'json') continue;
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
  for (const { name, id, kind } of transferFiles) {
    if (kind !== 'part' || states.has(id)) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info && nowMs - info.mtimeMs >= ttlMs) await remove(name);
  }
  // Temporary files: of a transfer's state (also `<id>.json.tmp` from older versions), or of signatures.json.
  for (const name of names) {
    if (!isTemporaryName(name) && transferFileKind(name)?.kind !== 'tmp') continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info && nowMs - info.mtimeMs >= TEMP_LEFTOVER_MS) await remove(name);
  }
  return states;
}

/** The state file's shape; the manifest inside is checked by the protocol's own schema. */
const stateFileSchema = z.object({
  topic: z.string(),
  manifest: z.unknown(),
  bitmap: z.string(),
  // Partial state written before protocol 3 has no accumulator: it is not resumed (its manifest is version 2).
  proof: z.string(),
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
