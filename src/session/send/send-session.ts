import { ConnectionError, ExitCode, MqimgError, TransferError, UsageError } from '../../errors.js';
import type { PreparedImage } from '../../image/prepare-image.js';
import {
  chunkDigests,
  nodeCrypto,
  pageHashes,
  proofAccumulatorOf,
  receiptVerifier,
  sha256Hex,
  truncatedHashes,
} from '../../platform/node-crypto.js';
import { cutPages, maxChunksFor, minChunkBytesFor } from '../../protocol/manifest/chunk-hashes.js';
import type { Manifest } from '../../protocol/manifest/manifest.js';
import { composeManifest } from '../../protocol/manifest/manifest-builder.js';
import type { CryptoProvider } from '../../protocol/security/crypto.js';
import { type ReceiverView, SendPlanner } from '../../protocol/send/send-planner.js';
import { toBase64 } from '../../protocol/wire/bytes.js';
import { maxWindowFor } from '../../protocol/wire/constants.js';
import { definedOnly } from '../../protocol/wire/defined.js';
import {
  chunkTopic,
  manifestTopic,
  pageTopic,
  sendTopicProblem,
  statusTopic,
} from '../../protocol/wire/topics.js';
import { newNonce, newTransferId } from '../../protocol/wire/transfer-id.js';
import type { MessageTransport } from '../../transport/message-transport.js';
import {
  type Cancel,
  type Clock,
  monotonicClock,
  realScheduler,
  type Scheduler,
  wallClock,
} from '../../util/clock.js';
import { outgoingTransfer, type SendSecurity } from './outgoing-transfer.js';
import { type ReadStatus, statusReader } from './status-reader.js';

/**
 * A file ready to send: the bytes and what the manifest says about them (what `prepareImage` returns), and its
 * SHA-256 (lowercase hex) when already computed, e.g. while the connection was being set up.
 */
export type SendableImage = PreparedImage & { sha256?: string };

/** Options of one transfer. Times are in milliseconds. */
export interface SendTransferOptions extends SendSecurity {
  /** The sender topic, e.g. `cam/1`; chunks go to `<topic>/mqimg/<id>/...`. */
  topic: string;
  /** Chunk payload size in bytes. Default: DEFAULT_CHUNK_BYTES, reduced to fit the broker's Maximum Packet Size. */
  chunkBytes: number;
  /** Give up after this long without a receiver joining or making progress. Default 30,000. */
  timeoutMs?: number;
  /** Receivers that must confirm. Default 1. */
  minReceivers?: number;
  /** Flow-control window cap, in chunks. Default `maxWindowFor(chunkBytes)`: 256, fewer above 64 KiB chunks. */
  maxWindow?: number;
  /** A receiver silent this long, in milliseconds, has left: it stops setting the pace. Default 3,000 (SILENT_RECEIVER_MS). */
  stallMs?: number;
  signal?: AbortSignal;
  /** Monotonic milliseconds for timing. Default `performance.now`. */
  clock?: Clock;
  /** Milliseconds since the Unix epoch, for the manifest's `createdMs`. Default `Date.now`. */
  wallClock?: Clock;
  /** Sets the sender's timers (its tick and the PUBACK nudge). Default the host's (`realScheduler`). */
  scheduler?: Scheduler;
  /** Hashing, signing and sealing. Default node:crypto. */
  crypto?: CryptoProvider;
  /** Mark the manifest `supersede`: receivers drop unfinished older transfers on this topic. Default false. */
  supersede?: boolean;
  /** Called while the transfer runs, at most every PROGRESS_EVERY_MS (200 ms), e.g. for a progress bar. */
  onProgress?: (progress: SendProgress) => void;
}

/** Where a transfer in progress stands: what `SendTransferOptions.onProgress` receives. */
export interface SendProgress {
  /** Chunks in the transfer. */
  chunks: number;
  /** Chunk publications so far, first ones and resends. */
  publishedChunks: number;
  /** Chunks published more than once so far. */
  retransmittedChunks: number;
  /** The receivers that answered, with the chunk position each acknowledged (`next`). */
  receivers: ReceiverView[];
  /** Milliseconds since the transfer started. */
  elapsedMs: number;
}

