import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readImageHeader } from '../../src/image/image-header.js';
import { prepareImage } from '../../src/image/prepare-image.js';
import { FIXTURE_IMAGES } from '../helpers/files.js';

/** `--format original` sends any image (issue 23): HEIF/HEIC/AVIF and BMP sizes come from their headers. */

const box = (type: string, ...content: Buffer[]) => {
  const body = Buffer.concat(content);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};
const u32 = (...values: number[]) =>
  Buffer.concat(values.map((v) => Buffer.from([v >>> 24, v >>> 16, v >>> 8, v])));
const u16 = (v: number) => Buffer.from([v >>> 8, v & 0xff]);
const fullBox = (type: string, ...content: Buffer[]) => box(type, u32(0), ...content);
const ispe = (width: number, height: number) => fullBox('ispe', u32(width, height));

/**
 * A minimal HEIF, by hand: ftyp `heic`, and a meta box whose primary item (2) has the second `ispe` (4032x3024)
 * and whose first `ispe` (a 320x240 thumbnail, item 1) comes first: the reader must follow pitm and ipma.
 */
function handMadeHeic(): Buffer {
  const ftyp = box('ftyp', Buffer.from('heic'), u32(0), Buffer.from('mif1heic'));
  const pitm = fullBox('pitm', u16(2));
  const ipco = box('ipco', ispe(320, 240), ispe(4032, 3024));
  // ipma version 0, flags 0: entry count, then item id (16 bits), count, 7-bit indices (high bit: essential).
  const ipma = fullBox('ipma', u32(2), u16(1), Buffer.from([1, 0x81]), u16(2), Buffer.from([1, 0x82]));
  const meta = fullBox(
    'meta',
    fullBox('hdlr', u32(0), Buffer.from('pict'), u32(0, 0, 0), Buffer.from([0])),
    pitm,
    box('iprp', ipco, ipma),
  );
  return Buffer.concat([ftyp, meta, box('mdat', Buffer.alloc(16))]);
}

/** A BMP header: 'BM', file size, reserved, data offset, then a 40-byte BITMAPINFOHEADER (height < 0: top-down). */
function bmp(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(54 + 4);
  bytes.write('BM', 0, 'latin1');
  bytes.writeUInt32LE(bytes.length, 2);
  bytes.writeUInt32LE(54, 10);
  bytes.writeUInt32LE(40, 14);
  bytes.writeInt32LE(width, 18);
  bytes.writeInt32LE(height, 22);
  bytes.writeUInt16LE(1, 26);
  bytes.writeUInt16LE(24, 28);
  return bytes;
}

describe('image headers sharp cannot or need not read', () => {
  it('reads the HEIC fixture (an iPhone-like heic) as 320x240 image/heic', () => {
    expect(readImageHeader(readFileSync(join(FIXTURE_IMAGES, 'photo.heic')))).toEqual({
      type: 'image/heic',
      width: 320,
      height: 240,
    });
  });

  it("takes the primary item's ispe, not the first one (a thumbnail)", () => {
    expect(readImageHeader(handMadeHeic())).toEqual({ type: 'image/heic', width: 4032, height: 3024 });
  });

  it('reads AVIF as sharp does', async () => {
    for (const [width, height] of [
      [37, 21],
      [1, 300],
    ] as const) {
      const avif = await sharp({ create: { width, height, channels: 3, background: 'red' } })
        .avif()
        .toBuffer();
      const meta = await sharp(avif).metadata();
      expect(readImageHeader(avif)).toEqual({ type: 'image/avif', width: meta.width, height: meta.height });
    }
  });

  it('reads BMP, bottom-up and top-down', () => {
    expect(readImageHeader(bmp(640, 480))).toEqual({ type: 'image/bmp', width: 640, height: 480 });
    expect(readImageHeader(bmp(17, -5))).toEqual({ type: 'image/bmp', width: 17, height: 5 });
  });

  it('leaves a HEIF cut before its properties, or without ispe, to the decoder', () => {
    const heic = handMadeHeic();
    expect(readImageHeader(heic.subarray(0, 60))).toBeUndefined();
    const noIspe = Buffer.from(heic.toString('latin1').replaceAll('ispe', 'xxxx'), 'latin1');
    expect(readImageHeader(noIspe)).toBeUndefined();
  });

  it('prepareImage --format original sends a HEIC untouched without sharp decoding it; other formats refuse it', async () => {
    const heic = readFileSync(join(FIXTURE_IMAGES, 'photo.heic'));
    const prepared = await prepareImage(heic, 'IMG_5195.HEIC', { format: 'original' });
    expect(prepared).toMatchObject({
      name: 'IMG_5195.HEIC',
      mediaType: 'image/heic',
      width: 320,
      height: 240,
    });
    expect(prepared.bytes.equals(heic)).toBe(true);
    await expect(prepareImage(heic, 'IMG_5195.HEIC', { format: 'jpeg' })).rejects.toThrow(
      /HEIC.*convert it to JPEG first.*or send the file untouched with --format original/,
    );
  });

  it('refuses a background that is not a colour as a usage error, before any decoding', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
    await expect(
      prepareImage(png, 'a.png', { resize: { width: 2, height: 2 }, fit: 'contain', background: 'nocolour' }),
    ).rejects.toMatchObject({
      code: 'usage',
      exitCode: 2,
      message: expect.stringMatching(/"nocolour" is not a colour/),
    });
  });
});
