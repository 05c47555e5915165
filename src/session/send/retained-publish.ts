import * as z from 'zod';
import { nodeCrypto } from '../../platform/node-crypto.js';
import { pageCount } from '../../protocol/manifest/chunk-hashes.js';
import { parseJson, TRANSFER_ID_PATTERN } from '../../protocol/manifest/manifest.js';
import type { CryptoProvider } from '../../protocol/security/crypto.js';
import { MAX_EXACT_PIECES } from '../../protocol/wire/constants.js';
import {
  chunkTopic,
  manifestTopic,
  pageTopic,
  parseRetainedTopic,
  parseTopic,
  retainedTopic,
} from '../../protocol/wire/topics.js';
import type { MessageTransport } from '../../transport/message-transport.js';
import { type Clock, monotonicClock, sleep, wallClock } from '../../util/clock.js';
import { outgoingTransfer, type SendSecurity } from './outgoing-transfer.js';
import { prepareTransfer, type SendableImage, type SendResult } from './send-session.js';

/** How long to listen for the retained manifest already on a topic, in milliseconds. */
const RETAINED_LISTEN_MS = 500;

/**
 * The one field of a retained manifest needed to clear it: its chunk count, readable in plain and encrypted
 * manifests alike (an encrypted one seals the rest).
 */
const retainedChunkCount = z.object({
  id: z.string().regex(TRANSFER_ID_PATTERN),
  chunks: z.number().int().min(1).max(10_000_000),
  chunkBytes: z.number().int().min(1).optional(),
});

/** Options of `publishRetained`. */
export interface RetainedPublishOptions extends SendSecurity {
  /** The sender topic, e.g. `display/door`. */
  topic: string;
  /** Chunk payload size in bytes. */
  chunkBytes: number;
  /** Monotonic milliseconds, for the duration reported. Default `performance.now`. */
  clock?: Clock;
  /** Milliseconds since the Unix epoch, for the manifest's `createdMs`. Default `Date.now`. */
  wallClock?: Clock;
  /** Hashing, signing and sealing. Default node:crypto. */
  crypto?: CryptoProvider;
}

/**
 * `mqimg send --retain`: publishes the manifest and every chunk as retained QoS 1 messages, so that a receiver
 * that connects later (an e-paper display waking every ten minutes) gets the whole image from the broker at once,
 * with the sender long gone. Then clears the image retained before on the same topic (an empty retained
 * message on each of its topics), so that the broker never piles up stale chunks. Resolves once the broker has
 * acknowledged every message; it does not wait for receivers (there may be none yet).
 */
export async function publishRetained(
  transport: MessageTransport,
  image: SendableImage,
  options: RetainedPublishOptions,
): Promise<SendResult> {
  const clock = options.clock ?? monotonicClock;
  const started = clock();
  const createdMs = (options.wallClock ?? wallClock)();
  const wire = await outgoingTransfer(
    options.crypto ?? nodeCrypto,
    prepareTransfer(image, options.chunkBytes, createdMs),
    image.bytes,
    options.topic,
    options,
  );
  const { manifest } = wire;
  const previous = await retainedManifests(transport, options.topic);
  // Up to the transport's in-flight limit at once; `publish` takes its slot synchronously.
  let inflight: Promise<void>[] = [];
  const send = async (topic: string, payload: Uint8Array | string) => {
    await transport.waitForSlot();
    inflight.push(transport.publish(topic, payload, { retain: true }));
  };
  const settle = async () => {
    await Promise.all(inflight);
    inflight = [];
  };
  // Hash pages and chunks first and the manifest last: a receiver that sees the manifest finds all of them there.
  for (let j = 0; j < wire.pages.length; j++) {
    await send(pageTopic(options.topic, manifest.id, j), wire.pages[j] ?? new Uint8Array(0));
  }
  for (let i = 0; i < manifest.chunks; i++) {
    await send(chunkTopic(options.topic, manifest.id, i), wire.chunk(i));
  }
  await settle();
  await send(manifestTopic(options.topic, manifest.id), wire.manifestBytes);
  // A copy on the exact topic T/mqimg/retained, for brokers that give retained messages to exact subscriptions
  // only (RabbitMQ 3.x); it replaces the previous one there.
  await send(retainedTopic(options.topic), wire.manifestBytes);
  // At most MAX_EXACT_PIECES clearing messages in all: a hostile retained manifest declaring 32,768 chunks must
  // not make every send publish that many.
  let budget = MAX_EXACT_PIECES;
  for (const old of previous) {
    if (old.id === manifest.id || budget <= 0) continue;
    await send(manifestTopic(options.topic, old.id), '');
    for (let j = 0; j < old.pages && budget > 0; j++, budget--)
      await send(pageTopic(options.topic, old.id, j), '');
    for (let i = 0; i < old.chunks && budget > 0; i++, budget--)
      await send(chunkTopic(options.topic, old.id, i), '');
  }
  await settle();
  return {
    manifest,
    publishedChunks: manifest.chunks,
    retransmittedChunks: 0,
    receivers: [],
    durationMs: clock() - started,
  };
}

/** The manifests currently retained under `<topic>/mqimg/+/m`, listening for RETAINED_LISTEN_MS. */
async function retainedManifests(
  transport: MessageTransport,
  topic: string,
): Promise<Array<{ id: string; chunks: number; pages: number }>> {
  const found = new Map<string, { chunks: number; pages: number }>();
  const stop = transport.onMessage((name, payload) => {
    const parsed = parseTopic(name);
    const fromPointer = parseRetainedTopic(name) === topic;
    if (!fromPointer && (parsed?.kind !== 'manifest' || parsed.topic !== topic)) return;
    if (payload.length === 0) return;
    const json = parseJson(payload);
    const retained = json.ok ? retainedChunkCount.safeParse(json.value) : undefined;
    if (retained?.success) {
      const { id, chunks, chunkBytes } = retained.data;
      found.set(id, { chunks, pages: chunkBytes === undefined ? 0 : pageCount(chunks, chunkBytes) });
    }
  });
  const filters = [manifestTopic(topic, '+'), retainedTopic(topic)];
  try {
    await transport.subscribe(filters);
    await sleep(RETAINED_LISTEN_MS);
  } finally {
    stop();
    await transport.unsubscribe(filters);
  }
  return [...found].map(([id, counts]) => ({ id, ...counts }));
}
