import type { Manifest } from '../protocol/manifest/manifest.js';
import type { FailureCode, RejectionCode } from '../protocol/wire/codes.js';

/** Events a receiver reports, one per line with `mqimg receive --json`. */
export type ReceiveEvent =
  | {
      event: 'started';
      id: string;
      topic: string;
      name: string;
      type: string;
      size: number;
      chunks: number;
      /** Chunks already held from an earlier, interrupted run, when the transfer resumed. */
      resumedWith?: number;
    }
  | {
      event: 'completed';
      id: string;
      topic: string;
      name: string;
      path: string;
      size: number;
      sha256: string;
      width: number;
      height: number;
      /** The topic the file was republished on (`--republish`). */
      republished?: string;
      /** For raw pixels: their layout and bytes per row (PROTOCOL.md, pixel formats). */
      pixelFormat?: string;
      stride?: number;
      durationMs: number;
    }
  | {
      /** A transfer in progress moved on: at most every RECEIVE_PROGRESS_EVERY_MS (500 ms) per transfer, only when it changed. */
      event: 'progress';
      id: string;
      topic: string;
      name: string;
      /** Chunks held so far, of `chunks`. */
      receivedChunks: number;
      chunks: number;
      /** Bytes held so far (`receivedChunks` whole chunks, at most the file's size). */
      bytes: number;
    }
  | { event: 'failed'; id: string; topic: string; code: FailureCode; message: string }
  | { event: 'rejected'; topic: string; code: RejectionCode; message: string };

/** The `completed` event of a saved transfer. */
export function completedEvent(
  manifest: Manifest,
  topic: string,
  saved: { path: string; sha256: string },
  durationMs: number,
  republished: string | undefined,
): ReceiveEvent {
  const event: ReceiveEvent & { event: 'completed' } = {
    event: 'completed',
    id: manifest.id,
    topic,
    name: manifest.name,
    path: saved.path,
    size: manifest.size,
    sha256: saved.sha256,
    width: manifest.width,
    height: manifest.height,
    durationMs: Math.round(durationMs),
  };
  if (manifest.pixelFormat !== undefined && manifest.stride !== undefined) {
    event.pixelFormat = manifest.pixelFormat;
    event.stride = manifest.stride;
  }
  if (republished !== undefined) event.republished = republished;
  return event;
}

/** The `started` event of a transfer; `resumedWith`: chunks held from an earlier run. */
export function startedEvent(manifest: Manifest, topic: string, resumedWith?: number): ReceiveEvent {
  const event: ReceiveEvent & { event: 'started' } = {
    event: 'started',
    id: manifest.id,
    topic,
    name: manifest.name,
    type: manifest.type,
    size: manifest.size,
    chunks: manifest.chunks,
  };
  if (resumedWith !== undefined) event.resumedWith = resumedWith;
  return event;
}
