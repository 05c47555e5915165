import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { pngBomb } from '../fixtures/bomb.js';
import { runCli, SAMPLES, startCli, startReceiver } from '../helpers/cli.js';
import { hasGpsIfd } from '../helpers/exif.js';
import { FIXTURE_IMAGES, tempDir as makeTempDir, visibleFiles } from '../helpers/files.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { mosquittoRequired, startMosquitto, useMosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';
import { transfer } from '../helpers/transfer.js';
import { waitUntil } from '../helpers/wait.js';

/** The sample test card (640x480 JPEG). */
const CARD = join(SAMPLES, 'test-card.jpg');

const tempDir = () => makeTempDir('mqimg-err-');
const fixture = (name: string) => join(FIXTURE_IMAGES, name);

describe('bad input on the sender: clear message, documented exit code, nothing published', () => {
  // A URL where nothing listens: an input error (3) rather than a connection error (4) proves that mqimg
  // refused the input before it connected, so nothing can have been published.
  const nowhere = 'mqtt://127.0.0.1:1';

  it.each([
    ['a missing file', ['/no/such/photo.jpg'], 3, /no such file/],
    ['a directory', [SAMPLES], 3, /is a directory/],
    ['a file that is not an image', [join(SAMPLES, 'LICENSE.md')], 3, /not an image mqimg can read/],
  ])('%s', async (_label, files, code, message) => {
    const result = await runCli(['send', ...files, '--topic', 'cam/1', '--url', nowhere]);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('refuses a decompression bomb (a small file whose header claims 3.6 gigapixels)', async () => {
    const bomb = join(tempDir(), 'bomb.png');
    writeFileSync(bomb, pngBomb());
    const result = await runCli(['send', bomb, '--topic', 'cam/1', '--url', nowhere]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /60000x60000 pixels, more than the limit of 100000000: refusing it as a possible decompression bomb/,
    );
  });

  it('refuses something that is not a regular file (a FIFO)', async () => {
    const fifo = join(tempDir(), 'pipe.jpg');
    execFileSync('mkfifo', [fifo]);
    const result = await runCli(['send', fifo, '--topic', 'cam/1', '--url', nowhere]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/is not a regular file/);
  });

  it('refuses every file when one of several is bad', async () => {
    const result = await runCli(['send', CARD, '/no/such.jpg', '--topic', 'cam/1', '--url', nowhere]);
    expect(result.code).toBe(3);
  });

  it.each([
    ['cam/+', /wildcard/],
    ['cam/#', /wildcard/],
    ['cam//1', /empty level/],
    ['/cam', /empty level/],
  ])('refuses the topic %s with exit 2', async (topic, message) => {
    const result = await runCli(['send', CARD, '--topic', topic, '--url', nowhere]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('refuses bad option values with exit 2 and says what was expected', async () => {
    const quality = await runCli(['send', CARD, '--topic', 'a', '--quality', '101']);
    expect(quality.code).toBe(2);
    expect(quality.stderr).toMatch(/whole number from 1 to 100/);
    const chunk = await runCli(['send', CARD, '--topic', 'a', '--chunk-size', '10', '--url', nowhere]);
    expect(chunk.code).toBe(2);
    expect(chunk.stderr).toMatch(/--chunk-size must be .* from 64 to 524288/);
    const missingTopic = await runCli(['send', CARD]);
    expect(missingTopic.code).toBe(2);
    expect(missingTopic.stderr).toMatch(/--topic/);
    const both = await runCli(['receive', '--out', tempDir(), '--once', '--count', '2', '--url', nowhere]);
    expect(both.code).toBe(2);
  });

  it('says so when the broker is unreachable (exit 4)', async () => {
    const port = await freePort();
    const result = await runCli(['send', CARD, '--topic', 'cam/1', '--url', `mqtt://127.0.0.1:${port}`]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/connection refused/);
    const receive = await runCli(['receive', '--out', tempDir(), '--url', `mqtt://127.0.0.1:${port}`]);
    expect(receive.code).toBe(4);
  });

  it('takes the broker URL from MQIMG_URL', async () => {
    const port = await freePort();
    const result = await runCli(['send', CARD, '--topic', 'cam/1'], {
      MQIMG_URL: `mqtt://127.0.0.1:${port}`,
    });
    expect(result.stderr).toContain(`mqtt://127.0.0.1:${port}`);
    expect(result.code).toBe(4);
  });
});

describe('damaged and unsupported images (test/fixtures/images)', () => {
  const nowhere = 'mqtt://127.0.0.1:1';

  it('refuses a truncated JPEG with a clear message', async () => {
    const result = await runCli(['send', fixture('truncated.jpg'), '--topic', 'cam/1', '--url', nowhere]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /truncated\.jpg could not be decoded; the file may be truncated or damaged/,
    );
  });

  it('says that HEIC cannot be decoded and what to do', async () => {
    // A real HEIC (HEVC-coded HEIF, as an iPhone saves): brand 'heic' and an HEVC decoder configuration box.
    const heic = readFileSync(fixture('photo.heic'));
    expect(heic.toString('latin1', 4, 12)).toBe('ftypheic');
    expect(heic.includes('hvcC')).toBe(true);
    const result = await runCli(['send', fixture('photo.heic'), '--topic', 'cam/1', '--url', nowhere]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/HEIC.*cannot decode: convert it to JPEG first/);
  });
});

describe.skipIf(!mosquittoRequired())('through a Mosquitto the test configures', () => {
  const open = useMosquitto();

  it('reports refused credentials with exit 5, for sender and receiver', async () => {
    const dir = tempDir();
    const passwords = join(dir, 'passwords');
    writeFileSync(passwords, '');
    execFileSync('mosquitto_passwd', ['-b', passwords, 'camera', 'right-password']);
    // Mosquitto started as root reads the password file as the 'mosquitto' user.
    chmodSync(dir, 0o755);
    chmodSync(passwords, 0o644);
    const secured = await startMosquitto(['allow_anonymous false', `password_file ${passwords}`]);
    try {
      const wrong = await runCli(
        ['send', CARD, '--topic', 'cam/1', '--url', secured.url, '--username', 'camera'],
        {
          MQIMG_PASSWORD: 'wrong',
        },
      );
      expect(wrong.code).toBe(5);
      expect(wrong.stderr).toMatch(/refused the user name or password|not authorised/);
      const receiver = await runCli(['receive', '--out', dir, '--url', secured.url]);
      expect(receiver.code).toBe(5);
      // And with the right password, through MQIMG_PASSWORD, it works.
      const ok = await transfer({
        rx: ['--username', 'camera'],
        tx: [CARD, '--topic', 'cam/1', '--username', 'camera'],
        url: secured.url,
        env: { MQIMG_PASSWORD: 'right-password' },
      });
      expect(ok.tx.code, ok.tx.stderr).toBe(0);
      expect(ok.rx.code, ok.rx.stderr).toBe(0);
      expect(visibleFiles(ok.out)).toEqual(['test-card.jpg']);
    } finally {
      await secured.stop();
    }
  });

  it('works with --mqtt-version 3.1.1 and 5 explicitly', async () => {
    for (const version of ['3.1.1', '5']) {
      const { tx, rx, out } = await transfer({
        rx: ['--mqtt-version', version],
        tx: [CARD, '--topic', `v/${version}`, '--mqtt-version', version],
        url: open.url,
      });
      expect(tx.code, tx.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
      expect(visibleFiles(out)).toEqual(['test-card.jpg']);
    }
  });

  it('leaves no partial file in --out when the receiver is interrupted mid-transfer (exit 130), only resumable state', async () => {
    const out = tempDir();
    // The receiver reads at 50 KB/s: the transfer is still running when it is interrupted.
    const slow = await startLossyProxy(open.port, { bytesPerSecond: 50_000 });
    const rx = await startReceiver(['--out', out, '--json', '--url', slow.url]);
    const tx = startCli([
      'send',
      join(SAMPLES, 'landscape.jpg'),
      '--topic',
      'ctrlc/1',
      '--chunk-size',
      '1K',
      '--timeout',
      '2',
      '--url',
      open.url,
    ]);
    await rx.waitForOutput('"event":"started"');
    // The receiver saves its partial state (every second while chunks arrive): wait until it has.
    const partial = join(out, '.mqimg-partial');
    await waitUntil('the first save of the partial state', () =>
      existsSync(partial) ? readdirSync(partial).some((f) => f.endsWith('.json')) : false,
    );
    rx.child.kill('SIGINT');
    const result = await rx.done;
    await slow.close();
    expect(result.code).toBe(130);
    expect(visibleFiles(out)).toEqual([]);
    // The partial transfer is kept, hidden, for a receiver started again on the same --out to resume.
    const kept = readdirSync(join(out, '.mqimg-partial')).sort();
    expect(kept).toHaveLength(2);
    expect(kept[0]).toMatch(/^[0-9a-f]{16}\.json$/);
    expect(kept[1]).toMatch(/^[0-9a-f]{16}\.part$/);
    const sender = await tx.done;
    expect(sender.code).toBe(6); // its only receiver vanished
    expect(sender.stderr).toMatch(/made no progress/);
  });

  it('strips GPS and other metadata unless --keep-metadata', async () => {
    const input = await sharp(fixture('gps.jpg')).metadata();
    expect(hasGpsIfd(input.exif)).toBe(true);
    const send = (topic: string, extra: string[] = []) =>
      transfer({ rx: [], tx: [fixture('gps.jpg'), '--topic', topic, ...extra], url: open.url });
    const strip = await send('gps/strip');
    const keep = await send('gps/keep', ['--keep-metadata']);
    for (const { tx, rx } of [strip, keep]) {
      expect(tx.code, tx.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
    }
    const stripped = await sharp(join(strip.out, 'gps.jpg')).metadata();
    expect(stripped.exif).toBeUndefined();
    expect(stripped.icc).toBeUndefined();
    const kept = await sharp(join(keep.out, 'gps.jpg')).metadata();
    expect(hasGpsIfd(kept.exif)).toBe(true);
  });

  it('delivers a photo with EXIF orientation 6 upright', async () => {
    const input = await sharp(fixture('orientation-6.jpg')).metadata();
    expect([input.width, input.height, input.orientation]).toEqual([240, 360, 6]);
    const { tx, rx, out } = await transfer({
      rx: [],
      tx: [fixture('orientation-6.jpg'), '--topic', 'orient/6'],
      url: open.url,
    });
    expect(tx.code, tx.stderr).toBe(0);
    expect(rx.code, rx.stderr).toBe(0);
    const saved = sharp(join(out, 'orientation-6.jpg'));
    const meta = await saved.metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([360, 240, undefined]);
    // The stored top-left quarter is red: turned 90 degrees clockwise, it is the top-right quarter.
    const { data, info } = await saved.raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [
      ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
    ];
    const red = (p: number[]) => (p[0] ?? 0) > 150 && (p[2] ?? 255) < 100;
    expect(red(pixel(300, 40))).toBe(true);
    expect(red(pixel(60, 40))).toBe(false);
    expect(red(pixel(300, 200))).toBe(false);
  });
});
