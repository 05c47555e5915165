/** Media types mqimg names in manifests, with the file extension a receiver gives each. */
export const MEDIA_TYPES = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
  'image/avif': '.avif',
  'image/gif': '.gif',
  'image/tiff': '.tiff',
  'image/heic': '.heic',
  'image/svg+xml': '.svg',
} as const satisfies Record<string, string>;

/** Extension (with the dot) for a media type; `.bin` for one mqimg does not know. */
export function extensionFor(mediaType: string): string {
  return (MEDIA_TYPES as Record<string, string>)[mediaType] ?? '.bin';
}
