// Makes the small images in test/fixtures/images/ from code, so that the tests that need a damaged JPEG, a HEIC,
// GPS metadata or EXIF orientation 6 run in any clone (CC0, see test/fixtures/images/NOTICE.md).
// Run: node scripts/make-fixtures.mjs. Needs sharp (a dependency) and, for the HEIC, heif-enc with its x265 encoder
// (Debian: apt-get install libheif-examples); the files are committed, so the tests need neither.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

const out = new URL('../test/fixtures/images/', import.meta.url).pathname;

/** A photo-like field of colour (sums of sines), `width` x `height` RGB. */
function photoPixels(width, height) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const wave = Math.sin(x / 9) * Math.cos(y / 7) * 40 + Math.sin((x + y) / 5) * 12;
      data[i] = 110 + wave + (y / height) * 80;
      data[i + 1] = 120 + wave - (x / width) * 60;
      data[i + 2] = 150 - wave;
    }
  }
  return data;
}
const photo = (width, height) => sharp(photoPixels(width, height), { raw: { width, height, channels: 3 } });

// truncated.jpg: a 1200x900 JPEG cut off in the middle of its entropy-coded data, as a camera leaves a file when
// its card is pulled. sharp's header read succeeds; decoding fails.
const whole = await photo(1200, 900).jpeg({ quality: 80 }).toBuffer();
writeFileSync(join(out, 'truncated.jpg'), whole.subarray(0, Math.floor(whole.length / 2)));

// gps.jpg: 320x240 with EXIF like a camera's: make, model and a GPS IFD (tag 0x8825 in IFD0) with a position.
await photo(320, 240)
  .jpeg({ quality: 80 })
  .withExif({
    IFD0: { Make: 'mqimg', Model: 'fixture camera' },
    IFD3: {
      GPSLatitudeRef: 'N',
      GPSLatitude: '60/1 10/1 1234/100',
      GPSLongitudeRef: 'E',
      GPSLongitude: '24/1 56/1 5678/100',
    },
  })
  .toFile(join(out, 'gps.jpg'));

// orientation-6.jpg: stored 240x360 (portrait) with EXIF orientation 6, "rotate 90 degrees clockwise to view":
// upright it is 360x240. The stored top-left quarter is red, the rest blue: upright, the red is top-right.
const [w, h] = [240, 360];
const stored = Buffer.alloc(w * h * 3);
for (let y = 0; y < h; y++)
  for (let x = 0; x < w; x++)
    stored.set(x < w / 2 && y < h / 2 ? [220, 20, 20] : [20, 20, 220], (y * w + x) * 3);
await sharp(stored, { raw: { width: w, height: h, channels: 3 } })
  .jpeg({ quality: 90 })
  .withMetadata({ orientation: 6 })
  .toFile(join(out, 'orientation-6.jpg'));

// photo.heic: 320x240 HEVC-coded HEIF, as an iPhone saves (brand 'heic'), encoded by libheif's x265 plugin.
const work = mkdtempSync(join(tmpdir(), 'mqimg-fixtures-'));
try {
  const png = join(work, 'photo.png');
  await photo(320, 240).png().toFile(png);
  execFileSync('heif-enc', ['--quality', '50', '--no-thumb-alpha', png, '-o', join(out, 'photo.heic')], {
    stdio: 'inherit',
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
