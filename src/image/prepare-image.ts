import { basename } from 'node:path';
import type { Sharp } from 'sharp';
import { InputError, UsageError } from '../errors.js';
import { MEDIA_TYPES } from '../protocol/wire/media-types.js';
import { type ImageHeader, readImageHeader } from './image-header.js';
import type { Fit, OutputFormat } from './output-formats.js';
import { type PixelFormat, packPixels, strideFor } from './pixel-formats.js';
import { SHARP_FORMAT_TO_TYPE } from './sharp-formats.js';

export { FITS, type Fit, OUTPUT_FORMATS, type OutputFormat } from './output-formats.js';

/** How to prepare an image before it is sent. */
export interface PrepareOptions {
  /** Default 'auto'. 'original' sends the file's bytes untouched (only the header is read, for the size). */
  format?: OutputFormat;
  /** Encoder quality 1-100 for JPEG, WebP and AVIF. Default: sharp's (80 for JPEG and WebP, 50 for AVIF). */
  quality?: number;
  /** Fit inside this box, in pixels, keeping the aspect ratio and never enlarging. */
  maxSize?: { width: number; height: number };
  /**
   * Resize to exactly this box (for `cover`, `contain`, `fill`) or to fit inside it (`inside`), in pixels,
   * enlarging if needed: a display gets its own resolution. Applied after `maxSize`.
   */
  resize?: { width: number; height: number };
  /** How `resize` fits: cover (crop to fill, the default), contain (letterbox with `background`), inside, fill. */
  fit?: Fit;
  /** Letterbox and transparency colour, a CSS colour such as `black`, `#fff` or `rgb(0,0,0)`. Default black. */
  background?: string;
  /** Progressive JPEG. Default false: baseline, which small decoders (TJpgDec) need. */
  progressive?: boolean;
  /**
   * JPEG with Huffman tables optimised for this image (a second pass of the encoder): 2-6% smaller files, for an
   * encode about twice as long (jolla.jpg, 8 MP: 76 against 31 ms, docs/benchmarks.md). Default false: the time
   * matters more than the bytes on the links mqimg is for; choose it for slow links.
   */
  optimizeCoding?: boolean;
  /** Byte order of `rgb565`: `le` (LVGL, default) or `be` (ESPHome, most SPI TFTs). */
  byteOrder?: 'le' | 'be';
  /** Keep EXIF, ICC and XMP metadata (GPS included). Default false: all metadata is stripped. */
  keepMetadata?: boolean;
  /** Refuse images with more pixels than this (decompression bombs). Default 100,000,000. */
  maxInputPixels?: number;
}

/** A prepared image: the exact bytes to send, and what the manifest says about them. */
export interface PreparedImage {
  bytes: Buffer;
  /** File name to announce, with the extension of the output format. */
  name: string;
  mediaType: string;
  width: number;
  height: number;
  /** For raw pixel formats: the format (`rgb565le`...) and the bytes per row. */
  pixelFormat?: PixelFormat;
  stride?: number;
}

/**
 * Decodes, orients (by EXIF), resizes, strips metadata and encodes one image, completely, before anything is
 * published. Throws an `InputError` with a clear message for anything that is not an image sharp can decode.
 * `whileEncoding` is called once the pixels are handed to sharp's own threads (not for `original`, which sharp
 * does not touch when the header says enough): work the caller starts then runs alongside the encoding.
 */
