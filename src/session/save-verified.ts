import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Manifest } from '../protocol/manifest.js';
import { safeFileName } from '../protocol/safe-file-name.js';
import type { MessageTransport } from '../transport/message-transport.js';
import type { IncomingTransfer } from './incoming-transfer.js';
import type { ReplayGuard } from './replay-guard.js';

/** What saving a complete transfer came to. */
export type SaveOutcome =
  | { ok: true; path: string; sha256: string }
  | { ok: false; code: 'write_failed' | 'checksum_mismatch' | 'not_an_image'; message: string };

/** What `saveVerified` needs besides the transfer. */
export interface SaveContext {
  outDir: string;
  verifyFile?: ((path: string, manifest: Manifest) => Promise<string | undefined>) | undefined;
  replayGuard?: ReplayGuard | undefined;
  /** Wall-clock milliseconds since the epoch, for the replay guard. */
  wallNowMs: number;
}

/**
 * The last steps of a transfer whose chunks are all held: flush the partial file, check its SHA-256 against the
 * manifest (from the running hash, or from disk), run the caller's `verifyFile`, record a signed manifest's
 * signature, and move the file into `outDir` under a safe name, atomically. Nothing appears in `outDir` unless
 * every check passed.
 */
export async function saveVerified(t: IncomingTransfer, ctx: SaveContext): Promise<SaveOutcome> {
  const { manifest } = t;
  let sha256: string;
  try {
    await t.file.sync();
    sha256 = t.hash.digest() ?? (await t.file.sha256());
  } catch (error) {
    return {
      ok: false,
      code: 'write_failed',
      message: `cannot read back ${t.file.path}: ${(error as Error).message}`,
    };
  }
  if (sha256 !== manifest.sha256) {
    return {
      ok: false,
      code: 'checksum_mismatch',
      message: `${manifest.name}: SHA-256 of the received bytes is ${sha256}, the manifest says ${manifest.sha256}; nothing saved`,
    };
  }
  const problem = await ctx.verifyFile?.(t.file.path, manifest);
  if (problem)
    return { ok: false, code: 'not_an_image', message: `${manifest.name}: ${problem}; nothing saved` };
  try {
    // Record the signature before the file appears, so that no crash can let the same manifest save twice.
    await ctx.replayGuard?.remember(manifest, ctx.wallNowMs);
    const path = await t.file.publish(
      ctx.outDir,
      safeFileName(manifest.name, manifest.type, manifest.pixelFormat),
    );
    return { ok: true, path, sha256 };
  } catch (error) {
    return {
      ok: false,
      code: 'write_failed',
      message: `cannot save ${manifest.name} in ${ctx.outDir}: ${(error as Error).message}`,
    };
  }
}

/**
 * Publishes a saved file whole, retained, on `template` with `{topic}` and `{name}` filled in (`--republish`).
 * Returns the topic, or throws what the broker said.
 */
export async function republishSaved(
  transport: MessageTransport,
  template: string,
  senderTopic: string,
  path: string,
): Promise<string> {
  const topic = template.replaceAll('{topic}', senderTopic).replaceAll('{name}', basename(path));
  await transport.publish(topic, await readFile(path), { retain: true });
  return topic;
}
