import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliEvents, runCli, SAMPLES, startCli, startReceiver, waitForEvent } from '../helpers/cli.js';
import { tempDir as makeTempDir, visibleFiles } from '../helpers/files.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { type MosquittoProcess, mosquittoRequired, startMosquitto } from '../helpers/mosquitto.js';
import { writeNoisePng } from '../helpers/noise-image.js';
import { sendAsIs } from '../helpers/transfer.js';

const tempDir = () => makeTempDir('mqimg-failover-');
const IMAGE = join(SAMPLES, 'test-card.jpg');

/** Mosquitto's dynamic security plugin, which refuses subscriptions in SUBACK (its acl_file only filters delivery). */
const DYNSEC = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']
  .map((dir) => join(dir, 'mosquitto_dynamic_security.so'))
  .find((path) => existsSync(path));

/**
 * A Mosquitto whose anonymous clients may not subscribe under `secret/`: SUBACK 0x87 (MQTT 5) or 0x80 (3.1.1). On
 * `port` when given (a broker restarted with another configuration).
 */
async function startRefusingMosquitto(port?: number): Promise<MosquittoProcess> {
  const dir = tempDir();
  const config = join(dir, 'dynsec.json');
  writeFileSync(
    config,
    JSON.stringify({
      defaultACLAccess: {
        publishClientSend: true,
        publishClientReceive: true,
        subscribe: true,
        unsubscribe: true,
      },
      clients: [],
      groups: [{ groupname: 'anonymous', roles: [{ rolename: 'no-secrets' }] }],
      roles: [
        {
          rolename: 'no-secrets',
          acls: [{ acltype: 'subscribePattern', topic: 'secret/#', priority: 0, allow: false }],
        },
      ],
      anonymousGroup: 'anonymous',
    }),
  );
  chmodSync(config, 0o666); // Mosquitto started as root runs as 'mosquitto' and rewrites it
  return startMosquitto(
    ['allow_anonymous true', `plugin ${DYNSEC}`, `plugin_opt_config_file ${config}`],
    port,
    dir,
  );
}

/** The lines mqimg printed as its final error (`mqimg: ...`), without progress or connection lines. */
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('mqimg: '));

describe.skipIf(!mosquittoRequired() || DYNSEC === undefined)('a subscription the broker refuses', () => {
  let broker: MosquittoProcess;
  beforeAll(async () => {
    broker = await startRefusingMosquitto();
    return () => broker.stop();
  });

  it('MQTT 5 "not authorised": receive exits 5 (auth_refused) at once, in one clear line, not 1', async () => {
    const out = tempDir();
    const rx = await runCli([
      'receive',
      '--out',
      out,
      '--topic',
      'secret/cam',
      '--url',
      broker.url,
      '--once',
    ]);
    expect(rx.code, rx.stderr).toBe(5);
    expect(rx.stderr).not.toMatch(/unexpected error/);
    expect(errorLines(rx.stderr)).toEqual([
      expect.stringMatching(
        /^mqimg: the broker at mqtt:\/\/127\.0\.0\.1:\d+ refused the subscription to secret\/cam\/mqimg\/\+\/m.* \(not authorised\): check the broker's ACL for this user$/,
      ),
    ]);
  });

  it('MQTT 3.1.1, which gives no reason: asked again with backoff, then exit 4 (subscription_refused) after --timeout', async () => {
    const out = tempDir();
    const rx = await runCli([
      ...['receive', '--out', out, '--topic', 'secret/cam', '--url', broker.url, '--once'],
      ...['--mqtt-version', '3.1.1', '--timeout', '2', '--json', '-v'],
    ]);
    expect(rx.code, rx.stderr).toBe(4);
    expect(rx.stderr).not.toMatch(/unexpected error/);
    expect(rx.stderr).toMatch(
      /refused the subscription to secret\/cam\/mqimg\/\+\/m.*\(0x80 unspecified error\); asking again for up to 2 s/,
    );
    expect(rx.stderr).toMatch(/refused again \(0x80 unspecified error, attempt 2\); next attempt in 1 s/); // -v
    expect(rx.stderr).toMatch(/kept refusing the subscription to secret\/cam\/mqimg\/\+\/m.* for 2 s/);
    const failed = cliEvents({ stdout: () => rx.stdout } as never).at(-1);
    expect(failed).toMatchObject({ event: 'failed', code: 'subscription_refused', exitCode: 4 });
  });

  it('a receiver whose broker comes back refusing its subscriptions (a NATS node recovering) asks again, and hears again once they are granted', async () => {
    const first = await startMosquitto();
    let refusing: MosquittoProcess | undefined;
    let healed: MosquittoProcess | undefined;
    try {
      const out = tempDir();
      const rx = await startReceiver([
        ...['--out', out, '--topic', 'secret/cam', '--once', '--url', first.url],
        ...['--mqtt-version', '3.1.1', '--timeout', '60'],
      ]);
      await first.stop();
      refusing = await startRefusingMosquitto(first.port);
      await rx.waitForStderr(
        /refused the subscription to secret\/cam\/mqimg\/\+\/m.*asking again for up to 60 s/,
      );
      await refusing.stop();
      healed = await startMosquitto([], first.port);
      await rx.waitForStderr(/accepted the subscription to secret\/cam\/mqimg\/\+\/m.* after \d+ refusals?/);
      const tx = await runCli(['send', IMAGE, '--topic', 'secret/cam', '--url', healed.url]);
      expect(tx.code, tx.stderr).toBe(0);
      const done = await rx.done;
      expect(done.code, done.stderr).toBe(0);
      expect(visibleFiles(out)).toEqual(['test-card.jpg']);
    } finally {
      await first.stop();
      await refusing?.stop();
      await healed?.stop();
    }
  });

  it('a sender whose status subscription is refused exits 5 saying so, not 1 ("unexpected error")', async () => {
    const tx = await runCli(['send', IMAGE, '--topic', 'secret/cam', '--url', broker.url, '--timeout', '3']);
    expect(tx.code, tx.stderr).toBe(5);
    expect(errorLines(tx.stderr)).toEqual([
      expect.stringMatching(
        /refused the subscription to secret\/cam\/mqimg\/[0-9a-f]{16}\/r \(not authorised\)/,
      ),
    ]);
  });
});

