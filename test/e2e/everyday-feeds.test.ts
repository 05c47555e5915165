import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli, SAMPLES, startCli, startReceiver } from '../helpers/cli.js';
import { jsonLines, tempDir } from '../helpers/files.js';
import { freePort } from '../helpers/ports.js';

/** Feeds and displays in everyday use (issue 14, items 6 and 8), on the embedded broker. */
let broker: CliProcess;
let url: string;
let http: Server;
let snapshotUrl: string;

beforeAll(async () => {
  const port = await freePort();
  broker = startCli(['broker', '--port', String(port)]);
  await broker.waitForOutput('listening');
  url = `127.0.0.1:${port}`;
  const card = readFileSync(join(SAMPLES, 'test-card.jpg'));
  http = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(card));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const address = http.address();
  snapshotUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/snapshot.jpg`;
});

afterAll(async () => {
  await new Promise((resolve) => http.close(resolve));
  broker.child.kill('SIGINT');
  await broker.done;
});

describe('item 6: feeds', () => {
  it('--watch waits for a writer that pauses longer than the settle time: no spurious "could not be decoded"', async () => {
    const dir = tempDir();
    const out = tempDir();
    const rx = await startReceiver(['--out', out, '--once', '--json', '--topic', 'watch/1', '--url', url]);
    const tx = startCli(['send', '--watch', dir, '--topic', 'watch/1', '--format', 'original', '--url', url]);
    await tx.waitForStderr('watching');
    const landscape = readFileSync(join(SAMPLES, 'landscape.jpg'));
    writeFileSync(join(dir, 'slow.jpg'), landscape.subarray(0, 30_000));
    await sleep(1200); // four times the 300 ms settle time
    writeFileSync(join(dir, 'slow.jpg'), landscape);
    const received = await rx.done;
    expect(received.code, received.stderr).toBe(0);
    const completed = jsonLines(received.stdout).find((e) => e.event === 'completed');
    expect(readFileSync(String(completed?.path)).equals(landscape)).toBe(true);
    tx.child.kill('SIGINT');
    const sender = await tx.done;
    expect(sender.code).toBe(130);
    expect(sender.stderr).not.toMatch(/could not be decoded/);
  });

  it('--every on an unchanged snapshot sends it once and says "unchanged, skipped" instead of "sent" again', async () => {
    const out = tempDir();
    const rx = await startReceiver(['--out', out, '--json', '--topic', 'still/1', '--url', url]);
    const tx = startCli(['send', snapshotUrl, '--every', '300ms', '--topic', 'still/1', '--url', url]);
    await tx.waitForStderr(/snapshot\.jpg unchanged since the last one sent, skipped/);
    await sleep(1000);
    tx.child.kill('SIGINT');
    const sender = await tx.done;
    rx.child.kill('SIGINT');
    const received = await rx.done;
    expect(sender.stdout.match(/^sent /gm)).toHaveLength(1);
    expect(sender.stderr.match(/unchanged/g)).toHaveLength(1); // said once per run of repeats, not per poll
    expect(jsonLines(received.stdout).filter((e) => e.event === 'completed')).toHaveLength(1);
  });
});

describe('item 8: --verify-image with raw display formats', () => {
  it.each(['rgb565', 'gray4', 'mono1'])('saves a verified %s frame', async (format) => {
    const out = tempDir();
    const rx = await startReceiver([
      '--out',
      out,
      '--once',
      '--json',
      '--verify-image',
      '--topic',
      `raw/${format}`,
      '--url',
      url,
    ]);
    const tx = await runCli([
      'send',
      join(SAMPLES, 'test-card.jpg'),
      '--topic',
      `raw/${format}`,
      '--format',
      format,
      '--resize',
      '64x48',
      '--url',
      url,
    ]);
    expect(tx.code, tx.stderr).toBe(0);
    const received = await rx.done;
    expect(received.code, received.stderr).toBe(0);
    expect(jsonLines(received.stdout).find((e) => e.event === 'completed')).toMatchObject({
      width: 64,
      height: 48,
    });
  });
});
