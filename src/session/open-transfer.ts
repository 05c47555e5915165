import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { fromBase64 } from '../protocol/bytes.js';
import type { Manifest } from '../protocol/manifest.js';
import { sameContent } from '../protocol/transfer-id.js';
import { IncomingTransfer } from './incoming-transfer.js';
import { PARTIAL_DIR, PartialFile } from './partial-file.js';
import { type PartialState, removePartialState } from './partial-state.js';

/** What `openTransfer` needs from the receiver. */
export interface OpenContext {
  outDir: string;
  receiverId: string;
  /** Partial transfers found on disk at start (by id); the one used is removed from it. */
  resumable: Map<string, PartialState>;
  /** Monotonic now, in milliseconds. */
  nowMs: number;
  /** When this transfer id was first admitted (FirstSeen); default `nowMs`. */
  firstSeenMs?: number;
}

/**
 * Sets up a transfer the receiver admitted: its partial file, and what it already holds. It resumes from partial
 * state saved by an earlier run of this receiver, found by the transfer id (the same sender, still running) or,
 * since every send has a new id, by content (a sender that restarted and sends the same image to the same topic:
 * same SHA-256, size, chunk size and chunk hashes); that partial file is then renamed to the new id. Synchronous,
 * so that no message of this transfer can arrive before it is set up.
 */
export function openTransfer(
  ctx: OpenContext,
  topic: string,
  manifest: Manifest,
  chunkKey: Uint8Array | undefined,
): { ok: true; transfer: IncomingTransfer; resumedWith?: number } | { ok: false; message: string } {
  const { id } = manifest;
  let saved = ctx.resumable.get(id);
  if (!saved) {
    saved = [...ctx.resumable.values()].find((s) => s.topic === topic && sameContent(s.manifest, manifest));
  }
  const resume = saved !== undefined && sameContent(saved.manifest, manifest);
  if (saved) ctx.resumable.delete(saved.manifest.id);
  try {
    if (resume && saved && saved.manifest.id !== id) {
      const dir = join(ctx.outDir, PARTIAL_DIR);
      renameSync(join(dir, `${saved.manifest.id}.part`), join(dir, `${id}.part`));
      void removePartialState(ctx.outDir, saved.manifest.id);
    }
    const file = PartialFile.create(ctx.outDir, id, resume);
    const bitmap = resume ? (fromBase64(saved?.bitmap ?? '') ?? new Uint8Array(0)) : undefined;
    const startedMs = ctx.firstSeenMs ?? ctx.nowMs;
    const transfer = new IncomingTransfer(manifest, topic, file, chunkKey, startedMs, ctx.receiverId, bitmap);
    transfer.lastActivityMs = ctx.nowMs;
    return resume
      ? { ok: true, transfer, resumedWith: transfer.reassembly.received }
      : { ok: true, transfer };
  } catch (error) {
    return {
      ok: false,
      message: `cannot create a partial file in ${ctx.outDir}: ${(error as Error).message}`,
    };
  }
}
