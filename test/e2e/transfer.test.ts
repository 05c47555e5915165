import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_START_TIMEOUT_MS, BROKERS, type TestBroker } from '../helpers/brokers.js';
import { runCli, SAMPLES, startCli, startReceiver } from '../helpers/cli.js';
import { jsonLines, sha256, tempDir, visibleFiles } from '../helpers/files.js';
import { sendAsIs, transfer } from '../helpers/transfer.js';

/** The sample test card (640x480 JPEG). */
const CARD = join(SAMPLES, 'test-card.jpg');

for (const { name, enabled, start } of BROKERS) {
  describe.skipIf(!enabled)(`send and receive through ${name}`, () => {
    let broker: TestBroker;
    beforeAll(async () => {
      broker = await start();
    }, BROKER_START_TIMEOUT_MS);
    afterAll(async () => {
      await broker?.stop();
    });

    it('delivers a JPEG whose SHA-256 is the one in the manifest, and both sides exit 0', async () => {
      const { tx, rx, out, delivered, completed } = await transfer({
        rx: ['--json'],
        tx: [join(SAMPLES, 'landscape.jpg'), '--topic', 'cam/1', '--json'],
        url: broker.url,
      });
      expect(tx.code, tx.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
      expect(delivered.event).toBe('delivered');
      expect(completed).toMatchObject({
        id: delivered.id,
        topic: 'cam/1',
        sha256: delivered.sha256,
        size: delivered.size,
      });
      const saved = readFileSync(String(completed.path));
      expect(sha256(saved)).toBe(delivered.sha256);
      expect(visibleFiles(out)).toEqual(['landscape.jpg']);
      const meta = await sharp(saved).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1600, 1200]);
    });

    it('leaves a retained image for a receiver of that exact topic that connects after the sender exited', async () => {
      // Also on brokers that give retained messages only to exact-topic subscriptions (RabbitMQ 3.x): the receiver
      // finds the transfer on T/mqimg/retained and subscribes to its topics one by one (PROTOCOL.md 8.6).
      const topic = `late/${Math.random().toString(16).slice(2, 8)}`;
      const sent = await runCli([
        'send',
        CARD,
        '--topic',
        topic,
        '--retain',
        '--chunk-size',
        '8192',
        '--url',
        broker.url,
      ]);
      expect(sent.code, sent.stderr).toBe(0);
      const out = tempDir();
      const rx = await runCli([
        'receive',
        '--out',
        out,
        '--topic',
        topic,
        '--once',
        '--json',
        '--url',
        broker.url,
      ]);
      expect(rx.code, rx.stderr).toBe(0);
      expect(visibleFiles(out)).toEqual(['test-card.jpg']);
      const completed = jsonLines(rx.stdout).find((e) => e.event === 'completed');
      expect(sha256(readFileSync(join(out, 'test-card.jpg')))).toBe(completed?.sha256);
      const cleared = await runCli(['clear', '--topic', topic, '--url', broker.url]);
      expect(cleared.code, cleared.stderr).toBe(0);
      expect(cleared.stdout + cleared.stderr).toMatch(/removed/);
    });

    it('sends the original bytes untouched with --format original, in 1 KiB chunks', async () => {
      const source = join(SAMPLES, 'sideways-exif6.jpg');
      const { tx, rx, out, sent } = await transfer({
        rx: [],
        tx: sendAsIs(source, 'cam/raw', '1024'),
        url: broker.url,
      });
      expect(tx.code, tx.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
      expect(sent[0]).toMatchObject({
        chunkBytes: 1024,
        chunks: Math.ceil(readFileSync(source).length / 1024),
      });
      expect(readFileSync(join(out, 'sideways-exif6.jpg')).equals(readFileSync(source))).toBe(true);
      // The human-readable line names the saved path.
      expect(rx.stdout).toContain(join(out, 'sideways-exif6.jpg'));
    });

    it('auto-orients by EXIF and resizes with --max-size, never enlarging', async () => {
      const { txs, rx, out } = await transfer({
        rx: [],
        tx: [
          [join(SAMPLES, 'sideways-exif6.jpg'), '--topic', 'cam/2', '--max-size', '300x300'],
          [CARD, '--topic', 'cam/2', '--max-size', '4000x4000'],
        ],
        url: broker.url,
      });
      expect([...txs.map((r) => r.code), rx.code], rx.stderr).toEqual([0, 0, 0]);
      const upright = await sharp(join(out, 'sideways-exif6.jpg')).metadata();
      // Stored 1200x1600 with orientation 6: upright it is landscape, 300x225 inside the box.
      expect([upright.width, upright.height, upright.orientation]).toEqual([300, 225, undefined]);
      const card = await sharp(join(out, 'test-card.jpg')).metadata();
      expect([card.width, card.height]).toEqual([640, 480]);
    });

    it('receives several transfers from several senders at once, and never overwrites an existing file', async () => {
      const out = tempDir();
      writeFileSync(join(out, 'test-card.jpg'), 'already here');
      const { txs, rx } = await transfer({
        out,
        rx: ['--json'],
        tx: [
          [CARD, '--topic', 'multi/a'],
          [join(SAMPLES, 'landscape.jpg'), '--topic', 'multi/b', '--chunk-size', '4K'],
          [join(SAMPLES, 'badge-alpha.png'), '--topic', 'multi/c/deeper'],
        ],
        url: broker.url,
      });
      for (const r of txs) expect(r.code, r.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
      expect(readFileSync(join(out, 'test-card.jpg'), 'utf8')).toBe('already here');
      expect(visibleFiles(out)).toEqual([
        'badge-alpha.png',
        'landscape.jpg',
        'test-card-1.jpg',
        'test-card.jpg',
      ]);
      expect(readdirSync(join(out, '.mqimg-partial'))).toEqual([]);
    });

    it('narrows to a --topic filter: cam/+ takes cam/7 and not garden/7', async () => {
      const receiver = await startReceiver([
        '--out',
        tempDir(),
        '--topic',
        'cam/+',
        '--once',
        '--json',
        '--url',
        broker.url,
      ]);
      const send = (topic: string, extra: string[] = []) =>
        runCli(['send', CARD, '--topic', topic, ...extra, '--url', broker.url]);
      const ignored = await send('garden/7', ['--timeout', '1.5']);
      const taken = await send('cam/7');
      const received = await receiver.done;
      expect(ignored.code).toBe(6);
      expect(ignored.stderr).toMatch(/no receiver answered within 2 s on garden\/7/);
      expect(taken.code, taken.stderr).toBe(0);
      expect(
        jsonLines(received.stdout)
          .filter((e) => e.event === 'completed')
          .map((e) => e.topic),
      ).toEqual(['cam/7']);
    });

    it('works with the sender started before the receiver', async () => {
      // A raw client on the broker sees the sender's manifest: the receiver starts only after it was published.
      const spy = await mqtt.connectAsync(broker.url, { clientId: `spy-${process.pid}-${Date.now()}` });
      try {
        const manifest = new Promise<string>((resolve) => spy.on('message', (topic) => resolve(topic)));
        await spy.subscribeAsync('late/1/mqimg/+/m', { qos: 1 });
        const sender = startCli(['send', CARD, '--topic', 'late/1', '--url', broker.url]);
        const published = await Promise.race([
          manifest,
          sender.done.then((r) => {
            throw new Error(`the sender ended before publishing its manifest: ${r.code} ${r.stderr}`);
          }),
        ]);
        expect(published).toMatch(/^late\/1\/mqimg\/[0-9a-f]{16}\/m$/);
        const out = tempDir();
        const received = await runCli(['receive', '--out', out, '--once', '--url', broker.url]);
        expect(received.code, received.stderr).toBe(0);
        const sent = await sender.done;
        expect(sent.code, sent.stderr).toBe(0);
        expect(visibleFiles(out)).toEqual(['test-card.jpg']);
      } finally {
        await spy.endAsync();
      }
    });
  });
}
