import { SHARP_FORMAT_TO_TYPE } from './sharp-formats.js';

/**
 * Decodes a received file completely and checks that it is an image of the media type its manifest declared.
 * Returns undefined when it is, or a sentence saying what is wrong. Used by `mqimg receive --verify-image`.
 */
export async function imageProblem(
  path: string,
  declaredType: string,
  maxPixels = 100_000_000,
): Promise<string | undefined> {
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
