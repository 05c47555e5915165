import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, SAMPLES, startCli, startReceiver } from '../helpers/cli.js';
import { FIXTURE_IMAGES, tempDir, visibleFiles } from '../helpers/files.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { type MosquittoProcess, mosquittoRequired, startMosquitto } from '../helpers/mosquitto.js';
import { writeNoisePng } from '../helpers/noise-image.js';
import { freePort } from '../helpers/ports.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls-certs.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * The habits people bring from mosquitto_pub/sub (issue 23): its option names work, `-q 1` is never an image, HEIC
 * travels untouched, and mistakes are one line. Against real Mosquitto brokers: one with a password file, one
 * speaking TLS.
 */
const CARD = join(SAMPLES, 'test-card.jpg');

describe.skipIf(!mosquittoRequired())('mosquitto habits against a Mosquitto with a password file', () => {
  let broker: MosquittoProcess;
  let certs: TestCertificates;
  let tls: MosquittoProcess;
  let hp: string[];
  const alice = ['-u', 'alice', '-P', 's3cret'];
  beforeAll(async () => {
    const dir = tempDir('mqimg-habits-');
    const passwords = join(dir, 'passwords');
    writeFileSync(passwords, '');
    execFileSync('mosquitto_passwd', ['-b', passwords, 'alice', 's3cret']);
    chmodSync(dir, 0o755);
    chmodSync(passwords, 0o644);
    broker = await startMosquitto(['allow_anonymous false', `password_file ${passwords}`]);
    hp = ['-h', '127.0.0.1', '-p', String(broker.port)];
    certs = makeTestCertificates();
    tls = await startMosquitto([
      `cafile ${certs.caCert}`,
      `certfile ${certs.serverCert}`,
      `keyfile ${certs.serverKey}`,
    ]);
  });
  afterAll(async () => {
    await broker?.stop();
    await tls?.stop();
  });

  it('send -h -p -u -P -d and receive -u -P -i deliver the image; the broker sees the client id', async () => {
    const out = tempDir();
    const rx = await startReceiver(['-o', out, '--once', '-t', 'cam/1', ...hp, ...alice, '-i', 'disp-7']);
    const tx = await runCli(['send', CARD, '-t', 'cam/1', ...hp, ...alice, '-d']);
    expect(tx.code, tx.stderr).toBe(0);
    expect(tx.stdout).toMatch(/^sent test-card\.jpg to cam\/1: .*confirmed by 1 receiver/);
    expect(tx.stderr).toMatch(/mqimg:send sending test-card\.jpg/); // -d is -v: debug lines
    expect((await rx.done).code).toBe(0);
    expect(visibleFiles(out)).toEqual(['test-card.jpg']);
    expect(broker.log()).toMatch(/as disp-7 .*u'alice'/);
  });

  it('--receivers 2 with one receiver says 1 of 2 confirmed, not that it stalled at a chunk', async () => {
    const out = tempDir();
    const rx = await startReceiver(['-o', out, '--once', '-t', 'two/1', ...hp, ...alice]);
    const tx = await runCli([
      'send',
      CARD,
      '-t',
      'two/1',
      '--receivers',
      '2',
      '--timeout',
      '1',
      ...hp,
      ...alice,
    ]);
    expect(tx.code).toBe(6);
    expect(tx.stderr).toMatch(
      /^mqimg: 1 of 2 receivers confirmed test-card\.jpg, and no other made progress for 1 s .*start another receiver, or send with fewer --receivers\n$/,
    );
    expect((await rx.done).code).toBe(0);
  });

  it('~/.config/mqimg/config.json gives connection defaults; options and variables win', async () => {
    const home = tempDir('mqimg-home-');
    const configDir = join(home, '.config', 'mqimg');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, 'alice.pw'), 's3cret\n');
    const config = join(configDir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        url: `127.0.0.1:${broker.port}`,
        username: 'alice',
        'password-file': 'alice.pw',
        'client-id': 'from-config',
      }),
    );
    const env = { HOME: home, XDG_CONFIG_HOME: '' };
    const out = tempDir();
    const rx = await startReceiver(['-o', out, '--once', '-t', 'conf/1'], env);
    const tx = await runCli(['send', CARD, '-t', 'conf/1', '-i', 'sender-9'], env);
    expect(tx.code, tx.stderr).toBe(0);
    expect((await rx.done).code).toBe(0);
    expect(broker.log()).toMatch(/as from-config .*u'alice'/);
    expect(broker.log()).toMatch(/as sender-9 .*u'alice'/); // -i wins over the file's client-id
    const wrong = await runCli(['clear', '-t', 'conf/1'], { ...env, MQIMG_PASSWORD: 'wrong' });
    expect(wrong.code).toBe(5); // the variable wins over the file's password-file
    writeFileSync(config, JSON.stringify({ uri: 'mqtt://x' }));
    const typo = await runCli(['clear', '-t', 'conf/1'], env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(
      /^mqimg: config file .*config\.json: unknown key "uri"; did you mean "url"\?/,
    );
  });

  it('a sender run again continues the transfer: the receiver says continuing, not failed', async () => {
    const slow = await startLossyProxy(broker.port, { bytesPerSecond: 150_000 });
    try {
      const image = await writeNoisePng(500); // about 750 kB: five seconds through the proxy
      const out = tempDir();
      const rx = await startReceiver(['-o', out, '--once', '-t', 'again/1', '--url', slow.url, ...alice]);
      // 2 KiB chunks: 368 of them, more than the sender's window, so that the first is stopped while publishing.
      const send = [
        'send',
        image,
        '-t',
        'again/1',
        '--format',
        'original',
        '--chunk-size',
        '2K',
        ...hp,
        ...alice,
      ];
      const first = startCli(send);
      const partial = join(out, '.mqimg-partial');
      await waitUntil('the receiver to save partial state', () =>
        existsSync(partial) ? readdirSync(partial).some((f) => f.endsWith('.json')) : false,
      );
      first.child.kill('SIGINT');
      expect((await first.done).code).toBe(130);
      const second = await runCli(send);
      expect(second.code, second.stderr).toBe(0);
      const received = await rx.done;
      expect(received.code, received.stderr).toBe(0);
      expect(received.stderr).toMatch(
        /continuing transfer [0-9a-f]+ \(noise-500\.png\) as transfer [0-9a-f]+, sent again/,
      );
      expect(received.stderr).toMatch(
        /resuming noise-500\.png from again\/1: \d+ of 368 chunks already here/,
      );
      expect(received.stderr).not.toMatch(/failed/);
      expect(visibleFiles(out)).toEqual(['noise-500.png']);
    } finally {
      await slow.close();
    }
  });

  it('a wrong password exits 5 saying the broker did not authorise it', async () => {
    const tx = await runCli(['send', CARD, '-t', 'cam/1', ...hp, '-u', 'alice', '-P', 'wrong']);
    expect(tx.code).toBe(5);
    expect(tx.stderr).toMatch(
      /^mqimg: the broker at mqtt:\/\/127\.0\.0\.1:\d+ (says this client is not authorised|refused the user name or password)/,
    );
    expect(tx.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('send -r leaves the image retained for a receiver that connects later', async () => {
    const tx = await runCli(['send', CARD, '-t', 'frame/1', '-r', ...hp, ...alice]);
    expect(tx.code, tx.stderr).toBe(0);
    expect(tx.stdout).toMatch(/retained on the broker/);
    const out = tempDir();
    const rx = await startReceiver(['-o', out, '--once', '-t', 'frame/1', ...hp, ...alice]);
    expect((await rx.done).code).toBe(0);
    expect(visibleFiles(out)).toEqual(['test-card.jpg']);
    const cleared = await runCli(['clear', '-t', 'frame/1', ...hp, ...alice]);
    expect(cleared.code, cleared.stderr).toBe(0);
  });

  it('-q 1 is never read as a file: refused on send, the QoS on receive', async () => {
    const tx = await runCli(['send', '-t', 'cam/1', '-q', '1', CARD, ...hp, ...alice]);
    expect(tx.code).toBe(2);
    expect(tx.stderr).toMatch(/^mqimg: -q 1: mqimg send has no QoS to set .*drop it/);
    expect(tx.stderr).not.toMatch(/no such file/);
    const out = tempDir();
    const rx = await startReceiver(['-o', out, '--once', '-t', 'qos/1', '-q', '1', ...hp, ...alice, '-v']);
    const sent = await runCli(['send', CARD, '-t', 'qos/1', '-q', ...hp, ...alice]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^sent test-card\.jpg/); // -q alone is still --quiet: the result line only
    expect(sent.stderr).toBe('');
    expect((await rx.done).code).toBe(0);
    expect(visibleFiles(out)).toEqual(['test-card.jpg']);
    const bad = await runCli(['receive', '-o', out, '-q', '2', ...hp]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^mqimg: --qos 2: expected one of 0, 1 \(see mqimg receive --help\)\n$/);
  });

  it('send IMG_5195.HEIC --format original arrives byte-identical', async () => {
    const dir = tempDir();
    const heic = join(dir, 'IMG_5195.HEIC');
    copyFileSync(join(FIXTURE_IMAGES, 'photo.heic'), heic);
    const out = tempDir();
    const rx = await startReceiver(['-o', out, '--once', '-t', 'cam/heic', ...hp, ...alice]);
    const tx = await runCli([
      'send',
      heic,
      '--format',
      'original',
      '-t',
      'cam/heic',
      ...hp,
      ...alice,
      '--json',
    ]);
    expect(tx.code, tx.stderr).toBe(0);
    expect(JSON.parse(tx.stdout)).toMatchObject({ type: 'image/heic', width: 320, height: 240 });
    expect((await rx.done).code).toBe(0);
    expect(visibleFiles(out)).toEqual(['IMG_5195.heic']); // the receiver names the extension by the type
    expect(readFileSync(join(out, 'IMG_5195.heic')).equals(readFileSync(heic))).toBe(true);
  });

  it('--cafile is --ca: a TLS transfer with the CA given as mosquitto names it', async () => {
    const url = ['--url', `mqtts://localhost:${tls.port}`, '--cafile', certs.caCert];
    const out = tempDir();
    const rx = await startReceiver(['-o', out, '--once', '-t', 'tls/1', ...url]);
    const tx = await runCli(['send', CARD, '-t', 'tls/1', ...url]);
    expect(tx.code, tx.stderr).toBe(0);
    expect((await rx.done).code).toBe(0);
    expect(visibleFiles(out)).toEqual(['test-card.jpg']);
  });

  it('TLS or WebSocket spoken to a plain MQTT port, and plain MQTT to a TLS port, say so', async () => {
    for (const scheme of ['mqtts', 'ws'] as const) {
      const tx = await runCli(['clear', '-t', 'x', '--url', `${scheme}://127.0.0.1:${broker.port}`]);
      expect(tx.code).toBe(4);
      expect(tx.stderr).toMatch(
        new RegExp(
          `^mqimg: 127\\.0\\.0\\.1:${broker.port} is a plain MQTT port: it hung up on ${scheme === 'ws' ? 'WebSocket' : 'TLS'}\\. Use mqtt://`,
        ),
      );
    }
    const plain = await runCli(['clear', '-t', 'x', '-h', '127.0.0.1', '-p', String(tls.port)]);
    expect(plain.code).toBe(8);
    expect(plain.stderr).toMatch(/speaks TLS: connect with mqtts:\/\/127\.0\.0\.1:\d+ .*check -h\/-p/);
  });
});

describe('mistakes are one line and exit 2; the advice names the option given', () => {
  it('--background nocolour', async () => {
    const result = await runCli([
      'send',
      CARD,
      '-t',
      'a',
      '--resize',
      '10x10',
      '--fit',
      'contain',
      '--background',
      'nocolour',
      '-p',
      '1',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^mqimg: background "nocolour" is not a colour: give a CSS colour name/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('bad values of commander-checked options are one line too', async () => {
    for (const [args, message] of [
      [
        ['--quality', '0'],
        /^mqimg: --quality 0: expected a whole number from 1 to 100, got "0" \(see mqimg send --help\)\n$/,
      ],
      [
        ['--format', 'bmp'],
        /^mqimg: --format bmp: expected one of auto, jpeg, .*mono1 \(see mqimg send --help\)\n$/,
      ],
      [
        ['--retain', '--receivers', '2'],
        /^mqimg: option '-r, --retain' cannot be used with option '--receivers <n>' \(see/,
      ],
    ] as const) {
      const result = await runCli(['send', CARD, '-t', 'a', '-p', '1', ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    const missing = await runCli(['send', CARD]);
    expect(missing.stderr).toMatch(
      /^mqimg: required option '-t, --topic <topic>' not specified \(see mqimg send --help\)\n$/,
    );
  });

  it('did you mean: for commands and options; unknown options before missing ones', async () => {
    const sned = await runCli(['sned', CARD]);
    expect(sned.code).toBe(2);
    expect(sned.stderr).toMatch(/^mqimg: unknown command 'sned': did you mean send\? \(commands: send, /);
    const halp = await runCli(['send', '--halp']);
    expect(halp.code).toBe(2);
    expect(halp.stderr).toMatch(
      /^mqimg: unknown option '--halp'; did you mean --help\? \(see mqimg send --help\)\n$/,
    );
  });

  it('global options come before the command: mqimg -v send --help, mqimg -d receive --help', async () => {
    for (const [flag, command] of [
      ['-v', 'send'],
      ['-d', 'receive'],
    ] as const) {
      const result = await runCli([flag, command, '--help']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: mqimg ${command} `));
      expect(result.stdout).toMatch(/-h, --host <host>/);
      expect(result.stdout).toMatch(/\nExamples:\n {2}\$ mqimg /);
    }
    const main = await runCli(['--help']);
    expect(main.stdout).toMatch(/-V, --version/);
    expect(main.stdout).toMatch(/\nmqimg \d+\.\d+\.\d+\. Run mqimg COMMAND --help/);
  });

  it('a refused connection given with -h/-p says check -h/-p, not --url', async () => {
    const port = await freePort();
    const result = await runCli(['clear', '-t', 'x', '-h', '127.0.0.1', '-p', String(port)]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/connection refused.*check -h\/-p/);
    expect(result.stderr).not.toMatch(/--url/);
  });
});
