/**
 * Media type of each format name sharp's `metadata().format` reports. `heif` is AVIF here: the libvips bundled
 * with sharp decodes AV1 HEIF but not HEVC (HEIC), which `prepareImage` refuses before this is consulted.
 */
export const SHARP_FORMAT_TO_TYPE: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  heif: 'image/avif',
  gif: 'image/gif',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
};
