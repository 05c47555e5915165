import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseStatus } from '../../src/protocol/status/status.js';
import { statusTopic } from '../../src/protocol/wire/topics.js';
import { ARTIFACTS, chromiumRequired, launchChromium, openPage } from '../helpers/chromium.js';
import { type CliProcess, runCli, SAMPLES, startCli } from '../helpers/cli.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';
import { craftTransfer, publishManifest, publishTransfer } from '../helpers/raw-sender.js';
import { routeMqtt } from '../helpers/ws-mqtt-route.js';

/** What `window.mqimgDisplay` holds (src/display/page-main.ts). */
interface DisplayStatus {
  state: string;
  receiverId: string;
  shown: Array<{ name: string; sha256: string; lastChunkToSwapMs: number; lastChunkToFrameMs: number }>;
  failures: Array<{ code: string; message: string }>;
  rejections: Array<{ code: string; message: string }>;
  skipped: number;
}

const CARD = join(SAMPLES, 'test-card.jpg');
const LANDSCAPE = join(SAMPLES, 'landscape.jpg');

/** `mqimg broker --port P --ws-port W`, restartable on the same ports. */
class BrokerCli {
  proc: CliProcess | undefined;
  constructor(
    readonly port: number,
    readonly wsPort: number,
  ) {}
  get url() {
    return `mqtt://127.0.0.1:${this.port}`;
  }
  get wsUrl() {
    return `ws://127.0.0.1:${this.wsPort}`;
  }
  async start() {
    this.proc = startCli(['broker', '--port', String(this.port), '--ws-port', String(this.wsPort)]);
    await this.proc.waitForOutput('broker listening', 15_000);
  }
  async stop() {
    this.proc?.child.kill('SIGTERM');
    await this.proc?.done;
    this.proc = undefined;
  }
}

