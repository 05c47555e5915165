import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, MQIMG_BIN, runCli, SAMPLES, startCli, startReceiver } from '../helpers/cli.js';
import { jsonLines, tempDir } from '../helpers/files.js';
import { capture } from '../helpers/mqtt-capture.js';
import { freePort } from '../helpers/ports.js';

/** Everyday use (issue 14): the command line as a newcomer with mosquitto_pub/sub habits meets it. */
const CARD = join(SAMPLES, 'test-card.jpg');
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
let broker: CliProcess;
let port: number;

beforeAll(async () => {
  port = await freePort();
  broker = startCli(['broker', '--port', String(port)]);
  await broker.waitForOutput('listening');
});

afterAll(async () => {
  broker.child.kill('SIGINT');
  await broker.done;
});

describe('--url as people write it (item 2)', () => {
  it('takes host:port, and -h/-p as mosquitto_pub does', async () => {
    for (const [topic, connection] of [
      ['url/1', ['--url', `127.0.0.1:${port}`]],
      ['url/2', ['-h', '127.0.0.1', '-p', String(port)]],
    ] as const) {
      const out = tempDir('mqimg-url-');
      const rx = await startReceiver(['--out', out, '--once', '--topic', topic, ...connection]);
      const tx = await runCli(['send', CARD, '--topic', topic, ...connection]);
      expect(tx.code, tx.stderr).toBe(0);
      expect((await rx.done).code).toBe(0);
      expect(readdirSync(out)).toContain('test-card.jpg');
    }
  });

  it('refuses other schemes at once with exit 2, and --url together with -h', async () => {
    const started = performance.now();
    const http = await runCli(['send', CARD, '--topic', 'a', '--url', `http://127.0.0.1:${port}`]);
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/^mqimg: --url http:\/\/127\.0\.0\.1:\d+: mqimg speaks MQTT, not http:\/\//);
    expect(performance.now() - started).toBeLessThan(5000);
    const both = await runCli(['receive', '-o', tempDir(), '--url', 'localhost', '-h', 'other']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either as --url or as -h\/-p, not both/);
  });
});