export async function prepareImage(
  input: Buffer,
  sourceName: string,
  options: PrepareOptions = {},
  whileEncoding?: () => void,
): Promise<PreparedImage> {
  const limitInputPixels = options.maxInputPixels ?? 100_000_000;
  const format = options.format ?? 'auto';
  // The type and size, from the header where it says them plainly (image-header.ts), else from sharp's metadata.
  // sharp takes tens of milliseconds to load: `original` needs it only for a header the reader leaves to it, and
  // never for HEIC, whose header the reader reads (sharp's prebuilt libvips cannot).
  const header = readImageHeader(input);
  if (format === 'original' && header) {
    checkPixelCount(sourceName, header.width, header.height, limitInputPixels);
    return { bytes: input, name: basename(sourceName), mediaType: header.type, ...sizeOf(header) };
  }
  if (looksLikeHeic(input)) {
    throw new InputError(
      'input_heic_unsupported',
      `${sourceName} is a HEIC/HEIF (HEVC) image, which the libvips bundled with sharp cannot decode: convert it to JPEG first (for example with heif-convert, or "Most Compatible" in the iPhone's camera settings), or send the file untouched with --format original`,
      { file: sourceName },
    );
  }
  const { default: sharp } = await import('sharp');
  const { type: inputType, ...size } = header ?? (await sharpHeader(sharp, input, sourceName));
  checkPixelCount(sourceName, size.width, size.height, limitInputPixels);
  if (format === 'original')
    return { bytes: input, name: basename(sourceName), mediaType: inputType, ...size };
  const open = () => sharp(input, { limitInputPixels, failOn: 'error' });
  const target = format === 'auto' ? autoFormat(inputType) : format;
  let pipeline = open().rotate(); // rotate() with no angle applies the EXIF orientation
  if (options.maxSize) {
    pipeline = pipeline.resize({
      width: options.maxSize.width,
      height: options.maxSize.height,
      fit: 'inside',
      withoutEnlargement: true,
    });
  }
  const background = checkedBackground(sharp, options.background);
  if (options.resize) {
    pipeline = pipeline.resize({
      width: options.resize.width,
      height: options.resize.height,
      fit: options.fit ?? 'cover',
      background,
    });
  }
  if (isRaw(target)) return prepareRaw(pipeline, target, options, sourceName, background, whileEncoding);
  if (options.keepMetadata) pipeline = pipeline.keepMetadata();
  const quality = options.quality;
  const q = quality !== undefined ? { quality } : {};
  if (target === 'jpeg')
    // Baseline unless asked: not mozjpeg, which forces progressive. JPEG has no alpha: flatten onto background.
    pipeline = pipeline.flatten({ background }).jpeg({
      ...q,
      progressive: options.progressive ?? false,
      optimiseCoding: options.optimizeCoding ?? false,
    });
  else if (target === 'webp') pipeline = pipeline.webp(q);
  else if (target === 'avif') pipeline = pipeline.avif(q);
  else pipeline = pipeline.png();
  try {
    const encoding = pipeline.toBuffer({ resolveWithObject: true });
    whileEncoding?.();
    const { data, info } = await encoding;
    const mediaType = `image/${target}`;
    const ext = (MEDIA_TYPES as Record<string, string>)[mediaType] ?? `.${target}`;
    const stem = basename(sourceName).replace(/\.[^.]*$/, '') || 'image';
    return { bytes: data, name: `${stem}${ext}`, mediaType, width: info.width, height: info.height };
  } catch (error) {
    throw decodeError(sourceName, error);
  }
}

const sizeOf = (header: ImageHeader) => ({ width: header.width, height: header.height });

/**
 * `background` (default black) if sharp takes it as a colour; else a UsageError, before any work: sharp would throw
 * its own error from deep inside the pipeline.
 */
function checkedBackground(sharp: typeof import('sharp')['default'], background = 'black'): string {
  try {
    sharp({ create: { width: 1, height: 1, channels: 3, background } });
    return background;
  } catch {
    throw new UsageError(
      `background "${background}" is not a colour: give a CSS colour name (white, navy), #rgb, #rrggbb or rgb(r, g, b)`,
    );
  }
}

