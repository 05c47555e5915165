/**
 * The media type and size of an image, read from its header bytes alone: no decoder, no sharp. `send --format
 * original` needs no more than this, and loading sharp would cost it more than the rest of its start-up.
 *
 * JPEG (the first SOFn frame header), PNG (IHDR), GIF (the logical screen), WebP (VP8, VP8L and VP8X), TIFF
 * (classic, the first IFD's ImageWidth and ImageLength), BMP (the DIB header) and HEIF/HEIC/AVIF (the primary item's
 * `ispe` property, which sharp's prebuilt libvips cannot even read for HEIC) are read; the width and height are those the header
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
 * (SVG, BigTIFF, a HEIF without `ispe`, not an image), or a header that is cut short, damaged or declares a zero size. The
 * caller then asks a real decoder, which also says what is wrong. Only the header is read: a file whose pixel
 * data is truncated still has a header.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  const header =
    jpeg(bytes) ?? png(bytes) ?? gif(bytes) ?? webp(bytes) ?? tiff(bytes) ?? bmp(bytes) ?? heif(bytes);
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

/** BMP: the file header ('BM'), then the DIB header: OS/2's 16-bit size, or Windows' 32-bit (negative: top-down). */
function bmp(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 26 || ascii(bytes, 0, 2) !== 'BM') return undefined;
  const data = view(bytes);
  const dibSize = data.getUint32(14, true);
  if (dibSize === 12)
    return { type: 'image/bmp', width: data.getUint16(18, true), height: data.getUint16(20, true) };
  if (dibSize < 40 || bytes.length < 26) return undefined;
  return {
    type: 'image/bmp',
    width: Math.abs(data.getInt32(18, true)),
    height: Math.abs(data.getInt32(22, true)),
  };
}

/** One ISO BMFF box: its type, and where its content starts and ends. */
interface Box {
  type: string;
  start: number;
  end: number;
}

/** The boxes from `start` to `end` (a file, or a box's content); stops at a box that does not fit. */
function boxes(bytes: Uint8Array, start: number, end: number): Box[] {
  const data = view(bytes);
  const found: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = data.getUint32(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) break;
      size = Number(data.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) size = end - at; // to the end
    if (size < header || at + size > end) break;
    found.push({ type: ascii(bytes, at + 4, 4), start: at + header, end: at + size });
    at += size;
  }
  return found;
}

/** HEIF brands of HEVC-coded images (iPhone photos are `heic`), and of AVIF. */
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/**
 * HEIF (HEIC, AVIF): the `ftyp` brands say which; the size is the `ispe` (image spatial extents) property the
 * `ipma` box associates with the primary item (`pitm`), that is the whole image for a grid of tiles too. Without
 * `pitm` or `ipma`, the largest `ispe`.
 */
function heif(bytes: Uint8Array): ImageHeader | undefined {
  const top = boxes(bytes, 0, bytes.length);
  const ftyp = top[0];
  if (ftyp?.type !== 'ftyp' || ftyp.end - ftyp.start < 8) return undefined;
  const brands = [ascii(bytes, ftyp.start, 4)];
  for (let at = ftyp.start + 8; at + 4 <= ftyp.end; at += 4) brands.push(ascii(bytes, at, 4));
  const type = brands.some((b) => AVIF_BRANDS.has(b))
    ? 'image/avif'
    : brands.some((b) => HEIC_BRANDS.has(b))
      ? 'image/heic'
      : undefined;
  const meta = top.find((b) => b.type === 'meta');
  if (!type || !meta) return undefined;
  const data = view(bytes);
  const inMeta = boxes(bytes, meta.start + 4, meta.end); // meta is a full box: version and flags first
  const iprp = inMeta.find((b) => b.type === 'iprp');
  const ipco = iprp && boxes(bytes, iprp.start, iprp.end).find((b) => b.type === 'ipco');
  if (!iprp || !ipco) return undefined;
  const properties = boxes(bytes, ipco.start, ipco.end);
  const extents = (box: Box | undefined) =>
    box?.type === 'ispe' && box.end - box.start >= 12
      ? { type, width: data.getUint32(box.start + 4), height: data.getUint32(box.start + 8) }
      : undefined;
  const primary = primaryItem(bytes, inMeta);
  const ipma = boxes(bytes, iprp.start, iprp.end).find((b) => b.type === 'ipma');
  if (primary !== undefined && ipma) {
    for (const index of associatedProperties(bytes, ipma, primary)) {
      const found = extents(properties[index - 1]);
      if (found) return found;
    }
  }
  const all = properties.map(extents).filter((e) => e !== undefined);
  return all.sort((a, b) => b.width * b.height - a.width * a.height)[0];
}

/** The primary item's id, from `pitm` (a full box: a 16-bit id in version 0, 32-bit in version 1). */
function primaryItem(bytes: Uint8Array, inMeta: Box[]): number | undefined {
  const pitm = inMeta.find((b) => b.type === 'pitm');
  if (!pitm || pitm.end - pitm.start < 6) return undefined;
  const data = view(bytes);
  return bytes[pitm.start] === 0 ? data.getUint16(pitm.start + 4) : data.getUint32(pitm.start + 4);
}

/** The (1-based) property indices `ipma` associates with item `item`. */
function associatedProperties(bytes: Uint8Array, ipma: Box, item: number): number[] {
  const data = view(bytes);
  const version = bytes[ipma.start] ?? 0;
  const wide = ((bytes[ipma.start + 3] ?? 0) & 1) === 1; // flags & 1: 15-bit property indices
  let at = ipma.start + 4;
  if (at + 4 > ipma.end) return [];
  const entries = data.getUint32(at);
  at += 4;
  for (let e = 0; e < entries; e++) {
    const idBytes = version < 1 ? 2 : 4;
    if (at + idBytes + 1 > ipma.end) return [];
    const id = idBytes === 2 ? data.getUint16(at) : data.getUint32(at);
    at += idBytes;
    const count = bytes[at] ?? 0;
    at += 1;
    const indices: number[] = [];
    for (let i = 0; i < count; i++) {
      if (at + (wide ? 2 : 1) > ipma.end) return [];
      indices.push(wide ? data.getUint16(at) & 0x7fff : (bytes[at] ?? 0) & 0x7f);
      at += wide ? 2 : 1;
    }
    if (id === item) return indices;
  }
  return [];
}