/** Least time between two `onProgress` calls, in milliseconds. */
const PROGRESS_EVERY_MS = 200;

/** What happened to one transfer. */
export interface SendResult {
  manifest: Manifest;
  /** Chunk publications by this sender, first ones and resends. */
  publishedChunks: number;
  /** Chunks published more than once. */
  retransmittedChunks: number;
  receivers: ReceiverView[];
  durationMs: number;
}

const TICK_MS = 20;
/**
 * Once the sender stops publishing it pings the broker (MqttTransport.nudge) after NUDGE_MS, then at doubling
 * intervals up to NUDGE_MAX_MS; a publish starts over. Fast when a status is due, a few pings a second when not.
 */
const NUDGE_MS = 4;
const NUDGE_MAX_MS = 128;
/**
 * The blind start: chunks published before any receiver answered, at most this many bytes and this many chunks.
 * Enough to cover the join round trip; small, because a receiver that already holds them (a resumed transfer) or
 * no receiver at all makes them wasted traffic.
 */
const BLIND_START_BYTES = 1024 * 1024;
const BLIND_START_CHUNKS = 64;
const MANIFEST_REPEAT_MS = 1000;
/** A hash page is published again at most this often, in milliseconds, whoever asks. */
const PAGE_REPEAT_MS = 200;
/**
 * The slowest delivery a send waits for, in bytes per millisecond (10 kB/s): a send ends at the latest
 * `timeoutMs` plus its file's size at this rate after it started, whatever statuses arrive.
 */
const MIN_RATE_BYTES_PER_MS = 10;
const MANIFEST_MIN_GAP_MS = 200;

/** A transfer ready to publish: its manifest and its hash pages (protocol/chunk-hashes.ts), both plain. */
export interface PreparedTransfer {
  manifest: Manifest;
  pages: Uint8Array[];
  /** The proof accumulator of the file under the manifest's nonce (PROTOCOL.md 7.1), 32 bytes. */
  accumulator: Uint8Array;
}

/** Choices `prepareTransfer` takes; `id` and `nonce` are for test vectors only (default: new random ones). */
export interface PrepareTransferOptions {
  supersede?: boolean;
  id?: string;
  nonce?: string;
}

/**
 * Builds the manifest and hash pages for `image` in chunks of `chunkBytes`, created at `createdMs` (wall clock, ms
 * since the epoch), with a new random id and nonce: every send is a transfer of its own. Node's synchronous
 * hashing (the file's SHA-256 unless already known, and every chunk's hash); the pure part is `composeManifest`.
 */
export function prepareTransfer(
  image: SendableImage,
  chunkBytes: number,
  createdMs: number,
  options: PrepareTransferOptions = {},
): PreparedTransfer {
  const chunks = Math.ceil(image.bytes.length / chunkBytes);
  if (chunks > maxChunksFor(chunkBytes)) {
    throw new UsageError(
      `${image.name} (${image.bytes.length} bytes) needs ${chunks} chunks of ${chunkBytes} bytes, more than the ${maxChunksFor(chunkBytes)} a transfer may have at that chunk size: use a larger --chunk-size (at least ${minChunkBytesFor(image.bytes.length)})`,
    );
  }
  const digests = chunkDigests(image.bytes, chunkBytes);
  const pages = cutPages(truncatedHashes(digests), chunks, chunkBytes);
  const nonce = options.nonce ?? newNonce(nodeCrypto);
  const manifest = composeManifest(image, {
    id: options.id ?? newTransferId(nodeCrypto),
    nonce,
    sha256: image.sha256 ?? sha256Hex(image.bytes),
    pages: toBase64(pageHashes(pages)),
    chunkBytes,
    createdMs,
    ...(options.supersede ? { supersede: true } : {}),
  });
  return { manifest, pages, accumulator: proofAccumulatorOf(nonce, digests) };
}

