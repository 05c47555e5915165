import { type PixelFormat, strideFor } from '../protocol/wire/constants.js';

/** A raw pixel format's name as manifests carry it (`PIXEL_FORMATS`). */
export { type PixelFormat, strideFor };

/**
 * Raw pixel formats a microcontroller can copy to a display without a decoder. Pure functions from interleaved
 * 8-bit RGB (3 bytes per pixel, rows top to bottom, pixels left to right, as sharp's `raw()` gives them) to
 * packed bytes. Every format is row-major, top row first; rows are padded to whole bytes (`strideFor`).
 *
 * - `rgb888`:   3 bytes per pixel, R, G, B.
 * - `rgb565le`: 2 bytes per pixel, RRRRRGGG GGGBBBBB as a 16-bit value, low byte first (LVGL's RGB565).
 * - `rgb565be`: the same value, high byte first (ESPHome's default, most SPI TFT controllers on the wire).
 * - `gray8`:    1 byte per pixel, luma Y = round(0.299 R + 0.587 G + 0.114 B) (ITU-R BT.601).
 * - `gray4`:    2 pixels per byte, the left pixel in the high nibble; 16 levels (0 black .. 15 white), dithered.
 * - `mono1`:    8 pixels per byte, the left pixel in the most significant bit; 1 = white, 0 = black, dithered.
 * Dithering is Floyd-Steinberg (7/16 right, 3/16 down-left, 5/16 down, 1/16 down-right), rows left to right,
 * on the BT.601 luma.
 */

/** Packs `rgb` (width * height * 3 bytes) into `format`. */
export function packPixels(rgb: Uint8Array, width: number, height: number, format: PixelFormat): Buffer {
  if (rgb.length !== width * height * 3)
    throw new Error(`expected ${width * height * 3} bytes of RGB, got ${rgb.length}`);
  if (format === 'rgb888') return Buffer.from(rgb);
  const stride = strideFor(format, width);
  const out = Buffer.alloc(stride * height);
  if (format === 'rgb565le' || format === 'rgb565be') {
    for (let p = 0, o = 0; p < width * height; p++, o += 2) {
      const value =
        (((rgb[p * 3] ?? 0) >> 3) << 11) | (((rgb[p * 3 + 1] ?? 0) >> 2) << 5) | ((rgb[p * 3 + 2] ?? 0) >> 3);
      if (format === 'rgb565le') out.writeUInt16LE(value, o);
      else out.writeUInt16BE(value, o);
    }
    return out;
  }
  const luma = new Float32Array(width * height);
  for (let p = 0; p < width * height; p++) {
    luma[p] = 0.299 * (rgb[p * 3] ?? 0) + 0.587 * (rgb[p * 3 + 1] ?? 0) + 0.114 * (rgb[p * 3 + 2] ?? 0);
  }
  if (format === 'gray8') {
    for (let p = 0; p < width * height; p++) out[p] = Math.round(luma[p] ?? 0);
    return out;
  }
  const levels = format === 'gray4' ? 16 : 2;
  const step = 255 / (levels - 1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const old = Math.min(255, Math.max(0, luma[p] ?? 0));
      const level = Math.round(old / step);
      const error = old - level * step;
      if (x + 1 < width) luma[p + 1] = (luma[p + 1] ?? 0) + (error * 7) / 16;
      if (y + 1 < height) {
        if (x > 0) luma[p + width - 1] = (luma[p + width - 1] ?? 0) + (error * 3) / 16;
        luma[p + width] = (luma[p + width] ?? 0) + (error * 5) / 16;
        if (x + 1 < width) luma[p + width + 1] = (luma[p + width + 1] ?? 0) + (error * 1) / 16;
      }
      if (format === 'gray4') {
        const at = y * stride + (x >> 1);
        out[at] = (out[at] ?? 0) | (x % 2 === 0 ? level << 4 : level);
      } else if (level === 1) {
        const at = y * stride + (x >> 3);
        out[at] = (out[at] ?? 0) | (0x80 >> (x & 7));
      }
    }
  }
  return out;
}

/** What a manifest declares about raw pixels: their format, the image size in pixels, and the bytes per row. */
export interface RawPixelsDeclaration {
  pixelFormat: PixelFormat;
  width: number;
  height: number;
  stride?: number | undefined;
}

/**
 * Checks that `byteLength` bytes can be the raw pixels `declared`: the stride is what `pixelFormat` takes for
 * `width` pixels (`strideFor`) and the length is stride * height. Returns undefined when they can, or a sentence
 * saying what is wrong. Raw pixels carry no header, so this is all that can be checked without a display.
 */
export function rawPixelsProblem(byteLength: number, declared: RawPixelsDeclaration): string | undefined {
  const { pixelFormat, width, height } = declared;
  const stride = strideFor(pixelFormat, width);
  if (declared.stride !== undefined && declared.stride !== stride)
    return `the manifest says rows of ${declared.stride} bytes, but ${width} pixels of ${pixelFormat} take ${stride}`;
  const expected = stride * height;
  if (byteLength !== expected)
    return `${width}x${height} pixels of ${pixelFormat} take ${expected} bytes, but the file has ${byteLength}`;
  return undefined;
}
