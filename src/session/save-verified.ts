import { createHash, createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Manifest } from '../protocol/manifest.js';
import { safeFileName } from '../protocol/safe-file-name.js';
import type { MessageTransport } from '../transport/message-transport.js';
import type { FileDigests } from './in-order-hash.js';
import type { IncomingTransfer } from './incoming-transfer.js';
import { callIsolated } from './isolate-callback.js';
import { removePartialState } from './partial-state.js';
import type { ReplayGuard } from './replay-guard.js';

/** What saving a complete transfer came to. */
export type SaveOutcome =
  | { ok: true; path: string; sha256: string; proof: string }
  | { ok: false; code: 'write_failed' | 'checksum_mismatch' | 'not_an_image'; message: string };

/** What `saveVerified` needs besides the transfer. */
export interface SaveContext {
  outDir: string;
  verifyFile?: ((path: string, manifest: Manifest) => Promise<string | undefined>) | undefined;
  replayGuard?: ReplayGuard | undefined;
  /** Wall-clock milliseconds since the epoch, for the replay guard. */
  wallNowMs: number;
  /** This receiver's id, which the proof of receipt includes. */
  receiverId: string;
}

/** The SHA-256 and proof of receipt of the file at `path`, read back from disk in 256 KiB pieces. */
async function fileDigests(path: string, nonceHex: string, receiverId: string): Promise<FileDigests> {
  const hash = createHash('sha256');
  const mac = createHmac('sha256', Buffer.from(nonceHex, 'hex'));
  for await (const piece of createReadStream(path, { highWaterMark: 256 * 1024 })) {
    hash.update(piece as Buffer);
    mac.update(piece as Buffer);
  }
  return { sha256: hash.digest('hex'), proof: mac.update(receiverId, 'utf8').digest('hex') };
}

/**
 * The last steps of a transfer whose chunks are all held: flush the partial file, check its SHA-256 against the
 * manifest (from the running hash, or from disk), run the caller's `verifyFile`, record a signed manifest's
 * signature, and move the file into `outDir` under a safe name, atomically. Nothing appears in `outDir` unless
 * every check passed.
 */
export async function saveVerified(t: IncomingTransfer, ctx: SaveContext): Promise<SaveOutcome> {
  const { manifest } = t;
  let digests: FileDigests;
  try {
    await t.file.sync();
    digests = t.hash.digest() ?? (await fileDigests(t.file.path, manifest.nonce, ctx.receiverId));
  } catch (error) {
    return {
      ok: false,
      code: 'write_failed',
      message: `cannot read back ${t.file.path}: ${(error as Error).message}`,
    };
  }
  const { sha256, proof } = digests;
  if (sha256 !== manifest.sha256) {
    return {
      ok: false,
      code: 'checksum_mismatch',
      message: `${manifest.name}: SHA-256 of the received bytes is ${sha256}, the manifest says ${manifest.sha256}; nothing saved`,
    };
  }
  // A library user's check that throws refuses the file, with the reason, instead of ending the process.
  const checked = await callIsolated(() => ctx.verifyFile?.(t.file.path, manifest));
  const problem = checked.ok ? checked.value : `the file check threw: ${String(checked.error)}`;
  if (problem)
    return { ok: false, code: 'not_an_image', message: `${manifest.name}: ${problem}; nothing saved` };
  try {
    // Record the signature before the file appears, so that no crash can let the same manifest save twice.
    await ctx.replayGuard?.remember(manifest, ctx.wallNowMs);
    const path = await t.file.publish(
      ctx.outDir,
      safeFileName(manifest.name, manifest.type, manifest.pixelFormat),
    );
    return { ok: true, path, sha256, proof };
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
 * Returns the topic, or undefined after telling `onError` what the broker said.
 */
export async function republishSaved(
  transport: MessageTransport,
  template: string,
  senderTopic: string,
  path: string,
  onError: (message: string) => void,
): Promise<string | undefined> {
  const topic = template.replaceAll('{topic}', senderTopic).replaceAll('{name}', basename(path));
  try {
    await transport.publish(topic, await readFile(path), { retain: true });
    return topic;
  } catch (error) {
    onError(`could not republish ${basename(path)} on ${topic}: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * What follows a save: the partial state is removed (once a state write in progress is done), and with
 * `republishTopic` the file goes out whole (`republishSaved`). Returns the republish topic, if it was published.
 */
export async function afterSave(
  t: IncomingTransfer,
  path: string,
  ctx: { outDir: string; transport: MessageTransport; republishTopic?: string | undefined },
  onError: (message: string) => void,
): Promise<string | undefined> {
  await t.saving;
  await removePartialState(ctx.outDir, t.id);
  if (ctx.republishTopic === undefined) return undefined;
  return republishSaved(ctx.transport, ctx.republishTopic, t.topic, path, onError);
}
