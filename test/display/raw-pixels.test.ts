import { describe, expect, it } from 'vitest';
import { rawToRgba } from '../../src/display/raw-pixels.js';
import { packPixels, strideFor } from '../../src/image/pixel-formats.js';
import { reconnectDelayMs } from '../../src/transport/browser-transport.js';

/** 3x2 RGB: red, green, blue / white, black, (200,100,50). */
const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 200, 100, 50]);
const pixel = (rgba: Uint8ClampedArray, p: number) => Array.from(rgba.subarray(p * 4, p * 4 + 4));

describe('rawToRgba: the page draws raw pixel formats on a canvas', () => {
  it('widens rgb565 in both byte orders to the same 8-bit colours', () => {
    for (const format of ['rgb565le', 'rgb565be'] as const) {
      const rgba = rawToRgba(packPixels(rgb, 3, 2, format), format, 3, 2, strideFor(format, 3));
      expect(pixel(rgba, 0)).toEqual([255, 0, 0, 255]);
      expect(pixel(rgba, 1)).toEqual([0, 255, 0, 255]);
      expect(pixel(rgba, 2)).toEqual([0, 0, 255, 255]);
      expect(pixel(rgba, 3)).toEqual([255, 255, 255, 255]);
      expect(pixel(rgba, 4)).toEqual([0, 0, 0, 255]);
      // 200 -> 25 (5 bits) -> 206; 100 -> 25 (6 bits) -> 101; 50 -> 6 -> 49
      expect(pixel(rgba, 5)).toEqual([206, 101, 49, 255]);
    }
  });

  it('rgb888 is copied, gray8 spread to three channels', () => {
    expect(Array.from(rawToRgba(rgb, 'rgb888', 3, 2, 9).subarray(20, 24))).toEqual([200, 100, 50, 255]);
    const gray = packPixels(rgb, 3, 2, 'gray8');
    const rgba = rawToRgba(gray, 'gray8', 3, 2, 3);
    expect(pixel(rgba, 0)).toEqual([76, 76, 76, 255]); // round(0.299 * 255)
    expect(pixel(rgba, 3)).toEqual([255, 255, 255, 255]);
  });

  it('reads gray4 high nibble first and mono1 most significant bit first, with padded rows', () => {
    // 3 pixels per row: gray4 stride 2 (one nibble of padding), mono1 stride 1.
    const gray4 = Uint8Array.from([0xf0, 0x80, 0x01, 0x20]);
    const g = rawToRgba(gray4, 'gray4', 3, 2, 2);
    expect([0, 1, 2, 3, 4, 5].map((p) => g[p * 4])).toEqual([255, 0, 136, 0, 17, 34]);
    const mono = Uint8Array.from([0b1010_0000, 0b0110_0000]);
    const m = rawToRgba(mono, 'mono1', 3, 2, 1);
    expect([0, 1, 2, 3, 4, 5].map((p) => m[p * 4])).toEqual([255, 0, 255, 0, 255, 255]);
  });

  it('refuses too few bytes with a message that says how many were needed', () => {
    expect(() => rawToRgba(new Uint8Array(5), 'rgb565le', 3, 2, 6)).toThrow(/needs 12 bytes, got 5/);
  });
});

describe('reconnectDelayMs: the page backs off while the broker is away', () => {
  it('doubles from 0.5 s to at most 30 s, jitter taking off at most a quarter', () => {
    expect([0, 1, 2, 3].map((a) => reconnectDelayMs(a, 0))).toEqual([500, 1000, 2000, 4000]);
    expect(reconnectDelayMs(20, 0)).toBe(30_000);
    expect(reconnectDelayMs(0, 1)).toBe(375);
  });
});
