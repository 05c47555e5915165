import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKERS, type TestBroker } from '../helpers/brokers.js';
import { runCli, SAMPLES, startCli } from '../helpers/cli.js';
import { jsonLines, sha256 } from '../helpers/files.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'mqimg-e2e-'));
/** Files a user sees in a folder (the hidden partial folder excluded). */
const visibleFiles = (dir: string) => readdirSync(dir).filter((f) => !f.startsWith('.'));

for (const { name, enabled, start } of BROKERS) {
  describe.skipIf(!enabled)(`send and receive through ${name}`, () => {
    let broker: TestBroker;
    beforeAll(async () => {
      broker = await start();
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it('delivers a JPEG whose SHA-256 is the one in the manifest, and both sides exit 0', async () => {
      const out = tempDir();
      const receiver = startCli(['receive', '--out', out, '--once', '--json', '--url', broker.url]);
      const sent = await runCli([
        'send',
        join(SAMPLES, 'landscape.jpg'),
        '--topic',
        'cam/1',
        '--json',
        '--url',
        broker.url,
      ]);
      const received = await receiver.done;
      expect(sent.code, sent.stderr).toBe(0);
      expect(received.code, received.stderr).toBe(0);
      const delivered = jsonLines(sent.stdout).find((e) => e.event === 'delivered');
      const completed = jsonLines(received.stdout).find((e) => e.event === 'completed');
      expect(delivered).toBeDefined();
      expect(completed).toMatchObject({
        id: delivered?.id,
        topic: 'cam/1',
        sha256: delivered?.sha256,
        size: delivered?.size,
      });
      const saved = readFileSync(String(completed?.path));
      expect(sha256(saved)).toBe(delivered?.sha256);
      expect(visibleFiles(out)).toEqual(['landscape.jpg']);
      const meta = await sharp(saved).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1600, 1200]);
    });

    it('sends the original bytes untouched with --format original, in 1 KiB chunks', async () => {
      const out = tempDir();
      const source = join(SAMPLES, 'sideways-exif6.jpg');
      const receiver = startCli(['receive', '--out', out, '--once', '--url', broker.url]);
      const sent = await runCli([
        'send',
        source,
        '--topic',
        'cam/raw',
        '--format',
        'original',
        '--chunk-size',
        '1024',
        '--json',
        '--url',
        broker.url,
      ]);
      const received = await receiver.done;
      expect(sent.code, sent.stderr).toBe(0);
      expect(received.code, received.stderr).toBe(0);
      expect(jsonLines(sent.stdout)[0]).toMatchObject({
        chunkBytes: 1024,
        chunks: Math.ceil(readFileSync(source).length / 1024),
      });
      expect(readFileSync(join(out, 'sideways-exif6.jpg')).equals(readFileSync(source))).toBe(true);
      // The human-readable line names the saved path.
      expect(received.stdout).toContain(join(out, 'sideways-exif6.jpg'));
    });

    it('auto-orients by EXIF and resizes with --max-size, never enlarging', async () => {
      const out = tempDir();
      const receiver = startCli(['receive', '--out', out, '--count', '2', '--url', broker.url]);
      const a = await runCli([
        'send',
        join(SAMPLES, 'sideways-exif6.jpg'),
        '--topic',
        'cam/2',
        '--max-size',
        '300x300',
        '--url',
        broker.url,
      ]);
      const b = await runCli([
        'send',
        join(SAMPLES, 'test-card.jpg'),
        '--topic',
        'cam/2',
        '--max-size',
        '4000x4000',
        '--url',
        broker.url,
      ]);
      expect([a.code, b.code, (await receiver.done).code]).toEqual([0, 0, 0]);
      const upright = await sharp(join(out, 'sideways-exif6.jpg')).metadata();
      // Stored 1200x1600 with orientation 6: upright it is landscape, 300x225 inside the box.
      expect([upright.width, upright.height, upright.orientation]).toEqual([300, 225, undefined]);
      const card = await sharp(join(out, 'test-card.jpg')).metadata();
      expect([card.width, card.height]).toEqual([640, 480]);
    });

    it('receives several transfers from several senders at once, and never overwrites an existing file', async () => {
      const out = tempDir();
      writeFileSync(join(out, 'test-card.jpg'), 'already here');
      const receiver = startCli(['receive', '--out', out, '--count', '3', '--json', '--url', broker.url]);
      const results = await Promise.all([
        runCli(['send', join(SAMPLES, 'test-card.jpg'), '--topic', 'multi/a', '--url', broker.url]),
        runCli([
          'send',
          join(SAMPLES, 'landscape.jpg'),
          '--topic',
          'multi/b',
          '--chunk-size',
          '4K',
          '--url',
          broker.url,
        ]),
        runCli(['send', join(SAMPLES, 'badge-alpha.png'), '--topic', 'multi/c/deeper', '--url', broker.url]),
      ]);
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      expect((await receiver.done).code).toBe(0);
      expect(readFileSync(join(out, 'test-card.jpg'), 'utf8')).toBe('already here');
      expect(visibleFiles(out).sort()).toEqual([
        'badge-alpha.png',
        'landscape.jpg',
        'test-card-1.jpg',
        'test-card.jpg',
      ]);
      expect(readdirSync(join(out, '.mqimg-partial'))).toEqual([]);
    });

    it('narrows to a --topic filter: cam/+ takes cam/7 and not garden/7', async () => {
      const out = tempDir();
      const receiver = startCli([
        'receive',
        '--out',
        out,
        '--topic',
        'cam/+',
        '--once',
        '--json',
        '--url',
        broker.url,
      ]);
      const ignored = await runCli([
        'send',
        join(SAMPLES, 'test-card.jpg'),
        '--topic',
        'garden/7',
        '--timeout',
        '1.5',
        '--url',
        broker.url,
      ]);
      const taken = await runCli([
        'send',
        join(SAMPLES, 'test-card.jpg'),
        '--topic',
        'cam/7',
        '--url',
        broker.url,
      ]);
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
      const out = tempDir();
      const sender = startCli([
        'send',
        join(SAMPLES, 'test-card.jpg'),
        '--topic',
        'late/1',
        '--url',
        broker.url,
      ]);
      await new Promise((r) => setTimeout(r, 700));
      const received = await runCli(['receive', '--out', out, '--once', '--url', broker.url]);
      expect(received.code, received.stderr).toBe(0);
      expect((await sender.done).code).toBe(0);
      expect(visibleFiles(out)).toEqual(['test-card.jpg']);
    });
  });
}
