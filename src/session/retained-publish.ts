import { parseJson } from '../protocol/manifest.js';
import { chunkTopic, manifestTopic, parseTopic } from '../protocol/topics.js';
import type { MqttTransport } from '../transport/mqtt-transport.js';
import { type Clock, monotonicClock } from './clock.js';
import { outgoingTransfer, type SendSecurity } from './outgoing-transfer.js';
import { buildManifest, type SendableImage, type SendResult } from './send-session.js';

/** How long to listen for the retained manifest already on a topic, in milliseconds. */
const RETAINED_LISTEN_MS = 500;

/**
 * `mqimg send --retain`: publishes the manifest and every chunk as retained QoS 1 messages, so that a receiver
 * that connects later (an e-paper display waking every ten minutes) gets the whole image from the broker at once,
 * with the sender long gone. Then clears the image retained before on the same topic (an empty retained
 * message on each of its topics), so that the broker never piles up stale chunks. Resolves once the broker has
 * acknowledged every message; it does not wait for receivers (there may be none yet).
 */
export async function publishRetained(
  transport: MqttTransport,
  image: SendableImage,
  options: { topic: string; chunkBytes: number; clock?: Clock } & SendSecurity,
): Promise<SendResult> {
  const clock = options.clock ?? monotonicClock;
  const started = clock();
  const wire = outgoingTransfer(
    buildManifest(image, options.topic, options.chunkBytes, Date.now(), false, options.secret),
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
  transport: MqttTransport,
  topic: string,
): Promise<Array<{ id: string; chunks: number }>> {
  const found = new Map<string, number>();
  const stop = transport.onMessage((name, payload) => {
    const parsed = parseTopic(name);
    if (parsed?.kind !== 'manifest' || parsed.topic !== topic || payload.length === 0) return;
    // Only the chunk count is needed, and it is readable in plain and encrypted manifests alike.
    const json = parseJson(payload);
    const chunks = json.ok ? (json.value as { chunks?: unknown } | null)?.chunks : undefined;
    if (typeof chunks === 'number' && Number.isInteger(chunks) && chunks > 0 && chunks <= 10_000_000)
      found.set(parsed.id, chunks);
  });
  const filter = manifestTopic(topic, '+');
  try {
    await transport.subscribe([filter]);
    await new Promise((resolve) => setTimeout(resolve, RETAINED_LISTEN_MS));
  } finally {
    stop();
    await transport.unsubscribe([filter]);
  }
  return [...found].map(([id, chunks]) => ({ id, chunks }));
}
