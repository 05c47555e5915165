import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, MQIMG_BIN, runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/files.js';
import { type LossyProxy, startLossyProxy } from '../helpers/lossy-proxy.js';
import { writeNoisePng } from '../helpers/noise-image.js';
import { freePort } from '../helpers/ports.js';

/**
 * Progress on a terminal (issue 14, item 1): send and receive run in a pseudo-terminal (tmux), the receiver behind
 * a proxy that lets through 150 kB/s, so that a 750 kB image takes about five seconds and the bars can be read.
 */
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const socket = `mqimg-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
/** Runs `mqimg ...args` in a new 150x12 terminal named `name`; the pane stays after it exits, with its code. */
const inTerminal = (name: string, args: string[], columns = 150) =>
  tmux(
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    String(columns),
    '-y',
    '12',
    `${process.execPath} ${MQIMG_BIN} ${args.join(' ')}; echo "exit=$?"; sleep 60`,
  );
const screen = (name: string) => tmux('capture-pane', '-p', '-t', name);
/** Waits until the terminal `name` shows text matching `pattern`; returns the screen. */
async function waitForScreen(name: string, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const text = screen(name);
    if (pattern.test(text)) return text;
    if (performance.now() > deadline) throw new Error(`${name} never showed ${pattern}:\n${text}`);
    await sleep(100);
  }
}

// In CI a missing tmux must fail, not skip (.ci/run installs it).
describe.skipIf(!hasTmux && process.env.CI !== 'true')('progress display in a terminal', () => {
  let broker: CliProcess;
  let port: number;
  let slow: LossyProxy;
  let image: string;
  beforeAll(async () => {
    port = await freePort();
    broker = startCli(['broker', '--port', String(port)]);
    await broker.waitForOutput('listening');
    slow = await startLossyProxy(port, { bytesPerSecond: 150_000 });
    image = await writeNoisePng(500); // about 750 kB that no encoder shrinks
  });
  afterAll(async () => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    await slow?.close();
    broker?.child.kill('SIGINT');
    await broker?.done;
  });

  it('shows bytes, rate, receivers and resends while it runs, then only the result lines', async () => {
    const out = tempDir();
    inTerminal('rx', ['receive', '--out', out, '--once', '--url', slow.url]);
    await waitForScreen('rx', /receiving into/);
    inTerminal('tx', ['send', image, '--topic', 'tty/1', '--url', `127.0.0.1:${port}`]);
    const sending = await waitForScreen(
      'tx',
      /noise-500\.png -> tty\/1 .*\d+% \d.* kB of 752 kB, .*kB\/s, 1 receiver, \d+ resent/,
    );
    expect(sending).toMatch(/[█░]{24}/);
    await waitForScreen('rx', /noise-500\.png <- tty\/1 .*\d+% .* of 752 kB, .*kB\/s/);
    const sent = await waitForScreen('tx', /exit=0/);
    expect(sent).toMatch(/^sent noise-500\.png to tty\/1: 751,906 bytes in 23 chunks/m);
    expect(sent).not.toMatch(/[█░]/);
    const received = await waitForScreen('rx', /exit=0/);
    expect(received).toMatch(/noise-500\.png\t751,906 bytes|noise-500\.png\s+751,906 bytes/);
    expect(received).not.toMatch(/[█░]/);
  });

  it('at 80 columns the line fits, and keeps the rate and the time left (issue 23)', async () => {
    const out = tempDir();
    inTerminal('rx80', ['receive', '--out', out, '--once', '--url', slow.url], 80);
    await waitForScreen('rx80', /receiving into/);
    inTerminal('tx80', ['send', image, '--topic', 'tty/80', '--url', `127.0.0.1:${port}`], 80);
    const sending = await waitForScreen('tx80', /noise-500\.png -> tty\/80 .*\d+% .*kB\/s.*\d+:\d\d left/);
    const line = sending.split('\n').find((l) => l.includes('-> tty/80')) ?? '';
    expect(line.trimEnd().length).toBeLessThan(80);
    const receiving = await waitForScreen('rx80', /noise-500\.png <- tty\/80 .*\d+% .*kB\/s.*\d+:\d\d left/);
    const rxLine = receiving.split('\n').find((l) => l.includes('<- tty/80')) ?? '';
    expect(rxLine.trimEnd().length).toBeLessThan(80);
    expect(await waitForScreen('tx80', /exit=0/)).toMatch(/^sent noise-500\.png to tty\/80/m);
    await waitForScreen('rx80', /exit=0/);
  });

  it('Ctrl-C says what is kept for resuming, on both sides (exit 130)', async () => {
    const out = tempDir();
    inTerminal('rx2', ['receive', '--out', out, '--url', slow.url]);
    await waitForScreen('rx2', /receiving into/);
    inTerminal('tx2', ['send', image, '--topic', 'tty/2', '--format', 'png', '--url', `127.0.0.1:${port}`]);
    await waitForScreen('rx2', /<- tty\/2 .*[1-9]\d*%/);
    tmux('send-keys', '-t', 'rx2', 'C-c');
    const stopped = await waitForScreen('rx2', /exit=130/);
    expect(stopped.replace(/\n/g, '')).toMatch(
      /mqimg: interrupted: 1 transfer in progress \(752 kB\) kept in .*\.mqimg-partial; run mqimg receive again with the same --out to resume/,
    );
    tmux('send-keys', '-t', 'tx2', 'C-c');
    const sender = await waitForScreen('tx2', /exit=130/);
    expect(sender.replace(/\n/g, '')).toMatch(
      /mqimg: interrupted: noise-500\.png was not confirmed \(\d+ of 23 chunks acknowledged\); receivers keep what they hold, and running the same command again resumes it/,
    );
  });

  it('shows no progress when the output is not a terminal, nor with --json or --quiet', async () => {
    const out = tempDir();
    const rx = startCli(['receive', '--out', out, '--once', '--url', slow.url]);
    await rx.waitForStderr('receiving into');
    const tx = await runCli(['send', image, '--topic', 'pipe/1', '--url', `127.0.0.1:${port}`]);
    expect(tx.code, tx.stderr).toBe(0);
    const rxResult = await rx.done;
    for (const text of [tx.stderr, rxResult.stderr]) {
      expect(text).not.toMatch(/[█░%]/);
      expect(text).not.toContain(`${String.fromCharCode(27)}[`); // no escape sequences
    }
    inTerminal('quiet', [
      'send',
      join(image),
      '--topic',
      'quiet/1',
      '--json',
      '--timeout',
      '2',
      '--url',
      `127.0.0.1:${port}`,
    ]);
    const quiet = await waitForScreen('quiet', /exit=6/);
    expect(quiet).not.toMatch(/[█░]|waiting for a receiver/);
  });
});
