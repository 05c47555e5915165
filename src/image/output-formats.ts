/**
 * Output formats of `mqimg send --format`. `auto` keeps JPEG, PNG, WebP and AVIF as they are and makes JPEG of
 * the rest; the raw pixel formats are described in `pixel-formats.ts` and PROTOCOL.md. A module of its own, without
 * imports, so that the command line's definitions load it and not the image code (prepare-image.ts).
 */
export const OUTPUT_FORMATS = [
  'auto',
  'jpeg',
  'webp',
  'png',
  'avif',
  'original',
  'rgb565',
  'rgb888',
  'gray8',
  'gray4',
  'mono1',
] as const;
/** One of OUTPUT_FORMATS. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** How `--resize` fits the image into the box: sharp's fit modes. */
export const FITS = ['cover', 'contain', 'inside', 'fill'] as const;
/** One of FITS. */
export type Fit = (typeof FITS)[number];
