import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { packPixels, rawPixelsProblem, strideFor } from '../../src/image/pixel-formats.js';
import { imageProblem } from '../../src/image/verify-image.js';
import { PIXEL_FORMATS } from '../../src/protocol/wire/constants.js';

const dir = mkdtempSync(join(tmpdir(), 'mqimg-verify-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('rawPixelsProblem', () => {
  it('accepts stride * height bytes with the stride the format takes', () => {
    // 13 pixels: mono1 rows pad to 2 bytes, gray4 rows to 7.
    expect(
      rawPixelsProblem(2 * 5, { pixelFormat: 'mono1', width: 13, height: 5, stride: 2 }),
    ).toBeUndefined();
    expect(rawPixelsProblem(7 * 5, { pixelFormat: 'gray4', width: 13, height: 5 })).toBeUndefined();
  });

  it('says what is wrong with a short file or a wrong stride', () => {
    expect(rawPixelsProblem(99, { pixelFormat: 'rgb565le', width: 10, height: 5, stride: 20 })).toBe(
      '10x5 pixels of rgb565le take 100 bytes, but the file has 99',
    );
    expect(rawPixelsProblem(150, { pixelFormat: 'rgb888', width: 10, height: 5, stride: 31 })).toBe(
      'the manifest says rows of 31 bytes, but 10 pixels of rgb888 take 30',
    );
  });
});

describe('imageProblem (receive --verify-image)', () => {
  it.each(PIXEL_FORMATS)('accepts raw %s pixels that sharp cannot decode', async (pixelFormat) => {
    const [width, height] = [13, 5];
    const bytes = packPixels(new Uint8Array(width * height * 3).fill(200), width, height, pixelFormat);
    const path = file(`ok.${pixelFormat}`, bytes);
    const stride = strideFor(pixelFormat, width);
    const declared = { type: 'application/octet-stream', width, height, pixelFormat, stride };
    expect(await imageProblem(path, declared)).toBeUndefined();
    const short = file(`short.${pixelFormat}`, bytes.subarray(1));
    expect(await imageProblem(short, declared)).toMatch(/take \d+ bytes, but the file has \d+/);
  });

  it('decodes an image file and checks its declared type', async () => {
    const png = await sharp({ create: { width: 4, height: 3, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
    const path = file('red.png', png);
    expect(await imageProblem(path, { type: 'image/png', width: 4, height: 3 })).toBeUndefined();
    expect(await imageProblem(path, { type: 'image/jpeg', width: 4, height: 3 })).toBe(
      'the manifest says image/jpeg but the bytes are image/png',
    );
    const garbage = file('garbage.png', Buffer.from('not an image at all'));
    expect(await imageProblem(garbage, { type: 'image/png', width: 4, height: 3 })).toMatch(
      /^the bytes do not decode as image\/png/,
    );
  });
});