describe.skipIf(!mosquittoRequired())('fail-over: --url given twice', () => {
  let source: string;
  let sourceBytes: Buffer;
  beforeAll(async () => {
    source = await writeNoisePng(600); // ~1.08 MB: ~1,055 chunks of 1 KiB
    sourceBytes = readFileSync(source);
  });

  it('a receiver and a sender whose broker dies mid-transfer move to the next one: the file arrives whole, send exits 0, and later images are saved too', async () => {
    const a = await startMosquitto();
    const b = await startMosquitto();
    // The receiver reads from A slowly, so that A dies in the middle of the transfer.
    const slowA = await startLossyProxy(a.port, { bytesPerSecond: 250_000 });
    try {
      const out = tempDir();
      const rx = await startReceiver([
        '--out',
        out,
        '--count',
        '2',
        '--json',
        '--url',
        slowA.url,
        '--url',
        b.url,
      ]);
      const tx = startCli([
        'send',
        ...sendAsIs(source, 'failover/cam', '1K'),
        ...['--url', `${a.url},${b.url}`, '--timeout', '20'],
      ]);
      await waitForEvent(rx, { event: 'started' }, 20_000);
      expect(cliEvents(rx).some((e) => e.event === 'completed')).toBe(false);
      await a.stop(); // mid-transfer
      const sent = await tx.done;
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stderr).toContain(`moved from ${a.url} to ${b.url}`);
      await waitForEvent(rx, { event: 'completed' }, 20_000);
      expect(readFileSync(join(out, 'noise-600.png')).equals(sourceBytes)).toBe(true);
      expect(rx.stderr()).toContain(`moved from ${slowA.url} to ${b.url}`);
      expect(rx.stderr().match(/moved from/g)).toHaveLength(1); // said once per move
      // After: A is still down; a new send given both brokers connects to B, and the receiver saves it.
      const next = await runCli(['send', IMAGE, '--topic', 'failover/cam', '--url', `${a.url},${b.url}`]);
      expect(next.code, next.stderr).toBe(0);
      const done = await rx.done;
      expect(done.code, done.stderr).toBe(0);
      expect(visibleFiles(out).sort()).toEqual(['noise-600.png', 'test-card.jpg']);
      expect(done.stderr).not.toMatch(/unexpected error/);
    } finally {
      await slowA.close();
      await a.stop();
      await b.stop();
    }
  });

  it('a long-running receiver keeps receiving after its first broker dies between images', async () => {
    const a = await startMosquitto();
    const b = await startMosquitto();
    try {
      const out = tempDir();
      const rx = await startReceiver(['--out', out, '--count', '2', '--url', a.url, '--url', b.url]);
      const first = await runCli(['send', IMAGE, '--topic', 'cam/door', '--url', a.url]);
      expect(first.code, first.stderr).toBe(0);
      await a.stop();
      await rx.waitForStderr(`moved from ${a.url} to ${b.url}`);
      const second = await runCli([
        'send',
        join(SAMPLES, 'landscape.jpg'),
        '--topic',
        'cam/door',
        '--url',
        b.url,
      ]);
      expect(second.code, second.stderr).toBe(0);
      const done = await rx.done;
      expect(done.code, done.stderr).toBe(0);
      expect(visibleFiles(out).sort()).toEqual(['landscape.jpg', 'test-card.jpg']);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('bad lists are refused in one line, exit 2: an empty item, mixed schemes, -h with several brokers', async () => {
    const out = tempDir();
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--url', 'mqtt://a:1883,,mqtt://b:1883'], {}, /empty broker URL in the list/],
      [[], { MQIMG_URL: 'mqtt://a:1883,' }, /empty broker URL in the list/],
      [['--url', 'mqtts://a:8883', '--url', 'mqtt://b:1883'], {}, /mix mqtts:\/\/ and mqtt:\/\//],
      [['-p', '1884'], { MQIMG_URL: 'a,b' }, /-h\/-p replace the host and port of one broker/],
    ];
    for (const [args, env, message] of cases) {
      const result = await runCli(['receive', '--out', out, '--once', ...args], env);
      expect(result.code, result.stderr).toBe(2);
      expect(errorLines(result.stderr)).toEqual([expect.stringMatching(message)]);
    }
    // The display page does not fail over: a list is refused, not taken for one strange URL.
    const display = await runCli(['display', '--url', 'ws://a:9001,ws://b:9001', '-t', 'cam/1']);
    expect(display.code, display.stderr).toBe(2);
    expect(errorLines(display.stderr)).toEqual([
      expect.stringMatching(/^mqimg: display takes one broker, not a list/),
    ]);
  });
});
