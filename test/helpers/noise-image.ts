import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/**
 * Writes a PNG of `side` x `side` random RGB pixels, stored uncompressed (about 3 * side^2 bytes that no
 * compression shrinks), and returns its path. Deterministic for a given seed.
 */
export async function writeNoisePng(side: number, seed = 88172645): Promise<string> {
  const pixels = Buffer.alloc(side * side * 3);
  let x = seed;
  for (let i = 0; i < pixels.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pixels[i] = x & 0xff;
  }
  const path = join(mkdtempSync(join(tmpdir(), 'mqimg-noise-')), `noise-${side}.png`);
  writeFileSync(
    path,
    await sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer(),
  );
  return path;
}
