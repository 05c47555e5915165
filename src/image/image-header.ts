/**
 * The media type and size of an image, read from its header bytes alone: no decoder, no sharp. `send --format
 * original` needs no more than this, and loading sharp would cost it more than the rest of its start-up.
 *
 * JPEG (the first SOFn frame header), PNG (IHDR), GIF (the logical screen), WebP (VP8, VP8L and VP8X) and TIFF
 * (classic, the first IFD's ImageWidth and ImageLength) are read; the width and height are those the header
 * declares, as sharp's `metadata()` reports them (before any EXIF orientation, the first page or frame's). Plain
 * functions of a `Uint8Array`, safe in a browser too.
 */

/** What an image's header says. */
export interface ImageHeader {
  /** Media type, e.g. `image/jpeg`. */
  type: string;
  /** Width and height in pixels, both at least 1. */
  width: number;
  height: number;
}

/**
 * The type and size `bytes` declare, or undefined when the header does not say them plainly: another format
 * (AVIF, SVG, HEIC, BigTIFF, not an image), or a header that is cut short, damaged or declares a zero size. The
 * caller then asks a real decoder, which also says what is wrong. Only the header is read: a file whose pixel
 * data is truncated still has a header.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  const header = jpeg(bytes) ?? png(bytes) ?? gif(bytes) ?? webp(bytes) ?? tiff(bytes);
  return header && header.width > 0 && header.height > 0 ? header : undefined;
}

const ascii = (bytes: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...bytes.subarray(at, at + length));
const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** SOFn markers (baseline, extended, progressive, lossless, arithmetic); not DHT (C4), JPG (C8) or DAC (CC). */
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** JPEG: walks the marker segments from SOI to the first frame header (SOFn) and reads its size there. */
function jpeg(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return undefined;
  const data = view(bytes);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined; // not a marker where one must be: damaged
    const marker = bytes[at + 1] ?? 0;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    // Markers without a length: TEM, RSTn; SOI again, EOI and SOS before any frame header mean no size here.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd8 || marker === 0xd9 || marker === 0xda) return undefined;
    const length = data.getUint16(at + 2);
    if (length < 2) return undefined;
    if (SOF_MARKERS.has(marker)) {
      if (at + 9 > bytes.length) return undefined;
      return { type: 'image/jpeg', height: data.getUint16(at + 5), width: data.getUint16(at + 7) };
    }
    at += 2 + length;
  }
  return undefined;
}

/** PNG: the signature, then IHDR, which must be the first chunk, with the width and height. */
function png(bytes: Uint8Array): ImageHeader | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b) || ascii(bytes, 12, 4) !== 'IHDR')
    return undefined;
  const data = view(bytes);
  return { type: 'image/png', width: data.getUint32(16), height: data.getUint32(20) };
}

/** GIF87a and GIF89a: the logical screen's width and height, little-endian. */
function gif(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 10 || !['GIF87a', 'GIF89a'].includes(ascii(bytes, 0, 6))) return undefined;
  const data = view(bytes);
  return { type: 'image/gif', width: data.getUint16(6, true), height: data.getUint16(8, true) };
}

/** WebP: a RIFF container whose first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended: the canvas). */
function webp(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 30 || ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WEBP') return undefined;
  const data = view(bytes);
  const chunk = ascii(bytes, 12, 4);
  if (chunk === 'VP8 ') {
    // A key frame's start code, then 14-bit width and height (the top 2 bits are a scale, not part of the size).
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return undefined;
    return {
      type: 'image/webp',
      width: data.getUint16(26, true) & 0x3fff,
      height: data.getUint16(28, true) & 0x3fff,
    };
  }
  if (chunk === 'VP8L') {
    if (bytes[20] !== 0x2f) return undefined; // the lossless signature byte
    const bits = data.getUint32(21, true);
    return { type: 'image/webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    const width = (data.getUint32(24, true) & 0xffffff) + 1;
    const height = (data.getUint32(27, true) & 0xffffff) + 1;
    return { type: 'image/webp', width, height };
  }
  return undefined;
}

/** TIFF tags of the image size. */
const IMAGE_WIDTH = 256;
const IMAGE_LENGTH = 257;
/** TIFF field types a size may have: SHORT and LONG. */
const SHORT = 3;
const LONG = 4;

/** Classic TIFF (either byte order): ImageWidth and ImageLength of the first image file directory. */
function tiff(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 8) return undefined;
  const order = ascii(bytes, 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const little = order === 'II';
  const data = view(bytes);
  if (data.getUint16(2, little) !== 42) return undefined; // 43 is BigTIFF: left to the decoder
  const ifd = data.getUint32(4, little);
  if (ifd < 8 || ifd + 2 > bytes.length) return undefined;
  const entries = data.getUint16(ifd, little);
  let width: number | undefined;
  let height: number | undefined;
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > bytes.length) return undefined;
    const tag = data.getUint16(entry, little);
    if (tag !== IMAGE_WIDTH && tag !== IMAGE_LENGTH) continue;
    const type = data.getUint16(entry + 2, little);
    if (data.getUint32(entry + 4, little) !== 1) return undefined;
    const value =
      type === SHORT
        ? data.getUint16(entry + 8, little)
        : type === LONG
          ? data.getUint32(entry + 8, little)
          : undefined;
    if (value === undefined) return undefined;
    if (tag === IMAGE_WIDTH) width = value;
    else height = value;
  }
  return width !== undefined && height !== undefined ? { type: 'image/tiff', width, height } : undefined;
}
