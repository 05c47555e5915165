import { stat } from 'node:fs/promises';
import { type PixelFormat, rawPixelsProblem } from './pixel-formats.js';
import { SHARP_FORMAT_TO_TYPE } from './sharp-formats.js';

/** What a manifest declares about a file; a received `Manifest` is one. */
export interface DeclaredImage {
  /** Media type, e.g. `image/png`, or `application/octet-stream` for raw pixels. */
  type: string;
  /** Width and height in pixels. */
  width: number;
  height: number;
  /** For raw pixels: their layout and bytes per row. */
  pixelFormat?: PixelFormat | undefined;
  stride?: number | undefined;
}

/**
 * Checks that a received file is the image its manifest declared, and returns undefined when it is, or a sentence
 * saying what is wrong. Used by `mqimg receive --verify-image`. An image file is decoded completely (at most
 * `maxPixels` pixels, default 100,000,000) and must be of the declared media type. Raw pixels (`pixelFormat`) have
 * no header to decode: their size must match the format, width, height and stride (`rawPixelsProblem`).
 */
export async function imageProblem(
  path: string,
  declared: DeclaredImage,
  maxPixels = 100_000_000,
): Promise<string | undefined> {
  if (declared.pixelFormat !== undefined) {
    const size = await stat(path).then(
      (info) => info.size,
      (error: Error) => error,
    );
    if (size instanceof Error) return `cannot read the file back (${size.message})`;
    return rawPixelsProblem(size, { ...declared, pixelFormat: declared.pixelFormat });
  }
  const declaredType = declared.type;
  const { default: sharp } = await import('sharp');
  try {
    const image = sharp(path, { failOn: 'error', limitInputPixels: maxPixels });
    const meta = await image.metadata();
    const actual =
      meta.format === 'heif'
        ? meta.compression === 'av1'
          ? 'image/avif'
          : 'image/heic'
        : SHARP_FORMAT_TO_TYPE[meta.format ?? ''];
    if (actual !== declaredType)
      return `the manifest says ${declaredType} but the bytes are ${actual ?? meta.format ?? 'not an image'}`;
    await image.raw().toBuffer(); // decode every pixel: catches truncated and corrupt data
    return undefined;
  } catch (error) {
    return `the bytes do not decode as ${declaredType} (${(error as Error).message.split('\n')[0]})`;
  }
}
