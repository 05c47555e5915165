import { utf8Length } from './bytes.js';
import { extensionFor } from './media-types.js';

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
/**
 * Longest stem produced: 100 characters and 200 UTF-8 bytes, leaving room for a "-NNN" suffix and an extension
 * within the common 255-byte file-name limit (a 150-character Japanese name is 450 bytes).
 */
const MAX_STEM = 100;
const MAX_STEM_BYTES = 200;

/**
 * Turns a sender-chosen name into a plain file name that is safe on Linux, macOS and Windows: no directory
 * parts, no control or reserved characters, no leading dot, no reserved device name, at most ~110 characters
 * and 200 bytes before the extension,
 * and an extension that matches the media type. Never returns an empty string. Pure: the caller makes it unique.
 */
export function safeFileName(name: string, mediaType: string, pixelFormat?: string): string {
  const ext =
    pixelFormat !== undefined && /^[a-z0-9]{1,12}$/.test(pixelFormat)
      ? `.${pixelFormat}`
      : extensionFor(mediaType);
  // Keep only the last path component, whichever separator the sender used.
  const base = name.split(/[/\\]/).pop() ?? '';
  let stem = base
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\.[A-Za-z0-9]{1,8}$/, '')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  const kept: string[] = [];
  let bytes = 0;
  for (const char of Array.from(stem).slice(0, MAX_STEM)) {
    bytes += utf8Length(char);
    if (bytes > MAX_STEM_BYTES) break;
    kept.push(char);
  }
  stem = kept.join('');
  if (stem.length === 0) stem = 'image';
  if (WINDOWS_RESERVED.test(stem.split('.')[0] ?? '')) stem = `_${stem}`;
  return `${stem}${ext}`;
}

/** The `n`-th alternative for a taken name: `photo.jpg` -> `photo-1.jpg`. */
export function numberedFileName(fileName: string, n: number): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? `${fileName.slice(0, dot)}-${n}${fileName.slice(dot)}` : `${fileName}-${n}`;
}
