import { describe, expect, it } from 'vitest';
import { packPixels, strideFor } from '../../src/image/pixel-formats.js';

// A 3x2 image with known pixels, row by row: red, green, blue / white, black, mid grey (0x80).
const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 128, 128, 128]);

describe('raw pixel formats, byte for byte against hand-computed references', () => {
  it('rgb888 is the pixels themselves', () => {
    expect([...packPixels(rgb, 3, 2, 'rgb888')]).toEqual([...rgb]);
  });

  it('rgb565le and rgb565be', () => {
    // red F800, green 07E0, blue 001F, white FFFF, black 0000, grey 0x80>>3=16, 0x80>>2=32: 1000 0100 0001 0000 = 8410
    const values = [0xf800, 0x07e0, 0x001f, 0xffff, 0x0000, 0x8410];
    expect([...packPixels(rgb, 3, 2, 'rgb565le')]).toEqual(values.flatMap((v) => [v & 0xff, v >> 8]));
    expect([...packPixels(rgb, 3, 2, 'rgb565be')]).toEqual(values.flatMap((v) => [v >> 8, v & 0xff]));
  });

  it('gray8 is BT.601 luma', () => {
    // red 0.299*255=76.2, green 149.7, blue 29.1, white 255, black 0, grey 128
    expect([...packPixels(rgb, 3, 2, 'gray8')]).toEqual([76, 150, 29, 255, 0, 128]);
  });

  it('gray4 packs two pixels a byte, left pixel high; exact levels are not dithered', () => {
    // Levels 0, 17, 34 ... 255 are exact in 4 bits: 0x00, 0x11 ... 0xff grey.
    const levels = [0, 5, 15, 10, 3];
    const grey = Uint8Array.from(levels.flatMap((l) => [l * 17, l * 17, l * 17]));
    expect(strideFor('gray4', 5)).toBe(3);
    expect([...packPixels(grey, 5, 1, 'gray4')]).toEqual([0x05, 0xfa, 0x30]);
  });

  it('mono1 packs eight pixels a byte, most significant bit first, 1 = white, rows padded', () => {
    // Row 1: W B W W B B B W  W (9 pixels: 2 bytes); row 2: all black.
    const row1 = [1, 0, 1, 1, 0, 0, 0, 1, 1];
    const pixels = Uint8Array.from(
      [...row1, 0, 0, 0, 0, 0, 0, 0, 0, 0].flatMap((w) => [w * 255, w * 255, w * 255]),
    );
    expect(strideFor('mono1', 9)).toBe(2);
    expect([...packPixels(pixels, 9, 2, 'mono1')]).toEqual([0b10110001, 0b10000000, 0x00, 0x00]);
  });

  it('dithers a flat mid grey to about half white pixels in mono1, and keeps its mean level in gray4', () => {
    const side = 64;
    const grey = new Uint8Array(side * side * 3).fill(128);
    const mono = packPixels(grey, side, side, 'mono1');
    const white = [...mono].reduce((n, byte) => n + byte.toString(2).split('1').length - 1, 0);
    expect(white / (side * side)).toBeGreaterThan(0.45);
    expect(white / (side * side)).toBeLessThan(0.55);
    const g4 = packPixels(grey, side, side, 'gray4');
    const mean = [...g4].reduce((sum, b) => sum + (b >> 4) + (b & 15), 0) / (side * side);
    expect(mean * 17).toBeGreaterThan(125);
    expect(mean * 17).toBeLessThan(131);
  });
});
