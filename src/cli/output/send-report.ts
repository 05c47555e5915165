import type { PreparedImage } from '../../image/prepare-image.js';
import type { ReceiverView } from '../../protocol/send/send-planner.js';
import { definedOnly } from '../../protocol/wire/defined.js';
import type { SendProgress, SendResult } from '../../session/send/send-session.js';
import { formatBytes, formatSeconds, type Output, plural } from './output.js';
import type { ProgressBars } from './progress.js';
import { KEEP, RateMeter, transferFields } from './progress-line.js';

/** A receiver as `--json` reports it: `silentMs` is how long ago it was last heard, in milliseconds. */
export function receiverJson(r: ReceiverView, nowMs = performance.now()) {
  return definedOnly({
    id: r.id,
    state: r.state,
    /** Chunks it holds from the start without a gap. */
    acknowledgedChunks: r.next,
    reason: r.reason,
    silentMs: Math.max(0, Math.round(nowMs - r.lastHeardMs)),
  });
}

/** What `send` and `relay` print for a delivered image: one JSON object or one line. */
export function reportDelivered(
  output: Output,
  json: boolean,
  topic: string,
  result: SendResult,
  retained: boolean,
): void {
  const m = result.manifest;
  if (json) {
    output.json({
      event: 'delivered',
      id: m.id,
      topic,
      name: m.name,
      type: m.type,
      size: m.size,
      sha256: m.sha256,
      width: m.width,
      height: m.height,
      ...definedOnly({ pixelFormat: m.pixelFormat, stride: m.stride }),
      chunks: m.chunks,
      chunkBytes: m.chunkBytes,
      publishedChunks: result.publishedChunks,
      retransmittedChunks: result.retransmittedChunks,
      receivers: result.receivers.map((r) => receiverJson(r)),
      ...(retained ? { retained: true } : {}),
      durationMs: Math.round(result.durationMs),
    });
    return;
  }
  const confirmed = result.receivers.filter((r) => r.state === 'complete').length;
  const how = retained
    ? 'retained on the broker'
    : `confirmed by ${plural(confirmed, 'receiver')}, ${result.retransmittedChunks} resent`;
  output.result(
    `sent ${m.name} to ${topic}: ${formatBytes(m.size)} in ${plural(m.chunks, 'chunk')}, ${m.width}x${m.height}, ${how}, ${formatSeconds(result.durationMs)}`,
  );
}

/** The image being sent, for the progress bar and the Ctrl-C message. */
export interface Sending {
  image: PreparedImage;
  chunkBytes: number;
  progress?: SendProgress;
  /** The rate of acknowledged bytes, from the first receiver's first answer (so a resumed send is not inflated). */
  meter?: RateMeter;
}

/** Chunks every receiver still needed holds (the slowest one's position), or 0 before any answered. */
export function acknowledgedChunks(progress: SendProgress, needed: number): number {
  const positions = progress.receivers
    .filter((r) => r.state !== 'failed')
    .map((r) => (r.state === 'complete' ? progress.chunks : r.next))
    .sort((a, b) => b - a);
  return positions.length === 0 ? 0 : (positions[Math.min(needed, positions.length) - 1] ?? 0);
}

/**
 * Moves the sender's progress bar: bytes the receivers acknowledged, rate, receivers, resends, elapsed time and time
 * left (progress-line.ts fits them to the terminal).
 */
export function showSendProgress(bars: ProgressBars, topic: string, sending: Sending, needed: number): void {
  const { image, chunkBytes, progress } = sending;
  const label = `${image.name} -> ${topic}`;
  if (!progress) {
    bars.show(image.name, 0, 1, { label, fields: [{ text: 'connecting', keep: KEEP.status }] });
    return;
  }
  if (progress.receivers.length === 0) {
    const waiting = `waiting for a receiver (${Math.floor(progress.elapsedMs / 1000)} s)`;
    bars.show(image.name, 0, progress.chunks, { label, fields: [{ text: waiting, keep: KEEP.status }] });
    return;
  }
  const acked = acknowledgedChunks(progress, needed);
  const done = Math.min(image.bytes.length, acked * chunkBytes);
  sending.meter ??= new RateMeter();
  sending.meter.add(performance.now(), done);
  const [bytes, rate, elapsed, left] = transferFields(
    done,
    image.bytes.length,
    progress.elapsedMs,
    sending.meter.rate(),
  );
  const fields = [
    bytes,
    rate,
    { text: plural(progress.receivers.length, 'receiver'), keep: KEEP.receivers },
    { text: `${progress.retransmittedChunks} resent`, keep: KEEP.resent },
    elapsed,
    left,
  ].filter((f) => f !== undefined);
  bars.show(image.name, acked, progress.chunks, { label, fields });
}

/** What Ctrl-C during a send leaves behind, and how to go on: printed before exiting 130. */
export function interruptedSendLine(sending: Sending | undefined): string {
  if (!sending) return 'mqimg: interrupted before anything was sent';
  const { image, progress } = sending;
  const where = progress
    ? `${acknowledgedChunks(progress, 1)} of ${plural(progress.chunks, 'chunk')} acknowledged`
    : 'nothing acknowledged yet';
  return `mqimg: interrupted: ${image.name} was not confirmed (${where}); receivers keep what they hold, and running the same command again resumes it`;
}
