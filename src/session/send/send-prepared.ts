import type { SendImagesOptions } from '../../api/send-images.js';
import { TAG_BYTES } from '../../protocol/security/encryption.js';
import { DEFAULT_CHUNK_BYTES } from '../../protocol/wire/constants.js';
import type { MqttTransport } from '../../transport/mqtt-transport.js';
import { publishRetained } from './retained-publish.js';
import {
  checkChunkBytes,
  fitChunkBytes,
  type SendableImage,
  type SendResult,
  sendTransfer,
} from './send-session.js';

/**
 * Sends prepared, hashed images over a connected transport, one transfer after the other (or leaves each retained,
 * with `retain`), and resolves with one result per image. The part of `sendImages` that needs the protocol's
 * schemas and the session code: send-images.ts loads this module while the images are still being prepared.
 */
export async function sendPrepared(
  transport: MqttTransport,
  images: SendableImage[],
  options: SendImagesOptions,
): Promise<SendResult[]> {
  const chunkBytes = chunkBytesFor(transport, options);
  const results: SendResult[] = [];
  for (const image of images) {
    options.onSending?.(image, chunkBytes);
    const result = options.retain
      ? await publishRetained(transport, image, { ...options, chunkBytes })
      : await sendTransfer(transport, image, { ...options, chunkBytes });
    options.onDelivered?.(result, image);
    results.push(result);
  }
  return results;
}

/** The chunk size for this broker: the one asked for (checked against its limit), or the default made to fit. */
export function chunkBytesFor(
  transport: MqttTransport,
  options: { topic: string; chunkBytes?: number | undefined; secret?: Uint8Array | undefined },
): number {
  // Longest chunk topic: <topic>/mqimg/<16 hex>/c/<up to 9 digits>; an encrypted chunk also carries its tag.
  const topicBytes = Buffer.byteLength(options.topic) + 32 + (options.secret ? TAG_BYTES : 0);
  return options.chunkBytes !== undefined
    ? checkChunkBytes(options.chunkBytes, topicBytes, transport.limits.maxPacketBytes)
    : fitChunkBytes(DEFAULT_CHUNK_BYTES, topicBytes, transport.limits.maxPacketBytes);
}