describe.skipIf(!chromiumRequired())('the display page in Chromium, the only receiver', () => {
  let browser: Browser;
  let broker: BrokerCli;
  const running: CliProcess[] = [];
  const contexts: BrowserContext[] = [];
  let topicNumber = 0;

  beforeAll(async () => {
    browser = await launchChromium();
    broker = new BrokerCli(await freePort(), await freePort());
    await broker.start();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    for (const proc of running.splice(0)) {
      proc.child.kill('SIGTERM');
      await proc.done;
    }
  });

  /** Starts `mqimg display` for a new topic and opens its page; waits until the page is connected. */
  /**
   * Starts `mqimg display` (for a new topic unless `topic`) and opens its page in `in` (default: the suite's
   * browser), under the host name `host` (default 127.0.0.1); waits until the page is connected.
   */
  async function openDisplay(
    options: {
      args?: string[];
      route?: (page: Page) => Promise<unknown>;
      topic?: string;
      in?: Browser;
      host?: string;
    } = {},
  ) {
    const topic = options.topic ?? `screen/${++topicNumber}`;
    const display = startCli([
      'display',
      '--url',
      broker.wsUrl,
      '--topic',
      topic,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      ...(options.args ?? []),
    ]);
    running.push(display);
    await display.waitForOutput('display page at', 15_000);
    const address = /display page at (\S+)/.exec(display.stdout())?.[1] ?? '';
    const { page, errors, context } = await openPage(options.in ?? browser);
    contexts.push(context);
    await options.route?.(page);
    await page.goto(`${address.replace('127.0.0.1', options.host ?? '127.0.0.1')}?debug`);
    await page.waitForFunction(
      () => (window as unknown as { mqimgDisplay?: DisplayStatus }).mqimgDisplay?.state === 'connected',
    );
    return { page, errors, topic, address };
  }

  const status = (page: Page) =>
    page.evaluate(() => (window as unknown as { mqimgDisplay: DisplayStatus }).mqimgDisplay);

  /** `mqimg send FILE --topic T --receivers 1 --json`: must exit 0; returns the delivered event. */
  async function send(file: string, topic: string, extra: string[] = []) {
    const result = await runCli([
      'send',
      file,
      '--topic',
      topic,
      '--url',
      broker.url,
      '--receivers',
      '1',
      '--timeout',
      '20',
      '--json',
      ...extra,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const delivered = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((e) => e.event === 'delivered');
    expect(delivered).toBeDefined();
    return delivered as { sha256: string; retransmittedChunks: number; chunks: number; receivers: unknown[] };
  }

  /** The element showing the image with this SHA-256, once it is there. */
  async function shown(page: Page, sha256: string) {
    const element = page.locator(`#stage [data-mqimg-sha256="${sha256}"]`);
    await element.waitFor({ state: 'attached', timeout: 20_000 });
    return element;
  }

  it('shows a JPEG sent with --receivers 1 to nobody but the page, full screen, and the send exits 0', async () => {
    const { page, errors, topic } = await openDisplay();
    const delivered = await send(CARD, topic);
    const element = await shown(page, delivered.sha256);
    expect(await element.evaluate((e) => e.tagName)).toBe('IMG');
    expect(await element.evaluate((e) => (e as HTMLImageElement).naturalWidth)).toBe(640);
    const box = await element.boundingBox();
    expect(box).toMatchObject({ x: 0, y: 0, width: 800, height: 600 }); // the element fills the screen
    expect(await element.evaluate((e) => getComputedStyle(e).objectFit)).toBe('contain');
    expect(delivered.receivers).toHaveLength(1);
    await page.screenshot({ path: join(ARTIFACTS, 'display-jpeg.png') });
    expect(errors).toEqual([]);
  });

  it('draws rgb565 (both byte orders) and gray8 pixels on a canvas, each matching the source', async () => {
    const { page, errors, topic } = await openDisplay({ args: ['--fit', 'cover'] });
    // 4x2: red, green, blue, white / black, (8,4,8), (255,255,0), black: every value rgb565 holds exactly.
    const pixels = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 8, 4, 8, 255, 255, 0, 0, 0, 0];
    const png = join(mkdtempSync(join(tmpdir(), 'mqimg-page-')), 'pixels.png');
    writeFileSync(
      png,
      await sharp(Buffer.from(pixels), { raw: { width: 4, height: 2, channels: 3 } })
        .png()
        .toBuffer(),
    );
    for (const order of ['le', 'be']) {
      const delivered = await send(png, topic, ['--format', 'rgb565', '--byte-order', order]);
      const canvas = await shown(page, delivered.sha256);
      const drawn = await canvas.evaluate((e) => {
        const c = e as HTMLCanvasElement;
        return [
          c.tagName,
          ...Array.from(c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? []),
        ];
      });
      const rgba = pixels.flatMap((v, i) => (i % 3 === 2 ? [v, 255] : [v]));
      expect(drawn).toEqual(['CANVAS', ...rgba]);
    }
    // gray8: BT.601 luma, rounded (PROTOCOL.md 5.1), drawn as grey.
    const gray = await send(png, topic, ['--format', 'gray8']);
    const grayCanvas = await shown(page, gray.sha256);
    const luma = await grayCanvas.evaluate((e) => {
      const c = e as HTMLCanvasElement;
      const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
      return Array.from({ length: c.width * c.height }, (_, p) => [
        data[p * 4],
        data[p * 4 + 1],
        data[p * 4 + 2],
      ]);
    });
    expect(luma).toEqual([76, 150, 29, 255, 0, 6, 226, 0].map((l) => [l, l, l]));
    const canvas = page.locator('#stage canvas');
    expect(await canvas.evaluate((e) => getComputedStyle(e).objectFit)).toBe('cover');
    expect(errors).toEqual([]);
  });

  it('replaces the first image with the second, one element on screen at a time', async () => {
    const { page, errors, topic } = await openDisplay();
    const first = await send(CARD, topic);
    await shown(page, first.sha256);
    const second = await send(LANDSCAPE, topic);
    await shown(page, second.sha256);
    expect(await page.locator('#stage > *').count()).toBe(1);
    expect((await status(page)).shown.map((s) => s.sha256)).toEqual([first.sha256, second.sha256]);
    expect(errors).toEqual([]);
  });

  it('asks for a chunk dropped on the way and one altered on the way, and shows the repaired image', async () => {
    let counts = { dropped: 0, altered: 0 };
    const { page, errors, topic } = await openDisplay({
      route: async (p) => {
        counts = await routeMqtt(p, (name, nth, payload) => {
          if (nth > 0) return 'deliver';
          if (/\/mqimg\/[^/]+\/c\/1$/.test(name)) return 'drop';
          if (/\/mqimg\/[^/]+\/c\/2$/.test(name))
            return { payload: Buffer.from(payload.map((b) => b ^ 0xff)) };
          return 'deliver';
        });
      },
    });
    const delivered = await send(LANDSCAPE, topic, ['--chunk-size', '4096']);
    expect(delivered.chunks).toBeGreaterThan(3);
    await shown(page, delivered.sha256);
    expect(counts).toEqual({ dropped: 1, altered: 1 });
    expect(delivered.retransmittedChunks).toBeGreaterThanOrEqual(2);
    expect((await status(page)).rejections.map((r) => r.code)).toEqual(['chunk_hash_mismatch']);
    expect(errors).toEqual([]);
  });

  it('refuses an image whose bytes do not have the SHA-256 its manifest declares, and keeps the last one', async () => {
    const { page, errors, topic } = await openDisplay();
    const genuine = await send(CARD, topic);
    await shown(page, genuine.sha256);
    const client = await mqtt.connectAsync(broker.url);
    try {
      const bytes = await sharp(LANDSCAPE).jpeg().toBuffer();
      const forged = { bytes, name: 'forged.jpg', mediaType: 'image/jpeg', width: 1, height: 1 };
      const t = craftTransfer({ ...forged, sha256: 'ab'.repeat(32) }, topic, 4096);
      const receiverId = (await status(page)).receiverId;
      const answer = new Promise<unknown>((resolve) => {
        client.on('message', (_topic, payload) => {
          const s = parseStatus(payload);
          if (s?.rx === receiverId && s.state !== 'receiving') resolve(s);
        });
      });
      await client.subscribeAsync(statusTopic(topic, t.manifest.id), { qos: 1 });
      await publishTransfer(client, t);
      expect(await answer).toMatchObject({ state: 'failed', reason: 'checksum_mismatch' });
    } finally {
      await client.endAsync();
    }
    const failures = (await status(page)).failures;
    expect(failures.map((f) => f.code)).toEqual(['checksum_mismatch']);
    expect(await page.locator('#stage > *').getAttribute('data-mqimg-sha256')).toBe(genuine.sha256);
    expect(errors).toEqual([]);
  });

  it('says how many images it skipped for newer ones, and which topic the one on screen came from', async () => {
    const { page, errors, topic } = await openDisplay();
    const client = await mqtt.connectAsync(broker.url);
    try {
      // An older image whose chunks never come: the page starts it, then drops it for the newer one.
      const bytes = await sharp(LANDSCAPE).jpeg().toBuffer();
      const older = { bytes, name: 'older.jpg', mediaType: 'image/jpeg', width: 1, height: 1 };
      const t = craftTransfer({ ...older, sha256: 'cd'.repeat(32) }, topic, 4096, Date.now() - 1000);
      await publishManifest(client, t);
      await page.locator('#overlay', { hasText: 'receiving older.jpg' }).waitFor({ state: 'attached' });
    } finally {
      await client.endAsync();
    }
    const newer = await send(CARD, topic);
    await shown(page, newer.sha256);
    const after = await status(page);
    expect(after.failures.map((f) => f.code)).toEqual(['superseded']);
    expect(after.skipped).toBe(1);
    const overlay = await page.locator('#overlay').textContent();
    expect(overlay).toContain('skipped 1 image (the feed is faster than this display): showing the newest');
    expect(overlay).toContain(`shown test-card.jpg from ${topic} (`);
    expect(errors).toEqual([]);
  });

  it('reconnects after the broker restarts and shows the next image; a reload shows the last one at once', async () => {
    const { page, errors, topic } = await openDisplay();
    const first = await send(CARD, topic);
    await shown(page, first.sha256);
    await broker.stop();
    await page.waitForFunction(
      () => (window as unknown as { mqimgDisplay: DisplayStatus }).mqimgDisplay.state !== 'connected',
    );
    await broker.start();
    await page.waitForFunction(
      () => (window as unknown as { mqimgDisplay: DisplayStatus }).mqimgDisplay.state === 'connected',
      undefined,
      { timeout: 15_000 },
    );
    const second = await send(LANDSCAPE, topic);
    await shown(page, second.sha256);
    // Kiosk: a reload shows the last image from IndexedDB before anything arrives.
    await page.reload();
    const kept = page.locator(`#stage [data-mqimg-sha256="${second.sha256}"][data-mqimg-restored="true"]`);
    await kept.waitFor({ state: 'attached', timeout: 10_000 });
    // The broker going away is logged by Chromium as a failed WebSocket connection: expected here, nothing else.
    expect(errors.filter((e) => !/WebSocket connection to .* failed/.test(e))).toEqual([]);
  });

  it('accepts only signed and encrypted transfers when given --trust and --encrypt, with WebCrypto', async () => {
    const keys = mkdtempSync(join(tmpdir(), 'mqimg-page-keys-'));
    expect((await runCli(['keygen', join(keys, 'cam')])).code).toBe(0);
    expect((await runCli(['keygen', '--secret', join(keys, 'secret')])).code).toBe(0);
    const { page, errors, topic } = await openDisplay({
      args: ['--trust', join(keys, 'cam.pub'), '--encrypt', join(keys, 'secret')],
    });
    const security = ['--sign', join(keys, 'cam.key'), '--encrypt', join(keys, 'secret')];
    const delivered = await send(CARD, topic, security);
    await shown(page, delivered.sha256);
    // Encrypted but unsigned: refused (the sender is told, and gives up).
    const unsigned = await runCli([
      'send',
      LANDSCAPE,
      '--topic',
      topic,
      '--url',
      broker.url,
      '--receivers',
      '1',
      '--timeout',
      '5',
      '--encrypt',
      join(keys, 'secret'),
    ]);
    expect(unsigned.code).not.toBe(0);
    expect((await status(page)).failures.map((f) => f.code)).toContain('unsigned');
    expect(await page.locator('#stage > *').getAttribute('data-mqimg-sha256')).toBe(delivered.sha256);
    expect(errors).toEqual([]);
  });

  it('shows an image left retained (send --retain) to a page that opens later', async () => {
    const topic = `retained/${++topicNumber}`;
    const sent = await runCli([
      'send',
      LANDSCAPE,
      '--topic',
      topic,
      '--url',
      broker.url,
      '--retain',
      '--json',
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    const sha256 = /"sha256":"([0-9a-f]{64})"/.exec(sent.stdout)?.[1] ?? 'none';
    const { page, errors } = await openDisplay({ topic });
    await shown(page, sha256);
    expect(errors).toEqual([]);
  });

  it('checks and shows images on a plain-http network address, where the browser has no WebCrypto', async () => {
    // display.test resolves to 127.0.0.1 but is not localhost: the page is not a secure context, as on a tablet
    // opening http://192.168.1.10:8080/.
    const lan = await launchChromium(['--host-resolver-rules=MAP display.test 127.0.0.1']);
    try {
      const { page, errors, topic } = await openDisplay({
        // The server serves only its own names: display.test is one it was told of.
        args: ['--url', broker.wsUrl.replace('127.0.0.1', 'display.test'), '--allow-host', 'display.test'],
        in: lan,
        host: 'display.test',
      });
      expect(await page.evaluate(() => [window.isSecureContext, Boolean(globalThis.crypto?.subtle)])).toEqual(
        [false, false],
      );
      const delivered = await send(LANDSCAPE, topic, ['--chunk-size', '8192']);
      await shown(page, delivered.sha256);
      expect(await page.locator('#overlay').textContent()).toContain('SHA-256 in JavaScript');
      expect(errors).toEqual([]);
    } finally {
      await lan.close();
    }
  });

  it('works hosted on any web server, with the broker and topic as URL parameters', async () => {
    const dir = join(fileURLToPath(new URL('../../dist/page/', import.meta.url)));
    const server = createServer((request, response) => {
      const name = new URL(request.url ?? '/', 'http://x').pathname.slice(1) || 'index.html';
      const type = name.endsWith('.js') ? 'text/javascript' : 'text/html';
      readFile(join(dir, basename(name))).then(
        (body) => response.writeHead(200, { 'content-type': type }).end(body),
        () => response.writeHead(404).end(),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const { page, errors, context } = await openPage(browser);
      contexts.push(context);
      const topic = `hosted/${++topicNumber}`;
      await page.goto(
        `http://127.0.0.1:${port}/index.html?url=${encodeURIComponent(broker.wsUrl)}&topic=${topic}`,
      );
      await page.waitForFunction(
        () => (window as unknown as { mqimgDisplay?: DisplayStatus }).mqimgDisplay?.state === 'connected',
      );
      const delivered = await send(CARD, topic);
      await shown(page, delivered.sha256);
      expect(errors).toEqual([]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('measures the time from the last chunk to the image on screen', async () => {
    const { page, errors, topic } = await openDisplay();
    const files = [CARD, LANDSCAPE];
    for (let i = 0; i < 7; i++) await shown(page, (await send(files[i % 2] ?? CARD, topic)).sha256);
    const shownImages = (await status(page)).shown;
    expect(shownImages).toHaveLength(7);
    const sorted = (key: 'lastChunkToSwapMs' | 'lastChunkToFrameMs') =>
      shownImages.map((s) => s[key]).sort((a, b) => a - b);
    const median = (values: number[]) => values[Math.floor(values.length / 2)] ?? Number.NaN;
    const result = {
      images: shownImages.length,
      each: shownImages.map((s) => ({
        name: s.name,
        swapMs: Number(s.lastChunkToSwapMs.toFixed(1)),
        frameMs: Number(s.lastChunkToFrameMs.toFixed(1)),
      })),
      lastChunkToSwapMs: sorted('lastChunkToSwapMs'),
      lastChunkToFrameMs: sorted('lastChunkToFrameMs'),
      medianSwapMs: median(sorted('lastChunkToSwapMs')),
      medianFrameMs: median(sorted('lastChunkToFrameMs')),
    };
    writeFileSync(join(ARTIFACTS, 'display-latency.json'), `${JSON.stringify(result, null, 2)}\n`);
    expect(result.medianSwapMs).toBeGreaterThan(0);
    expect(result.medianSwapMs).toBeLessThan(1000);
    expect(errors).toEqual([]);
  });
});

describe('mqimg display refuses what cannot work, before serving anything', () => {
  it('exits 2 for a URL that is neither a broker nor a WebSocket one, and for an invalid topic filter', async () => {
    const mqttUrl = await runCli([
      'display',
      '--url',
      'http://127.0.0.1:1883',
      '--topic',
      'cam/1',
      '--port',
      '0',
    ]);
    expect(mqttUrl.code).toBe(2);
    expect(mqttUrl.stderr).toMatch(/--url http:\/\/127\.0\.0\.1:1883: give the broker as mqtt:\/\/HOST:PORT/);
    const badTopic = await runCli([
      'display',
      '--url',
      'ws://127.0.0.1:9001',
      '--topic',
      'cam/#/x',
      '--port',
      '0',
    ]);
    expect(badTopic.code).toBe(2);
    expect(badTopic.stderr).toMatch(/invalid --topic/);
  });

  it('mqimg broker --ws-port and mqimg display --port on a taken port exit 2 and say which option to change', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    try {
      const address = busy.address();
      const port = String(typeof address === 'object' && address ? address.port : 0);
      const broker = await runCli(['broker', '--port', '0', '--ws-port', port]);
      expect(broker.code).toBe(2);
      expect(broker.stderr).toMatch(/already in use.*pick another port with --ws-port/);
      const display = await runCli([
        'display',
        '--url',
        'ws://127.0.0.1:9001',
        '--topic',
        't',
        '--port',
        port,
        '--host',
        '127.0.0.1',
      ]);
      expect(display.code).toBe(2);
      expect(display.stderr).toMatch(/already in use: pick another with --port/);
    } finally {
      busy.close();
    }
  });
});

/**
 * `mqimg display --url mqtt://...`: a plain Mosquitto with no WebSocket listener and a password file, as Debian
 * ships it; the display server carries the page's MQTT, and the credentials stay in the server.
 */
describe.skipIf(!chromiumRequired())(
  'the display page through its server, to a broker without WebSockets',
  () => {
    it('shows each image sent to the broker, never gives the page the password, and serves only its own host names', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mqimg-relay-'));
      const passwords = join(dir, 'passwords');
      writeFileSync(passwords, '');
      execFileSync('mosquitto_passwd', ['-b', passwords, 'alice', 's3cret']);
      // Mosquitto started as root reads the file as its own user.
      chmodSync(dir, 0o755);
      chmodSync(passwords, 0o644);
      const mosquitto = await startMosquitto(['allow_anonymous false', `password_file ${passwords}`]);
      const browser = await launchChromium();
      /** `mqimg display --url mqtt://...` with this password, and the page's address once it serves. */
      const relayDisplay = async (password: string) => {
        const proc = startCli([
          'display',
          '--url',
          mosquitto.url,
          '-u',
          'alice',
          '-P',
          password,
          '--topic',
          'relay/1',
          '--port',
          '0',
          '--host',
          '127.0.0.1',
        ]);
        await proc.waitForOutput('display page at', 15_000);
        return { proc, address: /display page at (\S+)/.exec(proc.stdout())?.[1] ?? '' };
      };
      const { proc: display, address } = await relayDisplay('s3cret');
      try {
        const html = await (await fetch(address)).text();
        expect(html).not.toContain('s3cret');
        expect(html).toContain('"url":"/mqtt"');
        // DNS rebinding: the same server asked for under another name answers 421 and serves nothing.
        const rebound = await new Promise<number>((resolve, reject) => {
          const url = new URL(address);
          const request = httpRequest(
            { host: url.hostname, port: url.port, path: '/', headers: { host: `evil.example:${url.port}` } },
            (response) => {
              response.resume();
              resolve(response.statusCode ?? 0);
            },
          );
          request.on('error', reject);
          request.end();
        });
        expect(rebound).toBe(421);
        const { page, context } = await openPage(browser);
        try {
          await page.goto(`${address}?debug`);
          await page.waitForFunction(
            () => (window as unknown as { mqimgDisplay?: DisplayStatus }).mqimgDisplay?.state === 'connected',
          );
          for (const file of [CARD, join(SAMPLES, 'landscape.jpg')]) {
            const result = await runCli([
              'send',
              file,
              '-t',
              'relay/1',
              '--url',
              mosquitto.url,
              '-u',
              'alice',
              '-P',
              's3cret',
              '--receivers',
              '1',
              '--json',
            ]);
            expect(result.code, result.stderr).toBe(0);
            const delivered = JSON.parse(
              result.stdout.split('\n').find((l) => l.includes('"delivered"')) ?? '{}',
            ) as { sha256: string };
            await page
              .locator(`#stage [data-mqimg-sha256="${delivered.sha256}"]`)
              .waitFor({ state: 'attached', timeout: 20_000 });
          }
          // The overlay's progress line went once the image was shown.
          const overlay = (await page.locator('#overlay').textContent()) ?? '';
          expect(overlay).not.toMatch(/receiving landscape\.jpg: \d+ of \d+ chunks/);
        } finally {
          await context.close();
        }
        // With a wrong password, the overlay says why the page is offline: what the broker answered.
        const { proc: wrong, address: wrongAddress } = await relayDisplay('wrong');
        try {
          const opened = await openPage(browser);
          try {
            await opened.page.goto(`${wrongAddress}?debug`);
            await opened.page
              .locator('#overlay', { hasText: /not authori[sz]ed/i })
              .waitFor({ timeout: 20_000 });
          } finally {
            await opened.context.close();
          }
        } finally {
          wrong.child.kill('SIGTERM');
          await wrong.done;
        }
      } finally {
        display.child.kill('SIGTERM');
        await display.done;
        await browser.close();
        await mosquitto.stop();
      }
    }, 90_000);
  },
);
