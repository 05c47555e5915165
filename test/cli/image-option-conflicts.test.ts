import { describe, expect, it } from 'vitest';
import { imageOptionProblem } from '../../src/cli/options/image-options.js';

const box = { width: 320, height: 240 };

describe('imageOptionProblem: options that would be silently ignored are refused', () => {
  it.each([
    [
      { format: 'original', resize: box, quality: 10 },
      /--format original .* --resize, --quality would be ignored/,
    ],
    [{ format: 'original', maxSize: box }, /--max-size would be ignored/],
    [{ resize: box, maxSize: box }, /--resize and --max-size are two ways of sizing/],
    [{ fit: 'contain' }, /--fit says how --resize fits/],
    [{ format: 'png', quality: 50 }, /--quality applies to JPEG, WebP and AVIF, not to --format png/],
    [{ format: 'mono1', quality: 50 }, /not to --format mono1/],
    [{ format: 'webp', progressive: true }, /--progressive applies to JPEG/],
    [{ format: 'png', optimize: true }, /--optimize applies to JPEG, not to --format png/],
    [{ format: 'original', optimize: true }, /--optimize would be ignored/],
    [{ format: 'png', byteOrder: 'be' }, /--byte-order applies to --format rgb565 only, not to png/],
    [{ byteOrder: 'le' }, /not to auto/],
    [{ format: 'gray8', keepMetadata: true }, /raw pixels .* carry no metadata/],
  ] as const)('%o', (flags, message) => {
    expect(imageOptionProblem(flags)).toMatch(message);
  });

  it.each([
    [{}],
    [{ format: 'auto', quality: 70, maxSize: box }],
    [{ format: 'jpeg', quality: 70, progressive: true, resize: box, fit: 'contain', background: 'white' }],
    [{ format: 'rgb565', byteOrder: 'be', resize: box }],
    [{ format: 'original', keepMetadata: true }],
    [{ format: 'jpeg', optimize: true }],
  ] as const)('accepts %o', (flags) => {
    expect(imageOptionProblem(flags)).toBeUndefined();
  });
});
