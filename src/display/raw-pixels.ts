import type { PixelFormat } from '../protocol/wire/constants.js';

/**
 * Unpacks raw pixels as mqimg sends them (PROTOCOL.md 5.1, image/pixel-formats.ts packs them) into the RGBA bytes a
 * canvas takes (`ImageData`: 4 bytes per pixel, rows top to bottom, alpha 255). `stride` is the bytes per row in
 * `bytes` (the manifest's `stride`: rows are padded to whole bytes). 5- and 6-bit channels are widened by
 * repeating their top bits (31 -> 255, 63 -> 255), gray4 levels times 17 (15 -> 255), mono1 1 = white. Pure.
 */
export function rawToRgba(
  bytes: Uint8Array,
  format: PixelFormat,
  width: number,
  height: number,
  stride: number,
): Uint8ClampedArray<ArrayBuffer> {
  if (bytes.length < stride * height)
    throw new Error(
      `raw ${format} image of ${width}x${height} needs ${stride * height} bytes, got ${bytes.length}`,
    );
  const out = new Uint8ClampedArray(width * height * 4);
  let o = 0;
  const put = (r: number, g: number, b: number) => {
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = b;
    out[o + 3] = 255;
    o += 4;
  };
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let x = 0; x < width; x++) {
      switch (format) {
        case 'rgb888': {
          const at = row + x * 3;
          put(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0);
          break;
        }
        case 'rgb565le':
        case 'rgb565be': {
          const lo = bytes[row + x * 2] ?? 0;
          const hi = bytes[row + x * 2 + 1] ?? 0;
          const v = format === 'rgb565le' ? (hi << 8) | lo : (lo << 8) | hi;
          const r5 = v >> 11;
          const g6 = (v >> 5) & 0x3f;
          const b5 = v & 0x1f;
          put((r5 << 3) | (r5 >> 2), (g6 << 2) | (g6 >> 4), (b5 << 3) | (b5 >> 2));
          break;
        }
        case 'gray8': {
          const l = bytes[row + x] ?? 0;
          put(l, l, l);
          break;
        }
        case 'gray4': {
          const byte = bytes[row + (x >> 1)] ?? 0;
          const l = ((x % 2 === 0 ? byte >> 4 : byte) & 0x0f) * 17;
          put(l, l, l);
          break;
        }
        case 'mono1': {
          const bit = ((bytes[row + (x >> 3)] ?? 0) >> (7 - (x % 8))) & 1;
          const l = bit ? 255 : 0;
          put(l, l, l);
          break;
        }
      }
    }
  }
  return out;
}
