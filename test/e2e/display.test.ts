import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { pageCount } from '../../src/protocol/manifest/chunk-hashes.js';
import { MQIMG_BIN, runCli, SAMPLES, startReceiver } from '../helpers/cli.js';
import { jsonLines, tempDir as makeTempDir } from '../helpers/files.js';
import { mosquittoRequired, useMosquitto } from '../helpers/mosquitto.js';
import { capture } from '../helpers/mqtt-capture.js';
import { transfer } from '../helpers/transfer.js';

/** The sample test card (640x480 JPEG). */
const CARD = join(SAMPLES, 'test-card.jpg');
/** A URL where nothing listens: a command that exits 2 there refused its input before connecting. */
const nowhere = 'mqtt://127.0.0.1:1';

const tempDir = () => makeTempDir('mqimg-display-');

/** JPEG start-of-frame markers: SOF0 baseline, SOF2 progressive. */
const hasMarker = (jpeg: Buffer, second: number) => {
  for (let i = 2; i + 1 < jpeg.length; i++) if (jpeg[i] === 0xff && jpeg[i + 1] === second) return true;
  return false;
};

describe.skipIf(!mosquittoRequired())('display-ready output, end to end through Mosquitto', () => {
  const broker = useMosquitto();

  /** Sends `args` (files and options, with --topic) to a `--json` receiver on that topic; both must exit 0. */
  async function display(args: string[], env: Record<string, string> = {}) {
    const topic = args[args.indexOf('--topic') + 1] ?? '#';
    const { tx, rx, completed, sent } = await transfer({
      rx: ['--json', '--topic', topic],
      tx: [...args, '--json'],
      url: broker.url,
      env,
    });
    expect(tx.code, tx.stderr).toBe(0);
    expect(rx.code, rx.stderr).toBe(0);
    return { completed, delivered: sent[0] ?? {}, bytes: readFileSync(String(completed.path)) };
  }

  it('sends rgb565 big-endian pixels that match a hand-computed reference byte for byte', async () => {
    // 4x2 PNG: red, green, blue, white / black, (8,4,8), (255,255,0), (0,0,0).
    const pixels = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 8, 4, 8, 255, 255, 0, 0, 0, 0];
    const png = join(tempDir(), 'pixels.png');
    writeFileSync(
      png,
      await sharp(Buffer.from(pixels), { raw: { width: 4, height: 2, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const { completed, bytes } = await display([
      png,
      '--topic',
      'tft/1',
      '--format',
      'rgb565',
      '--byte-order',
      'be',
    ]);
    const expected = [0xf800, 0x07e0, 0x001f, 0xffff, 0x0000, 0x0821, 0xffe0, 0x0000].flatMap((v) => [
      v >> 8,
      v & 0xff,
    ]);
    expect([...bytes]).toEqual(expected);
    expect(completed).toMatchObject({
      pixelFormat: 'rgb565be',
      stride: 8,
      width: 4,
      height: 2,
      name: 'pixels.rgb565be',
    });
    expect(String(completed.path).endsWith('pixels.rgb565be')).toBe(true);
  });

  it('makes baseline JPEG by default (SOF0) and progressive only with --progressive (SOF2)', async () => {
    const baseline = await display([
      join(SAMPLES, 'landscape.jpg'),
      '--topic',
      'tft/2',
      '--resize',
      '320x240',
    ]);
    expect(hasMarker(baseline.bytes, 0xc0)).toBe(true);
    expect(hasMarker(baseline.bytes, 0xc2)).toBe(false);
    expect(baseline.completed).toMatchObject({ width: 320, height: 240 });
    const progressive = await display([
      join(SAMPLES, 'landscape.jpg'),
      '--topic',
      'tft/3',
      '--resize',
      '320x240',
      '--progressive',
    ]);
    expect(hasMarker(progressive.bytes, 0xc2)).toBe(true);
  });

  it('--optimize makes a smaller JPEG of the same pixels (optimised Huffman tables; off by default)', async () => {
    const args = [join(SAMPLES, 'landscape.jpg'), '--resize', '320x240'];
    const plain = await display([...args, '--topic', 'tft/4']);
    const optimized = await display([...args, '--topic', 'tft/5', '--optimize']);
    expect(optimized.bytes.length).toBeLessThan(plain.bytes.length);
    expect(hasMarker(optimized.bytes, 0xc0)).toBe(true);
    const pixels = (bytes: Buffer) => sharp(bytes).raw().toBuffer();
    expect((await pixels(optimized.bytes)).equals(await pixels(plain.bytes))).toBe(true);
  });

  it('the e-paper profile gives 296x128 mono1, 37 bytes a row, in 1 KiB chunks', async () => {
    const { completed, delivered, bytes } = await display([
      CARD,
      '--topic',
      'epaper/1',
      '--profile',
      'epaper-296x128',
    ]);
    expect(completed).toMatchObject({ pixelFormat: 'mono1', width: 296, height: 128, stride: 37 });
    expect(bytes.length).toBe(37 * 128);
    expect(delivered.chunkBytes).toBe(1024);
    // Letterboxed on white: the 640x480 card becomes 171x128 centred, so the left columns are white (bits set).
    expect(bytes[0]).toBe(0xff);
  });

  it('explicit options win over a profile, and user profiles come from $MQIMG_PROFILES', async () => {
    const file = join(tempDir(), 'profiles.json');
    writeFileSync(file, JSON.stringify({ kitchen: { resize: '64x32', format: 'gray8', fit: 'fill' } }));
    const { completed, bytes } = await display(
      [CARD, '--topic', 'kitchen/1', '--profile', 'kitchen', '--resize', '16x8'],
      {
        MQIMG_PROFILES: file,
      },
    );
    expect(completed).toMatchObject({ pixelFormat: 'gray8', width: 16, height: 8, stride: 16 });
    expect(bytes.length).toBe(128);
  });

  it('--retain leaves the image for a display that connects later, and a newer one clears the older chunks', async () => {
    const first = await runCli([
      'send',
      CARD,
      '--topic',
      'sleepy/1',
      '--retain',
      '--chunk-size',
      '4K',
      '--json',
      '--url',
      broker.url,
    ]);
    expect(first.code, first.stderr).toBe(0);
    // The sender is gone; a display wakes up and gets the image from the broker alone.
    const out = makeTempDir('mqimg-retain-');
    const late = await runCli([
      'receive',
      '--out',
      out,
      '--once',
      '--json',
      '--timeout',
      '5',
      '--url',
      broker.url,
    ]);
    expect(late.code, late.stderr).toBe(0);
    const saved = jsonLines(late.stdout).find((e) => e.event === 'completed');
    expect(readFileSync(String(saved?.path)).length).toBe(Number(jsonLines(first.stdout)[0]?.size));
    // A newer image replaces it: only its messages stay retained.
    const second = await runCli([
      'send',
      join(SAMPLES, 'badge-alpha.png'),
      '--topic',
      'sleepy/1',
      '--retain',
      '--json',
      '--url',
      broker.url,
    ]);
    expect(second.code, second.stderr).toBe(0);
    const newer = jsonLines(second.stdout)[0] ?? {};
    const left = (await capture(broker.url, 'sleepy/1/mqimg', async () => {})).filter(
      (m) => m.retain && m.payload.length > 0,
    );
    // Exactly the newer transfer's manifest, hash pages and chunks stay retained: nothing of the older one.
    const prefix = `sleepy/1/mqimg/${String(newer.id)}`;
    const pages = pageCount(Number(newer.chunks), Number(newer.chunkBytes));
    expect(pages).toBeGreaterThan(0);
    const copyTopic = 'sleepy/1/mqimg/retained';
    const transferTopics = left.map((m) => m.topic).filter((t) => t !== copyTopic);
    expect(transferTopics.sort()).toEqual(
      [
        `${prefix}/m`,
        ...Array.from({ length: pages }, (_, j) => `${prefix}/h/${j}`),
        ...Array.from({ length: Number(newer.chunks) }, (_, i) => `${prefix}/c/${i}`),
      ].sort(),
    );
    // The copy of the manifest on the exact topic T/mqimg/retained (for brokers that deliver retained messages
    // only to exact-topic subscriptions), where there is one, is the newer one's.
    for (const m of left.filter((m) => m.topic === copyTopic))
      expect(JSON.parse(m.payload.toString()).id).toBe(newer.id);
  });

  it('--republish publishes each saved file whole and retained, for Home Assistant', async () => {
    const { tx, rx, out, completed } = await transfer({
      rx: ['--json', '--topic', 'door/+', '--republish', 'ha/{topic}/image'],
      tx: [CARD, '--topic', 'door/1'],
      url: broker.url,
    });
    expect(tx.code, tx.stderr).toBe(0);
    expect(rx.code, rx.stderr).toBe(0);
    expect(completed.republished).toBe('ha/door/1/image');
    // A Home Assistant-like client that subscribes afterwards gets the whole file as one retained message.
    const ha = await mqtt.connectAsync(broker.url);
    const image = new Promise<Buffer>((resolve) => ha.on('message', (_topic, payload) => resolve(payload)));
    await ha.subscribeAsync('ha/door/1/image', { qos: 1 });
    expect((await image).equals(readFileSync(String(completed.path)))).toBe(true);
    await ha.endAsync();
    const bad = await runCli(['receive', '--out', out, '--republish', 'ha/#', '--url', broker.url]);
    expect(bad.code).toBe(2);
  });

  it('reads the image from standard input with -', async () => {
    // --topic: the broker still holds the retained image of the test above.
    const topic = ['--topic', 'pipe/1', '--url', broker.url];
    const rx = await startReceiver(['--out', tempDir(), '--once', '--json', ...topic]);
    const tx = spawnSync(process.execPath, [MQIMG_BIN, 'send', '-', ...topic], {
      input: readFileSync(CARD),
      encoding: 'utf8',
    });
    expect(tx.status, tx.stderr).toBe(0);
    const received = await rx.done;
    expect(jsonLines(received.stdout).find((e) => e.event === 'completed')).toMatchObject({
      name: 'stdin.jpg',
      width: 640,
      height: 480,
    });
  });

  it('refuses an unknown profile with exit 2 and lists the known ones', async () => {
    const result = await runCli(['send', CARD, '--topic', 'a', '--profile', 'nope', '--url', nowhere]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /unknown --profile "nope"; known profiles: .*epaper-296x128.*ili9341-rgb565/,
    );
  });
});
