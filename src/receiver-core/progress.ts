import type { CoreTransfer } from './core-transfer.js';
import type { ReceiveEvent } from './events.js';

/**
 * Least time between two `progress` events of one transfer, in milliseconds: one cadence for `mqimg receive` and the
 * display page (the page's overlay used to redraw every 200 ms; twice a second reads as smooth and costs less).
 */
export const RECEIVE_PROGRESS_EVERY_MS = 500;

/** The last `progress` event of each transfer: when (monotonic ms), and with how many chunks held. */
const shown = new WeakMap<CoreTransfer, { atMs: number; received: number }>();

/**
 * Emits the receiver's `progress` event for `t` if one is due at `nowMs` (monotonic milliseconds): at most one
 * every RECEIVE_PROGRESS_EVERY_MS per transfer, and only when it holds more chunks than at its last one.
 */
export function reportProgress(t: CoreTransfer, nowMs: number, emit: (event: ReceiveEvent) => void): void {
  const received = t.reassembly.received;
  const last = shown.get(t);
  if (last && (nowMs - last.atMs < RECEIVE_PROGRESS_EVERY_MS || last.received === received)) return;
  shown.set(t, { atMs: nowMs, received });
  const { name, chunks, chunkBytes, size } = t.manifest;
  const bytes = Math.min(size, received * chunkBytes);
  emit({ event: 'progress', id: t.id, topic: t.topic, name, receivedChunks: received, chunks, bytes });
}