/** The manifest `prepareTransfer` builds, without the hash pages (for tests and tools that craft transfers). */
export function buildManifest(
  image: SendableImage,
  chunkBytes: number,
  createdMs: number,
  options: PrepareTransferOptions = {},
): Manifest {
  return prepareTransfer(image, chunkBytes, createdMs, options).manifest;
}

/**
 * Sends one prepared image over a connected transport and resolves when enough receivers confirmed it.
 * Publishes the manifest (again every second until a receiver answers), then the chunks at the pace the
 * receivers' statuses allow, re-publishing what they report missing. Throws `TransferError` when nobody
 * confirms within `timeoutMs` of the last progress, or when every receiver reports failure.
 */
export async function sendTransfer(
  transport: MessageTransport,
  image: SendableImage,
  options: SendTransferOptions,
): Promise<SendResult> {
  const problem = sendTopicProblem(options.topic);
  if (problem) throw new UsageError(`invalid --topic: ${problem}`);
  const clock = options.clock ?? monotonicClock;
  const scheduler = options.scheduler ?? realScheduler;
  const started = clock();
  const prepared = prepareTransfer(image, options.chunkBytes, (options.wallClock ?? wallClock)(), {
    supersede: options.supersede ?? false,
  });
  const wire = await outgoingTransfer(
    options.crypto ?? nodeCrypto,
    prepared,
    image.bytes,
    options.topic,
    options,
  );
  const { manifest, manifestBytes } = wire;
  const { id } = manifest;
  const timeoutMs = options.timeoutMs ?? 30_000;
  // Named receivers: every one of them must prove receipt, and no other receiver counts.
  const minReceivers = options.recipients?.length ? options.recipients.length : (options.minReceivers ?? 1);
  const planner = new SendPlanner(
    definedOnly({
      chunks: manifest.chunks,
      maxWindow: options.maxWindow ?? maxWindowFor(options.chunkBytes),
      stallMs: options.stallMs,
      minReceivers,
      blindChunks: Math.min(BLIND_START_CHUNKS, Math.floor(BLIND_START_BYTES / options.chunkBytes)),
    }),
    started,
  );
  const ownStatusTopic = statusTopic(options.topic, id);
  // Whatever others publish, a send ends by this time: claims of progress cannot keep it going for ever.
  const deadlineMs = started + timeoutMs + manifest.size / MIN_RATE_BYTES_PER_MS;
  let lastManifestMs = Number.NEGATIVE_INFINITY;
  let publishError: unknown;

  let lastPublishMs = Number.NEGATIVE_INFINITY;
  const publishManifest = () => {
    lastManifestMs = clock();
    transport.publish(manifestTopic(options.topic, id), manifestBytes).catch((error) => {
      publishError ??= error;
    });
  };

  // Hash pages go out right after the manifest and before any chunk, and again when a receiver asks
  // (`wantPages`), at most once per PAGE_REPEAT_MS each.
  const pageQueue: number[] = wire.pages.map((_, j) => j);
  const pageSentMs = new Float64Array(wire.pages.length).fill(Number.NEGATIVE_INFINITY);
  const queuePages = (pages: readonly number[], now: number) => {
    for (const j of pages) {
      if (j < wire.pages.length && !pageQueue.includes(j) && now - (pageSentMs[j] ?? 0) >= PAGE_REPEAT_MS)
        pageQueue.push(j);
    }
  };
  let wake: (() => void) | undefined;
  const pump = () => {
    const now = clock();
    while (transport.hasSlot && pageQueue.length > 0) {
      const j = pageQueue.shift() ?? 0;
      pageSentMs[j] = now;
      lastPublishMs = now;
      transport
        .publish(pageTopic(options.topic, id, j), wire.pages[j] ?? new Uint8Array(0))
        .catch((error) => {
          publishError ??= error;
        });
    }
    while (transport.hasSlot && pageQueue.length === 0) {
      const next = planner.take(now);
      if (!next) break;
      planner.markSent(next.index, now);
      lastPublishMs = now;
      transport.publish(chunkTopic(options.topic, id, next.index), wire.chunk(next.index)).then(
        () => wake?.(),
        (error) => {
          publishError ??= error;
        },
      );
    }
  };

  let nudger: Cancel | undefined;
  let nextNudgeMs = NUDGE_MS;
  let deliveredMs = Number.NaN;
  /** When enough receivers had proved receipt. */
  let enoughMs: number | undefined;
  const expectedProof = receiptVerifier(manifest.nonce, prepared.accumulator);
  let unproven = 0;
  const readStatus = statusReader(options.crypto ?? nodeCrypto, id, wire);
  /** Refusals heard from receivers whose statuses could not be authenticated, for the final message. */
  const unauthenticated = new Set<string>();
  const stopListening = transport.onMessage((topic, payload) => {
    if (topic !== ownStatusTopic) return;
    const read = readStatus(payload);
    if (read instanceof Promise) void read.then(onStatus);
    else onStatus(read);
  });
  /** What unauthenticated receivers said, for a message that would otherwise say nobody answered. */
  const heard = () =>
    unauthenticated.size > 0
      ? `; statuses that could not be authenticated (not counted) said: ${[...unauthenticated].join(', ')}`
      : '';
  function onStatus(read: ReadStatus | undefined): void {
    if (!read) return;
    const { status, trusted } = read;
    if (!trusted) {
      // Never counted: it may only make the sender repeat its manifest (bounded), or explain a timeout.
      const now = clock();
      if (status.state === 'want-manifest' && now - lastManifestMs >= MANIFEST_MIN_GAP_MS) publishManifest();
      if (status.state === 'failed' && status.reason && unauthenticated.size < 8)
        unauthenticated.add(`${status.rx}: ${status.reason}`);
      return;
    }
    // Delivered means delivered: a `complete` counts only with the proof that only the whole file gives.
    if (status.state === 'complete' && status.proof !== expectedProof(status.rx)) {
      unproven++;
      return;
    }
    const now = clock();
    if (status.wantPages) queuePages(status.wantPages, now);
    if (planner.onStatus(status, now) && now - lastManifestMs >= MANIFEST_MIN_GAP_MS) publishManifest();
    wake?.();
  }
  try {
    // The broker handles a connection's packets in order, so the subscription is in place before the manifest
    // reaches anyone; not waiting for SUBACK saves a round trip. (A status that did get lost is repeated.)
    const subscribed = transport.subscribe([ownStatusTopic]);
    subscribed.catch(() => {}); // awaited below; this only keeps an early rejection from going unhandled
    publishManifest();
    pump();
    await subscribed;
    nudger = scheduler.every(NUDGE_MS, () => {
      // Only our own publishes leave the broker owing us small writes (PUBACKs) that hold the next status back;
      // a status we receive is answered with our PUBACK at once, which carries the acknowledgement by itself.
      const idleMs = clock() - lastPublishMs;
      if (idleMs < NUDGE_MS) {
        nextNudgeMs = NUDGE_MS;
      } else if (idleMs >= nextNudgeMs) {
        transport.nudge();
        nextNudgeMs = Math.min(NUDGE_MAX_MS, nextNudgeMs * 2);
      }
    });
    await runUntilDelivered();
    deliveredMs = clock();
  } finally {
    nudger?.();
    stopListening();
    await transport.unsubscribe([ownStatusTopic]);
  }
  return {
    manifest,
    publishedChunks: planner.published,
    retransmittedChunks: planner.retransmitted,
    receivers: planner.receiverViews(clock()),
    // Up to the receivers' confirmation; unsubscribing afterwards is not part of the transfer.
    durationMs: deliveredMs - started,
  };

  async function runUntilDelivered(): Promise<void> {
    let progressMs = Number.NEGATIVE_INFINITY;
    for (;;) {
      if (options.signal?.aborted) throw new MqimgError('interrupted', 'interrupted', ExitCode.interrupted);
      // A publish that failed, or a subscription refused for good after a reconnection: the end, unless enough
      // receivers already proved that they saved the file (what became of the connection after does not matter).
      const broken = publishError ?? transport.failure;
      if (broken) {
        if (planner.completed >= minReceivers) break;
        throw broken;
      }
      const now = clock();
      planner.tick(now);
      if (options.onProgress && now - progressMs >= PROGRESS_EVERY_MS) {
        progressMs = now;
        options.onProgress({
          chunks: manifest.chunks,
          publishedChunks: planner.published,
          retransmittedChunks: planner.retransmitted,
          receivers: planner.receiverViews(now),
          elapsedMs: now - started,
        });
      }
      const phase = planner.phase(now);
      if (phase === 'delivered') break;
      // Enough receivers proved receipt: the others are served for as long again (at least --timeout), then the
      // send ends delivered. Receivers that never prove anything (forged ones) cannot turn it into a failure.
      if (planner.completed >= minReceivers) {
        enoughMs ??= now;
        if (now - enoughMs > Math.max(timeoutMs, enoughMs - started)) break;
      }
      if (phase === 'failed') {
        const reasons = planner.receiverViews(now).map((r) => `${r.id}: ${r.reason ?? 'failed'}`);
        throw new TransferError(
          'receiver_failed',
          `every receiver reported that ${manifest.name} failed (${reasons.join('; ')})`,
          { id },
        );
      }
      // Repeat the manifest until enough receivers joined, and while one has gone silent: a receiver that connected
      // late, or lost the first copy to a reconnection, learns of the transfer this way even when no chunk reaches
      // it any more; one that restarted resumes; one that finished but whose final status was lost repeats it.
      if (
        (planner.joined < minReceivers || planner.hasStalled(now)) &&
        now - lastManifestMs >= MANIFEST_REPEAT_MS
      ) {
        publishManifest();
      }
      if (now - planner.lastProgressMs > timeoutMs || now > deadlineMs) {
        if (planner.completed >= minReceivers) break;
        if (!transport.connected) {
          throw new ConnectionError(
            'connection_lost',
            `lost the connection to ${transport.url} and it did not come back within ${Math.round(timeoutMs / 1000)} s; ${manifest.name} was not confirmed`,
          );
        }
        if (phase === 'waiting-for-receivers') {
          throw new TransferError(
            'no_receiver',
            `no receiver answered within ${Math.round(timeoutMs / 1000)} s on ${options.topic}: start one (mqimg receive --out DIR) on the same broker, or raise --timeout${heard()}`,
            { id, topic: options.topic },
          );
        }
        if (planner.completed > 0)
          throw new TransferError(
            'stalled',
            `${planner.completed} of ${minReceivers} receivers confirmed ${manifest.name}, and no other made progress for ${Math.round(timeoutMs / 1000)} s (receivers: ${describe(planner.receiverViews(now))}): start another receiver, or send with fewer --receivers`,
            { id },
          );
        throw new TransferError(
          'stalled',
          `the transfer of ${manifest.name} made no progress for ${Math.round(timeoutMs / 1000)} s; receivers: ${describe(planner.receiverViews(now))}${unproven > 0 ? `; ${unproven} claims of completion without a valid proof of receipt were ignored` : ''}`,
          { id },
        );
      }
      pump();
      await new Promise<void>((resolve) => {
        const cancel = scheduler.after(TICK_MS, done);
        function done() {
          cancel();
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  }
}

function describe(receivers: ReceiverView[]): string {
  if (receivers.length === 0) return 'none';
  return receivers
    .map((r) => `${r.id} ${r.state} at chunk ${r.next}${r.reason !== undefined ? ` (${r.reason})` : ''}`)
    .join(', ');
}

export { checkChunkBytes, fitChunkBytes } from '../../protocol/wire/chunk-size.js';
