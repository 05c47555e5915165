import type { MqttClient } from 'mqtt';
import { encodeManifest, type Manifest } from '../../src/protocol/manifest/manifest.js';
import { chunkTopic, manifestTopic, pageTopic } from '../../src/protocol/wire/topics.js';
import {
  type PrepareTransferOptions,
  prepareTransfer,
  type SendableImage,
} from '../../src/session/send/send-session.js';

/**
 * An image as `prepareTransfer` takes it; its `sha256`, when given, is written into the manifest as is (a test that
 * wants a manifest that lies about the file).
 */
export type RawImage = SendableImage;

/**
 * A transfer made by hand, as a sender that is not mqimg (or an attacker) makes it: the manifest and hash pages of
 * protocol 2 (`prepareTransfer`: new random id and nonce), the bytes it announces, and the topic it goes to.
 */
export interface RawTransfer {
  topic: string;
  manifest: Manifest;
  pages: Uint8Array[];
  bytes: Uint8Array;
}

/** Prepares `image` for `topic` in chunks of `chunkBytes` (created now unless `createdMs` says otherwise). */
export function craftTransfer(
  image: RawImage,
  topic: string,
  chunkBytes: number,
  createdMs = Date.now(),
  options: PrepareTransferOptions = {},
): RawTransfer {
  const { manifest, pages } = prepareTransfer(image, chunkBytes, createdMs, options);
  return { topic, manifest, pages, bytes: image.bytes };
}

/** Chunk `index` of `bytes` cut in chunks of `chunkBytes`. */
export function chunkOf(bytes: Uint8Array, chunkBytes: number, index: number): Buffer {
  return Buffer.from(bytes.subarray(index * chunkBytes, (index + 1) * chunkBytes));
}

/** Publishes with QoS 1 (default) and waits for the broker's acknowledgement. */
const put = (client: MqttClient, topic: string, payload: Uint8Array | string, qos: 0 | 1 = 1) =>
  client.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload), { qos });

/** Publishes the manifest (`payload` replaces its encoding, e.g. a signed or altered one). */
export async function publishManifest(
  client: MqttClient,
  t: RawTransfer,
  payload: Uint8Array | string = encodeManifest(t.manifest),
): Promise<void> {
  await put(client, manifestTopic(t.topic, t.manifest.id), payload);
}

/** Publishes every hash page (T/mqimg/ID/h/J), in order. */
export async function publishPages(client: MqttClient, t: RawTransfer): Promise<void> {
  for (const [j, page] of t.pages.entries()) await put(client, pageTopic(t.topic, t.manifest.id, j), page);
}

/** Publishes chunks `indexes` (default all, in order) cut from `bytes` (default the transfer's own bytes). */
export async function publishChunks(
  client: MqttClient,
  t: RawTransfer,
  bytes: Uint8Array = t.bytes,
  indexes: Iterable<number> = Array.from({ length: t.manifest.chunks }, (_, i) => i),
  qos: 0 | 1 = 1,
): Promise<void> {
  const { id, chunkBytes } = t.manifest;
  for (const i of indexes) await put(client, chunkTopic(t.topic, id, i), chunkOf(bytes, chunkBytes, i), qos);
}

/** Publishes a whole genuine-looking transfer: the manifest, then its hash pages, then its chunks. */
export async function publishTransfer(
  client: MqttClient,
  t: RawTransfer,
  manifestPayload?: Uint8Array | string,
): Promise<void> {
  await publishManifest(client, t, manifestPayload);
  await publishPages(client, t);
  await publishChunks(client, t);
}
