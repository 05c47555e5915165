import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { nodeCrypto } from '../platform/node-crypto.js';
import type { CryptoProvider } from '../protocol/crypto.js';
import { parseJson } from '../protocol/manifest.js';
import { chunkTopic, manifestTopic, parseTopic } from '../protocol/topics.js';
import type { MessageTransport } from '../transport/message-transport.js';
import { type Clock, monotonicClock, wallClock } from './clock.js';
import { outgoingTransfer, type SendSecurity } from './outgoing-transfer.js';
import { buildManifest, type SendableImage, type SendResult } from './send-session.js';

/** How long to listen for the retained manifest already on a topic, in milliseconds. */
const RETAINED_LISTEN_MS = 500;

/**
 * The one field of a retained manifest needed to clear it: its chunk count, readable in plain and encrypted
 * manifests alike (an encrypted one seals the rest).
 */
const retainedChunkCount = z.object({ chunks: z.number().int().min(1).max(10_000_000) });

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
    buildManifest(image, options.topic, options.chunkBytes, createdMs, false, options.secret),
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
  // Chunks first and the manifest last: a receiver that sees the manifest finds every chunk already there.
  for (let i = 0; i < manifest.chunks; i++) {
    await send(chunkTopic(options.topic, manifest.id, i), wire.chunk(i));
  }
  await settle();
  await send(manifestTopic(options.topic, manifest.id), wire.manifestBytes);
  for (const old of previous) {
    if (old.id === manifest.id) continue;
    await send(manifestTopic(options.topic, old.id), '');
    for (let i = 0; i < old.chunks; i++) await send(chunkTopic(options.topic, old.id, i), '');
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
): Promise<Array<{ id: string; chunks: number }>> {
  const found = new Map<string, number>();
  const stop = transport.onMessage((name, payload) => {
    const parsed = parseTopic(name);
    if (parsed?.kind !== 'manifest' || parsed.topic !== topic || payload.length === 0) return;
    const json = parseJson(payload);
    const retained = json.ok ? retainedChunkCount.safeParse(json.value) : undefined;
    if (retained?.success) found.set(parsed.id, retained.data.chunks);
  });
  const filter = manifestTopic(topic, '+');
  try {
    await transport.subscribe([filter]);
    await delay(RETAINED_LISTEN_MS);
  } finally {
    stop();
    await transport.unsubscribe([filter]);
  }
  return [...found].map(([id, chunks]) => ({ id, chunks }));
}
