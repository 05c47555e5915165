import type { ReceiveEvent } from './receive-events.js';

/** Least time between two `progress` events of one transfer, in milliseconds. */
export const RECEIVE_PROGRESS_EVERY_MS = 500;

/** What `reportProgress` needs of a transfer in progress (an `IncomingTransfer`). */
export interface TransferInProgress {
  id: string;
  topic: string;
  manifest: { name: string; chunks: number; chunkBytes: number; size: number };
  reassembly: { received: number };
}

/** The last `progress` event of each transfer: when (monotonic ms), and with how many chunks held. */
const shown = new WeakMap<TransferInProgress, { atMs: number; received: number }>();

/**
 * Emits the receiver's `progress` event for `t` if one is due at `nowMs` (monotonic milliseconds): at most one
 * every RECEIVE_PROGRESS_EVERY_MS (500 ms) per transfer, and only when it holds more chunks than at its last one.
 */
export function reportProgress(
  t: TransferInProgress,
  nowMs: number,
  emit: (event: ReceiveEvent) => void,
): void {
  const received = t.reassembly.received;
  const last = shown.get(t);
  if (last && (nowMs - last.atMs < RECEIVE_PROGRESS_EVERY_MS || last.received === received)) return;
  shown.set(t, { atMs: nowMs, received });
  const { name, chunks, chunkBytes, size } = t.manifest;
  const bytes = Math.min(size, received * chunkBytes);
  emit({ event: 'progress', id: t.id, topic: t.topic, name, receivedChunks: received, chunks, bytes });
}
