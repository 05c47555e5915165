import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { looksComplete } from '../../src/image/complete-image.js';
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
