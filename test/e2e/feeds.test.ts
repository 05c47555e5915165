import { copyFileSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli, SAMPLES, startCli, startReceiver, waitForEvent } from '../helpers/cli.js';
import { jsonLines, tempDir } from '../helpers/files.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { mosquittoRequired, useMosquitto } from '../helpers/mosquitto.js';
import { writeNoisePng } from '../helpers/noise-image.js';
import { waitUntil } from '../helpers/wait.js';

/** The sample test card (640x480 JPEG). */
const CARD = join(SAMPLES, 'test-card.jpg');

/** Waits until a `send --watch` has said on stderr that it is watching (so nothing written after is missed). */
const watching = (cli: CliProcess) => cli.waitForStderr('watching');
const completedPaths = (stdout: string) =>
  jsonLines(stdout)
    .filter((e) => e.event === 'completed')
    .map((e) => String(e.path));

describe.skipIf(!mosquittoRequired())('live feeds: a watched folder, a polled URL, latest wins', () => {
  const broker = useMosquitto();
  let http: Server;
  let httpUrl: string;
  beforeAll(async () => {
    http = createServer((req, res) => {
      if (req.url !== '/snap.jpg') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(readFileSync(CARD));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
    const address = http.address();
    httpUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/snap.jpg`;
  });
  afterAll(async () => {
    await new Promise((resolve) => http?.close(resolve));
  });
  /** `receive --json --out out --topic topic` on the broker, subscribed when it resolves. */
  const receiveOn = (out: string, topic: string, extra: string[]) =>
    startReceiver(['--out', out, '--json', '--topic', topic, ...extra, '--url', broker.url]);
  /** `send --watch dir` on `topic`, sending files as they are, with `--json` events. */
  const watch = (dir: string, topic: string, extra: string[]) =>
    startCli([
      'send',
      '--watch',
      dir,
      '--topic',
      topic,
      '--format',
      'original',
      '--json',
      ...extra,
      '--url',
      broker.url,
    ]);

  it('--watch sends each new image once it is completely written, and Ctrl-C stops it (exit 130)', async () => {
    const dir = tempDir('mqimg-watch-');
    const out = tempDir('mqimg-watch-out-');
    const rx = await receiveOn(out, 'nvr/1', ['--count', '2']);
    const tx = watch(dir, 'nvr/1', ['--no-supersede']);
    await watching(tx);
    copyFileSync(CARD, join(dir, 'first.jpg'));
    // Written in two halves with a pause: it must not be sent half-written.
    const landscape = readFileSync(join(SAMPLES, 'landscape.jpg'));
    writeFileSync(join(dir, 'second.jpg'), landscape.subarray(0, 50_000));
    // Time must pass here, and no condition can stand for it: the pause gives the watcher a chance to look at the
    // half-written file (it stats and reads a file 50 ms after it appears), and it prints nothing when it looks
    // at a file it does not send. The test does not depend on how long it is: a half-written JPEG (no EOI) is never
    // sent before it stops changing for 10 s, and the assertions below fail if it were; a shorter look under load
    // only tests less.
    await sleep(150);
    writeFileSync(join(dir, 'second.jpg'), landscape);
    const received = await rx.done;
    expect(received.code, received.stderr).toBe(0);
    const saved = completedPaths(received.stdout).map((p) => readFileSync(p));
    expect(saved.some((b) => b.equals(readFileSync(CARD)))).toBe(true);
    expect(saved.some((b) => b.equals(landscape))).toBe(true);
    tx.child.kill('SIGINT');
    expect((await tx.done).code).toBe(130);
  });

  it('polls an http:// snapshot URL with --every', async () => {
    const out = tempDir('mqimg-poll-');
    const rx = await receiveOn(out, 'ipcam/1', ['--once']);
    const tx = startCli([
      'send',
      httpUrl,
      '--every',
      '500ms',
      '--topic',
      'ipcam/1',
      '--format',
      'original',
      '--url',
      broker.url,
    ]);
    const received = await rx.done;
    expect(received.code, received.stderr).toBe(0);
    const [path] = completedPaths(received.stdout);
    expect(readFileSync(String(path)).equals(readFileSync(CARD))).toBe(true);
    tx.child.kill('SIGINT');
    expect((await tx.done).code).toBe(130);
  });

  it('latest wins: a newer image replaces one still in transfer, and receivers drop the older one unsaved', async () => {
    const dir = tempDir('mqimg-latest-');
    const out = tempDir('mqimg-latest-out-');
    const slow = await startLossyProxy(broker.port, { bytesPerSecond: 400_000 });
    try {
      // ~3 MB, more than the sender's window (1 MiB of 4 KiB chunks): most of it is not yet sent when superseded.
      const big = await writeNoisePng(1000);
      const rx = await startReceiver(['--out', out, '--json', '--topic', 'cam/latest', '--url', slow.url]);
      const tx = watch(dir, 'cam/latest', ['--chunk-size', '4K']);
      await watching(tx);
      copyFileSync(big, join(dir, '.old.tmp'));
      renameSync(join(dir, '.old.tmp'), join(dir, 'old.png'));
      const started = await waitForEvent(rx, { event: 'started', name: 'old.png' }, 20_000);
      // old.png must be under way, not only announced, when new.jpg comes: wait until the receiver has stored
      // chunks of it (its partial file, written at each chunk's offset, holds 64 KiB: 16 of its ~750 chunks).
      const part = join(out, '.mqimg-partial', `${String(started.id)}.part`);
      await waitUntil(
        'the receiver to store chunks of old.png',
        () => (statSync(part, { throwIfNoEntry: false })?.size ?? 0) >= 64 * 1024,
        {
          timeoutMs: 30_000,
          describe: () => `stdout:\n${rx.stdout()}\nstderr:\n${rx.stderr()}`,
        },
      );
      copyFileSync(CARD, join(dir, 'new.jpg'));
      await rx.waitForOutput('"name":"new.jpg","path"', 45_000);
      const events = jsonLines(rx.stdout());
      expect(events.find((e) => e.event === 'failed' && e.code === 'superseded')).toMatchObject({
        topic: 'cam/latest',
      });
      expect(completedPaths(rx.stdout()).map((p) => p.split('/').pop())).toEqual(['new.jpg']);
      expect(tx.stderr()).toMatch(/superseded old\.png/);
      tx.child.kill('SIGINT');
      rx.child.kill('SIGINT');
      await Promise.all([tx.done, rx.done]);
    } finally {
      await slow.close();
    }
  });

  it('relay takes Frigate-style whole-image snapshots and sends each, prepared for the display, as a transfer', async () => {
    const frigate = await mqtt.connectAsync(broker.url);
    // Frigate publishes the latest snapshot of each camera and object as one retained JPEG.
    await frigate.publishAsync('frigate/door/person/snapshot', readFileSync(join(SAMPLES, 'landscape.jpg')), {
      qos: 1,
      retain: true,
    });
    await frigate.endAsync();
    const out = tempDir('mqimg-relay-');
    const rx = await receiveOn(out, 'display/door', ['--once']);
    const relay = startCli([
      'relay',
      '--from',
      'frigate/+/person/snapshot',
      '--to',
      'display/door',
      '--profile',
      'ili9341-rgb565',
      '--url',
      broker.url,
    ]);
    const received = await rx.done;
    expect(received.code, received.stderr).toBe(0);
    const completed = jsonLines(received.stdout).find((e) => e.event === 'completed');
    expect(completed).toMatchObject({
      pixelFormat: 'rgb565le',
      width: 320,
      height: 240,
      size: 320 * 240 * 2,
    });
    relay.child.kill('SIGINT');
    expect((await relay.done).code).toBe(130);
  });

  it('refuses --every without a URL (exit 2)', async () => {
    const result = await runCli(['send', CARD, '--every', '1s', '--topic', 'a']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--every needs exactly one http/);
  });
});