describe('user mistakes are clear errors, not stack traces (item 3)', () => {
  it('mqimg broker on a port in use: exit 2 and what to do', async () => {
    const result = await runCli(['broker', '--port', String(port)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^mqimg: port \d+ on 127\.0\.0\.1 is already in use.*--port/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('receive --out naming a file: exit 2', async () => {
    const file = join(tempDir(), 'not-a-folder');
    writeFileSync(file, 'x');
    const result = await runCli(['receive', '--out', file, '--url', `127.0.0.1:${port}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^mqimg: --out .*not-a-folder: it exists and is not a folder/);
  });

  it('keygen into a missing folder: exit 2; keygen camera.key writes camera.key and camera.pub', async () => {
    const dir = tempDir();
    const missing = await runCli(['keygen', join(dir, 'sub/dir/cam')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/the folder .*sub\/dir does not exist \(create it first: mkdir -p/);
    const named = await runCli(['keygen', join(dir, 'camera.key')]);
    expect(named.code, named.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['camera.key', 'camera.pub']);
  });

  it('an unknown command fails, with --help too', async () => {
    for (const args of [['show', '--help'], ['show']]) {
      const result = await runCli(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^mqimg: unknown command 'show' \(commands: send, receive, clear/);
      expect(result.stdout).toBe('');
    }
  });
});

describe('--json: timestamps, and failures too (item 4)', () => {
  it('send --json prints a failed line with ts, code and exit code on stdout when it fails', async () => {
    const result = await runCli([
      'send',
      CARD,
      '--topic',
      'nobody/here',
      '--timeout',
      '1',
      '--json',
      '--url',
      `127.0.0.1:${port}`,
    ]);
    expect(result.code).toBe(6);
    const [failed] = jsonLines(result.stdout);
    expect(failed).toMatchObject({ event: 'failed', code: 'no_receiver', exitCode: 6, topic: 'nobody/here' });
    expect(String(failed?.ts)).toMatch(ISO);
    const usage = await runCli(['send', CARD, '--json', '--topic', 'a', '--quality', '0']);
    expect(usage.code).toBe(2);
    expect(jsonLines(usage.stdout)).toMatchObject([{ event: 'failed', code: 'usage', exitCode: 2 }]);
  });

  it('every event of send and receive carries ts; receivers say how long ago they were heard', async () => {
    const out = tempDir();
    const rx = await startReceiver([
      '--out',
      out,
      '--once',
      '--json',
      '--topic',
      'ts/1',
      '--url',
      `127.0.0.1:${port}`,
    ]);
    const tx = await runCli(['send', CARD, '--topic', 'ts/1', '--json', '--url', `127.0.0.1:${port}`]);
    expect(tx.code, tx.stderr).toBe(0);
    const received = await rx.done;
    const events = [...jsonLines(tx.stdout), ...jsonLines(received.stdout)];
    expect(events.map((e) => e.event)).toEqual(['delivered', 'started', 'completed']);
    for (const e of events) expect(String(e.ts)).toMatch(ISO);
    const [receiver] = (events[0]?.receivers ?? []) as Array<Record<string, unknown>>;
    expect(receiver).toMatchObject({ state: 'complete', acknowledgedChunks: events[0]?.chunks });
    expect(Number(receiver?.silentMs)).toBeGreaterThanOrEqual(0);
    expect(Number(receiver?.silentMs)).toBeLessThan(Number(events[0]?.durationMs) + 1000);
  });
});

describe('conflicting or ignored options are refused with exit 2 (item 5)', () => {
  it.each([
    [
      ['--format', 'original', '--resize', '320x240', '--quality', '10'],
      /--format original .* --resize, --quality would be ignored/,
    ],
    [
      ['--resize', '320x240', '--max-size', '100x100'],
      /'--resize <WxH>' cannot be used with option '--max-size <WxH>'/,
    ],
    [['--format', 'png', '--byte-order', 'be'], /--byte-order applies to --format rgb565 only/],
    [['--retain', '--receivers', '2'], /'-r, --retain' cannot be used with option '--receivers <n>'/],
    [['--no-supersede'], /--no-supersede applies to live feeds/],
  ])('send %j', async (extra, message) => {
    const result = await runCli(['send', CARD, '--topic', 'a', ...extra]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^mqimg: /);
  });

  it('receive --once --count 2', async () => {
    const result = await runCli(['receive', '-o', tempDir(), '--once', '--count', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^mqimg: option '--once' cannot be used with option '--count <n>'/);
  });
});

describe('feeds (item 6)', () => {
  it('send - --name names the image read from standard input', async () => {
    const out = tempDir();
    const rx = await startReceiver([
      '--out',
      out,
      '--once',
      '--json',
      '--topic',
      'stdin/1',
      '--url',
      `127.0.0.1:${port}`,
    ]);
    const tx = spawnSync(
      process.execPath,
      [MQIMG_BIN, 'send', '-', '--name', 'door.jpg', '--topic', 'stdin/1', '--url', `127.0.0.1:${port}`],
      {
        input: readFileSync(CARD),
        encoding: 'utf8',
      },
    );
    expect(tx.status, tx.stderr).toBe(0);
    expect(jsonLines((await rx.done).stdout).find((e) => e.event === 'completed')).toMatchObject({
      name: 'door.jpg',
    });
  });
});

describe('retained images: clear, and --max-age (item 7)', () => {
  it('mqimg clear removes a retained image, and a receiver with --max-age skips an old one', async () => {
    const url = `127.0.0.1:${port}`;
    const sent = await runCli(['send', CARD, '--topic', 'epaper/1', '--retain', '--url', url]);
    expect(sent.code, sent.stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Older than 1 s: skipped, said on stderr and as a JSON event; nothing saved.
    const skipping = startCli([
      'receive',
      '--out',
      tempDir(),
      '--json',
      '--max-age',
      '1',
      '--topic',
      'epaper/1',
      '--url',
      url,
    ]);
    await skipping.waitForOutput('"skipped"');
    skipping.child.kill('SIGINT');
    expect(jsonLines((await skipping.done).stdout).find((e) => e.event === 'skipped')).toMatchObject({
      reason: 'too_old',
      topic: 'epaper/1',
    });
    const cleared = await runCli(['clear', '--topic', 'epaper/1', '--url', url]);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stdout).toMatch(
      /^removed the retained image [0-9a-f]{16} on epaper\/1 \(\d+ retained messages\)/,
    );
    const again = await runCli(['clear', '--topic', 'epaper/+', '--url', url]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/no retained mqimg image on epaper\/\+/);
    // Nothing of it is left on the broker: a spy subscribing now is given no retained message.
    const left = await capture(`mqtt://${url}`, 'epaper/1', async () => {});
    expect(left.filter((m) => m.retain && m.payload.length > 0)).toEqual([]);
  });
});

describe('help texts and wording (item 9)', () => {
  it('shows defaults in human units, once, and counts chunks right', async () => {
    const relay = (await runCli(['relay', '--help'])).stdout;
    expect(relay).toMatch(/--timeout <seconds>[\s\S]*\(default: 30 s\)/);
    const receive = (await runCli(['receive', '--help'])).stdout;
    expect(receive).toMatch(/\(default: "?256M"?\)/);
    expect(receive).not.toMatch(/268435456/);
    const send = (await runCli(['send', '--help'])).stdout;
    expect(send).toMatch(/strip it all\)/);
    expect(send).not.toMatch(/\(default: false\)/);
    const one = await runCli([
      'send',
      join(SAMPLES, 'badge-alpha.png'),
      '--topic',
      'tiny/1',
      '--retain',
      '--url',
      `127.0.0.1:${port}`,
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/ in 1 chunk, /);
  });

  it('-v and MQIMG_DEBUG=1 print debug lines on stderr; without them there are none', async () => {
    const args = ['send', CARD, '--topic', 'debug/1', '--retain', '--url', `127.0.0.1:${port}`];
    expect((await runCli([...args, '-v'])).stderr).toMatch(/mqimg:send sending test-card\.jpg/);
    expect((await runCli(args, { MQIMG_DEBUG: '1' })).stderr).toMatch(/mqimg:exit exiting with 0/);
    expect((await runCli(args)).stderr).not.toMatch(/mqimg:/);
  });
});

describe('the demo (item 10)', () => {
  it('leaves no temporary folder behind', async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('mqimg-demo-'));
    const demo = await runCli(['demo']);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stderr).toMatch(/removed .*mqimg-demo-.*; pass --out DIR to keep/);
    const after = readdirSync(tmpdir()).filter((f) => f.startsWith('mqimg-demo-'));
    expect(after.filter((f) => !before.includes(f))).toEqual([]);
    const kept = join(tempDir(), 'kept');
    mkdirSync(kept);
    expect((await runCli(['demo', '--out', kept])).code).toBe(0);
    expect(existsSync(join(kept, 'test-card.jpg'))).toBe(true);
  });
});
