// Makes the images in samples/ from code, so that the project owns them outright (CC0, see samples/LICENSE.md).
// Run: node scripts/make-samples.mjs. Deterministic: the same sharp version gives the same bytes.
import sharp from 'sharp';

const out = new URL('../samples/', import.meta.url);

/** SMPTE-like colour bars with circles: a test card for displays. */
function testCardSvg(width, height) {
  const colours = ['#c0c0c0', '#c0c000', '#00c0c0', '#00c000', '#c000c0', '#c00000', '#0000c0'];
  const barWidth = width / colours.length;
  const bars = colours.map(
    (c, i) =>
      `<rect x="${i * barWidth}" y="0" width="${barWidth + 1}" height="${height * 0.7}" fill="${c}"/>`,
  );
  const ramp = `<defs><linearGradient id="g"><stop offset="0" stop-color="#000"/><stop offset="1" stop-color="#fff"/></linearGradient></defs>
    <rect x="0" y="${height * 0.7}" width="${width}" height="${height * 0.3}" fill="url(#g)"/>`;
  const circle = `<circle cx="${width / 2}" cy="${height / 2}" r="${height * 0.3}" fill="none" stroke="#fff" stroke-width="6"/>`;
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${bars.join('')}${ramp}${circle}</svg>`,
  );
}

/** A smooth, photo-like field of colour (sums of sines), large enough to need many chunks. */
function landscapePixels(width, height) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const sky = y < height * 0.55;
      const wave = Math.sin(x / 37) * Math.cos(y / 23) * 20 + Math.sin((x + y) / 11) * 6;
      data[i] = sky ? 90 + (y / height) * 120 + wave : 40 + wave + (x % 7);
      data[i + 1] = sky ? 140 + (y / height) * 80 + wave : 110 + wave + ((x * y) % 13);
      data[i + 2] = sky ? 230 - (y / height) * 40 : 50 + wave;
    }
  }
  return data;
}

await sharp(testCardSvg(640, 480)).jpeg({ quality: 85 }).toFile(new URL('test-card.jpg', out).pathname);
await sharp(landscapePixels(1600, 1200), { raw: { width: 1600, height: 1200, channels: 3 } })
  .jpeg({ quality: 90 })
  .toFile(new URL('landscape.jpg', out).pathname);
// Stored sideways (1200x1600) with EXIF orientation 6: upright it is the 1600x1200 landscape again.
await sharp(landscapePixels(1600, 1200), { raw: { width: 1600, height: 1200, channels: 3 } })
  .rotate(-90)
  .jpeg({ quality: 80 })
  .withMetadata({ orientation: 6 })
  .toFile(new URL('sideways-exif6.jpg', out).pathname);
await sharp({ create: { width: 320, height: 240, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
  .composite([{ input: testCardSvg(200, 150), left: 60, top: 45 }])
  .png()
  .toFile(new URL('badge-alpha.png', out).pathname);
console.log('samples written');
