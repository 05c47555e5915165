import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readImageHeader } from '../../src/image/image-header.js';
import { prepareImage } from '../../src/image/prepare-image.js';
import { SHARP_FORMAT_TO_TYPE } from '../../src/image/sharp-formats.js';
import { SAMPLES } from '../helpers/cli.js';
import { FIXTURE_IMAGES } from '../helpers/files.js';

/** What sharp's `metadata()` says of `bytes`: the reference the header reader must agree with. */
async function sharpSays(bytes: Buffer) {
  const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  return { type: SHARP_FORMAT_TO_TYPE[meta.format ?? ''], width: meta.width, height: meta.height };
}

const create = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background: { r: 30, g: 60, b: 90, alpha: 0.5 } } });

/** Images in every variant the reader handles, made by sharp (so that they are what a real encoder writes). */
async function encoded(): Promise<[string, Buffer][]> {
  return [
    ['baseline JPEG', await create(33, 17).jpeg().toBuffer()],
    ['progressive JPEG', await create(17, 33).jpeg({ progressive: true }).toBuffer()],
    ['JPEG with EXIF orientation 6', await create(40, 20).withMetadata({ orientation: 6 }).jpeg().toBuffer()],
    ['PNG with alpha', await create(301, 7, 4).png().toBuffer()],
    ['GIF', await create(65, 300).gif().toBuffer()],
    ['lossy WebP (VP8)', await create(999, 3).webp().toBuffer()],
    ['lossless WebP (VP8L)', await create(16_383, 2).webp({ lossless: true }).toBuffer()],
    ['WebP with alpha (VP8X)', await create(20, 21, 4).webp().toBuffer()],
    ['little-endian TIFF', await create(70, 30).tiff().toBuffer()],
    ['big-endian TIFF (LONG sizes)', bigEndianTiff(70_000, 2)],
  ];
}

/** A minimal big-endian TIFF header whose sizes are LONGs (sharp writes little-endian SHORTs). */
function bigEndianTiff(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(8 + 2 + 2 * 12 + 4);
  bytes.write('MM', 0, 'latin1');
  bytes.writeUInt16BE(42, 2);
  bytes.writeUInt32BE(8, 4);
  bytes.writeUInt16BE(2, 8);
  for (const [i, [tag, value]] of [
    [256, width],
    [257, height],
  ].entries()) {
    const entry = 10 + i * 12;
    bytes.writeUInt16BE(tag ?? 0, entry);
    bytes.writeUInt16BE(4, entry + 2);
    bytes.writeUInt32BE(1, entry + 4);
    bytes.writeUInt32BE(value ?? 0, entry + 8);
  }
  return bytes;
}

describe('readImageHeader (send --format original, without sharp)', () => {
  it('says what sharp says of every sample and fixture it reads', async () => {
    const files = [
      ...readdirSync(SAMPLES).map((f) => join(SAMPLES, f)),
      ...readdirSync(FIXTURE_IMAGES).map((f) => join(FIXTURE_IMAGES, f)),
    ].filter((f) => /\.(jpe?g|png|gif|webp|tiff?)$/i.test(f));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const file of files) {
      const bytes = readFileSync(file);
      expect({ file, ...readImageHeader(bytes) }).toEqual({ file, ...(await sharpSays(bytes)) });
    }
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])('says what sharp says of encoded image %i', async (i) => {
    const [label, bytes] = (await encoded())[i] ?? ['', Buffer.alloc(0)];
    const header = readImageHeader(bytes);
    expect(header, label).toBeDefined();
    if (label.startsWith('big-endian'))
      expect(header).toEqual({ type: 'image/tiff', width: 70_000, height: 2 });
    else expect({ label, ...header }).toEqual({ label, ...(await sharpSays(bytes)) });
  });

  it('reads the size of a JPEG whose pixel data is cut off, as sharp reads its header', async () => {
    const truncated = readFileSync(join(FIXTURE_IMAGES, 'truncated.jpg'));
    expect(readImageHeader(truncated)).toEqual(await sharpSays(truncated));
  });

  it('leaves to the decoder what the header does not say plainly', async () => {
    const jpeg = await create(33, 17).jpeg().toBuffer();
    const png = await create(10, 10).png().toBuffer();
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    const zeroHeight = Buffer.from(jpeg);
    zeroHeight.writeUInt16BE(0, sof + 5); // a height given later by a DNL marker
    const notAMarker = Buffer.from(jpeg);
    notAMarker[sof] = 0x00;
    const cases: [string, Buffer][] = [
      ['an empty file', Buffer.alloc(0)],
      ['text', Buffer.from('not an image at all, but long enough to look at its header')],
      ['a JPEG cut before its frame header', jpeg.subarray(0, sof + 4)],
      ['a JPEG whose frame header declares height 0', zeroHeight],
      ['a JPEG with garbage where a marker must be', notAMarker],
      ['a PNG cut inside IHDR', png.subarray(0, 20)],
      ['an SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')],
      ['a TIFF whose first directory is beyond the end', bigEndianTiff(5, 5).subarray(0, 12)],
    ];
    for (const [label, bytes] of cases) expect(readImageHeader(bytes), label).toBeUndefined();
  });
});

describe('prepareImage --format original', () => {
  it('takes the type and size from the header and the bytes untouched', async () => {
    const bytes = readFileSync(join(SAMPLES, 'sideways-exif6.jpg'));
    const prepared = await prepareImage(bytes, 'dir/sideways-exif6.jpg', { format: 'original' });
    expect(prepared.bytes).toBe(bytes);
    const { type, width, height } = await sharpSays(bytes);
    expect(prepared).toMatchObject({ name: 'sideways-exif6.jpg', mediaType: type, width, height });
  });

  it('still refuses a decompression bomb by its header, and asks sharp about formats the reader leaves', async () => {
    const bomb = Buffer.from(bigEndianTiff(60_000, 60_000));
    await expect(prepareImage(bomb, 'bomb.tiff', { format: 'original' })).rejects.toMatchObject({
      code: 'input_too_many_pixels',
      message: expect.stringMatching(/60000x60000 pixels, more than the limit of 100000000/),
    });
    const avif = await create(12, 8).avif().toBuffer();
    await expect(prepareImage(avif, 'a.avif', { format: 'original' })).resolves.toMatchObject({
      mediaType: 'image/avif',
      width: 12,
      height: 8,
    });
    await expect(
      prepareImage(Buffer.from('plain text, no image'), 'notes.txt', { format: 'original' }),
    ).rejects.toMatchObject({ code: 'input_not_image' });
  });
});
