import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { looksComplete, provablyComplete } from '../../src/image/complete-image.js';
import { SAMPLES } from '../helpers/cli.js';

const image = (format: 'png' | 'gif' | 'webp') =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } })
    .toFormat(format)
    .toBuffer();

describe('looksComplete (send --watch waits for a file still being written)', () => {
  it('takes whole JPEG, PNG, GIF and WebP files as complete, and any cut of them as not', async () => {
    const files = [
      readFileSync(`${SAMPLES}/test-card.jpg`),
      await image('png'),
      await image('gif'),
      await image('webp'),
    ];
    for (const bytes of files) {
      expect(looksComplete(bytes)).toBe(true);
      for (const cut of [0.3, 0.7, 0.99])
        expect(looksComplete(bytes.subarray(0, Math.floor(bytes.length * cut)))).toBe(false);
    }
  });

  it('accepts zero padding after a JPEG end marker, and formats without an end marker as they are', () => {
    const jpeg = readFileSync(`${SAMPLES}/test-card.jpg`);
    expect(looksComplete(Buffer.concat([jpeg, Buffer.alloc(16)]))).toBe(true);
    expect(looksComplete(Buffer.from('II*\0 a TIFF has no end marker'))).toBe(true);
  });
});

describe('provablyComplete (send --watch sends a whole image at its first look)', () => {
  it('takes whole JPEG, PNG and WebP files, never a cut of them, and never GIF or formats without an end marker', async () => {
    const jpeg = readFileSync(`${SAMPLES}/test-card.jpg`);
    const png = await image('png');
    const webp = await image('webp');
    for (const bytes of [jpeg, png, webp]) {
      expect(provablyComplete(bytes)).toBe(true);
      for (const cut of [0.3, 0.7, 0.99])
        expect(provablyComplete(bytes.subarray(0, Math.floor(bytes.length * cut)))).toBe(false);
    }
    expect(provablyComplete(await image('gif'))).toBe(false);
    expect(provablyComplete(Buffer.from('II*\0 a TIFF has no end marker'))).toBe(false);
  });

  it('does not take a JPEG cut right after the end marker of its EXIF thumbnail for a whole one', async () => {
    const thumbnail = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } })
      .jpeg()
      .toBuffer();
    // SOI, then an APP1 segment whose payload ends with a whole JPEG (as an EXIF thumbnail does).
    const payload = Buffer.concat([Buffer.from('Exif\0\0'), thumbnail]);
    const app1 = Buffer.alloc(4);
    app1.writeUInt16BE(0xffe1, 0);
    app1.writeUInt16BE(payload.length + 2, 2);
    const cut = Buffer.concat([Buffer.from([0xff, 0xd8]), app1, payload]);
    expect(looksComplete(cut)).toBe(true); // ends with FF D9: the old check alone would send it
    expect(provablyComplete(cut)).toBe(false);
    const whole = Buffer.concat([cut, readFileSync(`${SAMPLES}/test-card.jpg`).subarray(2)]);
    expect(provablyComplete(whole)).toBe(true);
  });
});
