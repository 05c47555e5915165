/** Wire constants of mqimg protocol version 2. PROTOCOL.md is the prose version of this file. */

/** Major protocol version, carried as the `mqimg` field of every manifest. Receivers refuse other majors. */
export const PROTOCOL_VERSION = 3;

/** The topic level that marks mqimg traffic: `<topic>/mqimg/<id>/...`. */
export const TOPIC_MARKER = 'mqimg';

/** Transfer ids are 16 lowercase hex digits (64 random bits, new for every send); see `newTransferId`. */
export const TRANSFER_ID_PATTERN = /^[0-9a-f]{16}$/;

/**
 * Default chunk payload size in bytes: 32 KiB. Fits AWS IoT Core (128 KB per message), EMQX and NATS (1 MB),
 * and the largest message PubSubClient can be set to take (65,535 bytes), and is within ~10% of 64 KiB throughput
 * on Mosquitto. Displays with small buffers choose `--chunk-size 1024` or smaller.
 */
export const DEFAULT_CHUNK_BYTES = 32 * 1024;
/** Smallest chunk payload accepted, in bytes. */
export const MIN_CHUNK_BYTES = 64;
/** Largest chunk payload accepted, in bytes (512 KiB): below the 1 MB default message limit of EMQX and NATS. */
export const MAX_CHUNK_BYTES = 512 * 1024;
/** Largest image a manifest may announce, in bytes (1 GiB). Receivers apply their own, smaller `--max-bytes`. */
export const MAX_IMAGE_BYTES = 1024 * 1024 * 1024;
/** Longest file name in a manifest, in Unicode code points (as zod and JSON Schema count them); up to 4 bytes each. */
export const MAX_NAME_LENGTH = 255;
/** Levels a sender's topic may have; receivers without `--topic` match transfers on topics of 1..this many levels. */
export const MAX_TOPIC_LEVELS = 8;
/** Most missing-chunk ranges one receiver status may carry. */
export const MAX_STATUS_RANGES = 64;
/**
 * Most chunks a sender keeps beyond its slowest receiver's acknowledged position: far below Mosquitto's default
 * per-subscriber limit of 20 in flight + 1000 queued messages, so that a broker never has to drop.
 */
export const MAX_WINDOW_CHUNKS = 256;
/** Most bytes in flight towards a receiver (sender window, receiver offer): 16 MiB. */
export const MAX_WINDOW_BYTES = 16 * 1024 * 1024;

/** The sender's window cap for a chunk size: MAX_WINDOW_CHUNKS, fewer for big chunks, at least 4. */
export function maxWindowFor(chunkBytes: number): number {
  return Math.max(4, Math.min(MAX_WINDOW_CHUNKS, Math.floor(MAX_WINDOW_BYTES / chunkBytes)));
}

/** Raw pixel formats a manifest may name in `pixelFormat` (layouts in PROTOCOL.md, code in image/pixel-formats.ts). */
export const PIXEL_FORMATS = ['rgb565le', 'rgb565be', 'rgb888', 'gray8', 'gray4', 'mono1'] as const;
export type PixelFormat = (typeof PIXEL_FORMATS)[number];

/** Bytes per row of `width` pixels in `format` (PROTOCOL.md 5.1): rows are padded to a whole byte, never further. */
export function strideFor(format: PixelFormat, width: number): number {
  switch (format) {
    case 'rgb888':
      return width * 3;
    case 'rgb565le':
    case 'rgb565be':
      return width * 2;
    case 'gray8':
      return width;
    case 'gray4':
      return Math.ceil(width / 2);
    case 'mono1':
      return Math.ceil(width / 8);
  }
}

/**
 * Most page and chunk topics of one retained transfer that are named one by one: a receiver subscribes to at most
 * this many exact topics for a transfer announced on `T/mqimg/retained` (for brokers that give retained messages to
 * exact subscriptions only), and `send --retain` publishes at most this many clearing messages in all for the
 * transfers it replaces; `mqimg clear` clears at most this many per transfer beyond what the broker shows it. A
 * hostile retained manifest that declares 32,768 chunks costs no more. 4,096 pieces are 128 MiB at the default
 * 32 KiB chunks.
 */
export const MAX_EXACT_PIECES = 4096;
