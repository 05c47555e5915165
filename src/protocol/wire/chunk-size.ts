import { UsageError } from '../../errors.js';
import { MAX_CHUNK_BYTES, MIN_CHUNK_BYTES } from './constants.js';

/** Bytes of a PUBLISH besides its topic and payload that chunk sizing allows for (fixed header, length, ids). */
export const PUBLISH_OVERHEAD_BYTES = 32;

/**
 * Checks `chunkBytes` against protocol bounds and the broker's packet limit (`maxPacketBytes`, undefined when the
 * broker did not say); `topicBytes` is the UTF-8 length of the chunk topic. Returns it, or throws UsageError.
 */
export function checkChunkBytes(
  chunkBytes: number,
  topicBytes: number,
  maxPacketBytes: number | undefined,
): number {
  if (!Number.isInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) {
    throw new UsageError(
      `--chunk-size must be a whole number of bytes from ${MIN_CHUNK_BYTES} to ${MAX_CHUNK_BYTES}; got ${chunkBytes}`,
    );
  }
  const overhead = topicBytes + PUBLISH_OVERHEAD_BYTES;
  if (maxPacketBytes !== undefined && chunkBytes + overhead > maxPacketBytes) {
    throw new UsageError(
      `--chunk-size ${chunkBytes} does not fit the broker's Maximum Packet Size of ${maxPacketBytes} bytes (with ${overhead} bytes of topic and header): use at most ${maxPacketBytes - overhead}`,
    );
  }
  return chunkBytes;
}

/** The largest chunk size up to `preferred` bytes that fits the broker's packet limit, rounded down to 1 KiB. */
export function fitChunkBytes(
  preferred: number,
  topicBytes: number,
  maxPacketBytes: number | undefined,
): number {
  const overhead = topicBytes + PUBLISH_OVERHEAD_BYTES;
  if (maxPacketBytes === undefined || preferred + overhead <= maxPacketBytes) return preferred;
  return Math.max(MIN_CHUNK_BYTES, Math.floor((maxPacketBytes - overhead) / 1024) * 1024);
}