/** The type and size sharp's `metadata()` finds (it reads the header only), or the InputError that says why not. */
async function sharpHeader(
  sharp: typeof import('sharp')['default'],
  input: Buffer,
  sourceName: string,
): Promise<ImageHeader> {
  let meta: Awaited<ReturnType<Sharp['metadata']>>;
  try {
    // Only the header is read here, so no pixel limit is needed yet; the caller checks what the header claims.
    meta = await sharp(input, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (error) {
    throw decodeError(sourceName, error);
  }
  const type = meta.format ? SHARP_FORMAT_TO_TYPE[meta.format] : undefined;
  if (!type || !meta.width || !meta.height) {
    throw new InputError(
      'input_not_image',
      `${sourceName} is not an image mqimg can read (JPEG, PNG, WebP, AVIF, GIF, TIFF, SVG)`,
      { file: sourceName },
    );
  }
  return { type, width: meta.width, height: meta.height };
}

/** Refuses an image whose header claims more than `limit` pixels: a possible decompression bomb. */
function checkPixelCount(sourceName: string, width: number, height: number, limit: number): void {
  if (width * height > limit) {
    throw new InputError(
      'input_too_many_pixels',
      `${sourceName} says it is ${width}x${height} pixels, more than the limit of ${limit}: refusing it as a possible decompression bomb`,
      { file: sourceName, width, height },
    );
  }
}

type RawFormat = 'rgb565' | 'rgb888' | 'gray8' | 'gray4' | 'mono1';

function isRaw(format: string): format is RawFormat {
  return ['rgb565', 'rgb888', 'gray8', 'gray4', 'mono1'].includes(format);
}

/** Flattens onto the background, takes 8-bit RGB from sharp and packs it (pixel-formats.ts). */
async function prepareRaw(
  pipeline: Sharp,
  target: RawFormat,
  options: PrepareOptions,
  sourceName: string,
  background: string,
  whileEncoding: (() => void) | undefined,
): Promise<PreparedImage> {
  try {
    const encoding = pipeline
      .flatten({ background })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    whileEncoding?.();
    const { data, info } = await encoding;
    const rgb = info.channels === 3 ? data : dropExtraChannels(data, info.channels);
    const pixelFormat: PixelFormat = target === 'rgb565' ? `rgb565${options.byteOrder ?? 'le'}` : target;
    const stem = basename(sourceName).replace(/\.[^.]*$/, '') || 'image';
    return {
      bytes: packPixels(rgb, info.width, info.height, pixelFormat),
      name: `${stem}.${pixelFormat}`,
      mediaType: 'application/octet-stream',
      width: info.width,
      height: info.height,
      pixelFormat,
      stride: strideFor(pixelFormat, info.width),
    };
  } catch (error) {
    throw decodeError(sourceName, error);
  }
}

function dropExtraChannels(data: Buffer, channels: number): Buffer {
  const pixels = data.length / channels;
  const rgb = Buffer.alloc(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const gray = channels < 3;
    rgb[p * 3] = data[p * channels] ?? 0;
    rgb[p * 3 + 1] = data[p * channels + (gray ? 0 : 1)] ?? 0;
    rgb[p * 3 + 2] = data[p * channels + (gray ? 0 : 2)] ?? 0;
  }
  return rgb;
}

function autoFormat(inputType: string): 'jpeg' | 'png' | 'webp' | 'avif' {
  if (inputType === 'image/png' || inputType === 'image/gif' || inputType === 'image/svg+xml') return 'png';
  if (inputType === 'image/webp') return 'webp';
  if (inputType === 'image/avif') return 'avif';
  return 'jpeg';
}

/** ISO BMFF 'ftyp' box with a HEVC brand. */
function looksLikeHeic(bytes: Buffer): boolean {
  if (bytes.length < 12 || bytes.toString('latin1', 4, 8) !== 'ftyp') return false;
  const brand = bytes.toString('latin1', 8, 12);
  return (
    ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand) &&
    !bytes.subarray(8, 64).includes('avif')
  );
}

function decodeError(sourceName: string, error: unknown): InputError {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (/unsupported image format/i.test(reason ?? '')) {
    return new InputError(
      'input_not_image',
      `${sourceName} is not an image mqimg can read (JPEG, PNG, WebP, AVIF, GIF, TIFF, SVG)`,
      { file: sourceName },
      error,
    );
  }
  if (/pixel limit/i.test(reason ?? '')) {
    return new InputError(
      'input_too_many_pixels',
      `${sourceName} has more pixels than the limit: refusing it as a possible decompression bomb`,
      { file: sourceName },
      error,
    );
  }
  return new InputError(
    'input_corrupt',
    `${sourceName} could not be decoded; the file may be truncated or damaged (sharp said: ${reason})`,
    { file: sourceName },
    error,
  );
}
