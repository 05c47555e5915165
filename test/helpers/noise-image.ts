import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from './random.js';

/**
 * Writes a PNG of `side` x `side` random RGB pixels, stored uncompressed (about 3 * side^2 bytes that no
 * compression shrinks), and returns its path. Deterministic for a given seed.
 */
export async function writeNoisePng(side: number, seed = 88172645): Promise<string> {
  const pixels = Buffer.alloc(side * side * 3);
  const random = seededRandom(seed);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  const path = join(mkdtempSync(join(tmpdir(), 'mqimg-noise-')), `noise-${side}.png`);
  writeFileSync(
    path,
    await sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer(),
  );
  return path;
}
