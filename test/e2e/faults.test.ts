import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, startCli, startReceiver } from '../helpers/cli.js';
import { jsonLines, tempDir as makeTempDir, visibleFiles } from '../helpers/files.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import {
  type MosquittoProcess,
  mosquittoRequired,
  startMosquitto,
  useMosquitto,
} from '../helpers/mosquitto.js';
import { writeNoisePng } from '../helpers/noise-image.js';
import { sendAsIs } from '../helpers/transfer.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = () => makeTempDir('mqimg-faults-');

/** Waits until the receiver's saved partial state for the transfer says it holds at least `bytes` bytes. */
function waitForPartial(out: string, bytes: number, timeoutMs = 20_000): Promise<true> {
  const dir = join(out, '.mqimg-partial');
  return waitUntil(
    `the receiver to save partial state holding ${bytes} bytes`,
    () => {
      try {
        const states = readdirSync(dir).filter((f) => f.endsWith('.json'));
        if (states.length === 0) return false;
        const state = JSON.parse(readFileSync(join(dir, states[0] ?? ''), 'utf8')) as { bitmap: string };
        const held = [...Buffer.from(state.bitmap, 'base64')].reduce((n, b) => n + popcount(b), 0);
        return held * 1024 >= bytes;
      } catch {
        return false; // not there yet, or being replaced
      }
    },
    { timeoutMs, everyMs: 100 },
  );
}
const popcount = (b: number) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
};

describe.skipIf(!mosquittoRequired())('faults: processes and brokers that die mid-transfer', () => {
  const broker = useMosquitto();
  let source: string;
  let sourceBytes: Buffer;
  beforeAll(async () => {
    source = await writeNoisePng(600); // ~1.08 MB: ~1,055 chunks of 1 KiB
    sourceBytes = readFileSync(source);
  });

  const send = (topic: string, url: string, extra: string[] = []): CliProcess =>
    startCli(['send', ...sendAsIs(source, topic, '1K'), '--url', url, ...extra]);

  it('a receiver killed mid-transfer and started again with the same --out resumes and asks only for what it lacks', async () => {
    const out = tempDir();
    const proxy = await startLossyProxy(broker.port, { bytesPerSecond: 250_000 });
    try {
      const first = await startReceiver(['--out', out, '--once', '--json', '--url', proxy.url]);
      const sender = send('faults/rx-restart', broker.url, ['--timeout', '20']);
      await waitForPartial(out, 300_000);
      first.child.kill('SIGKILL');
      await first.done;
      expect(visibleFiles(out)).toEqual([]);
      const second = startCli(['receive', '--out', out, '--once', '--json', '--url', broker.url]);
      const [tx, rx] = await Promise.all([sender.done, second.done]);
      expect(tx.code, tx.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
      const started = jsonLines(rx.stdout).find((e) => e.event === 'started');
      expect(Number(started?.resumedWith)).toBeGreaterThanOrEqual(290);
      expect(readFileSync(join(out, 'noise-600.png')).equals(sourceBytes)).toBe(true);
      expect(readdirSync(join(out, '.mqimg-partial'))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('a sender killed mid-transfer and run again continues: receivers are not sent what they hold', async () => {
    const out = tempDir();
    const proxy = await startLossyProxy(broker.port, { bytesPerSecond: 250_000 });
    try {
      const rx = await startReceiver(['--out', out, '--once', '--json', '--url', proxy.url]);
      const first = send('faults/tx-restart', broker.url);
      await waitForPartial(out, 500_000);
      first.child.kill('SIGKILL');
      await first.done;
      const second = send('faults/tx-restart', broker.url);
      const [tx, received] = await Promise.all([second.done, rx.done]);
      expect(tx.code, tx.stderr).toBe(0);
      expect(received.code, received.stderr).toBe(0);
      const delivered = jsonLines(tx.stdout)[0] ?? {};
      // The receiver held about half; the second sender publishes the rest and a window's worth of overlap at most.
      expect(Number(delivered.publishedChunks)).toBeLessThan(0.75 * Number(delivered.chunks));
      expect(readFileSync(join(out, 'noise-600.png')).equals(sourceBytes)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  for (const persistence of [false, true]) {
    it(`both sides ride out a broker restart (persistence ${persistence ? 'on' : 'off'})`, async () => {
      const own = await startMosquitto(persistence ? ['persistence true', 'autosave_interval 1'] : []);
      let restarted: MosquittoProcess | undefined;
      const proxy = await startLossyProxy(own.port, { bytesPerSecond: 250_000 });
      try {
        const out = tempDir();
        const rx = await startReceiver(['--out', out, '--once', '--json', '--url', proxy.url]);
        const tx = send('faults/broker', own.url, ['--timeout', '20']);
        await waitForPartial(out, 200_000);
        await own.stop();
        // The broker is down until both sides have noticed (and so will have to reconnect and resume).
        await Promise.all([rx.waitForStderr(/lost the connection/), tx.waitForStderr(/lost the connection/)]);
        restarted = await startMosquitto(
          persistence ? ['persistence true', 'autosave_interval 1'] : [],
          own.port,
          own.dir,
        );
        const [sent, received] = await Promise.all([tx.done, rx.done]);
        expect(sent.code, sent.stderr).toBe(0);
        expect(received.code, received.stderr).toBe(0);
        expect(sent.stderr).toMatch(/reconnected/);
        expect(received.stderr).toMatch(/reconnected/);
        expect(readFileSync(join(out, 'noise-600.png')).equals(sourceBytes)).toBe(true);
      } finally {
        await proxy.close();
        await restarted?.stop();
        await own.stop();
      }
    });
  }

  it('connections cut or stalled under the receiver and the sender: both reconnect and the transfer completes', async () => {
    const toReceiver = await startLossyProxy(broker.port, { bytesPerSecond: 250_000 });
    const toSender = await startLossyProxy(broker.port, {});
    try {
      const out = tempDir();
      const rx = await startReceiver(['--out', out, '--once', '--json', '--url', toReceiver.url]);
      const tx = send('faults/cut', toSender.url, ['--timeout', '20']);
      await waitForPartial(out, 150_000);
      toReceiver.cut();
      await waitForPartial(out, 400_000);
      toSender.cut();
      await tx.waitForStderr(/reconnected/);
      toReceiver.stall(2000);
      toSender.stall(1500);
      const [sent, received] = await Promise.all([tx.done, rx.done]);
      expect(sent.code, sent.stderr).toBe(0);
      expect(received.code, received.stderr).toBe(0);
      expect(sent.stderr).toMatch(/lost the connection/);
      expect(received.stderr).toMatch(/lost the connection/);
      expect(readFileSync(join(out, 'noise-600.png')).equals(sourceBytes)).toBe(true);
    } finally {
      await toReceiver.close();
      await toSender.close();
    }
  });

  it('a broker that stays down ends the sender with a clear message after --timeout', async () => {
    const own = await startMosquitto();
    const out = tempDir();
    const proxy = await startLossyProxy(own.port, { bytesPerSecond: 250_000 });
    try {
      const rx = await startReceiver(['--out', out, '--json', '--timeout', '3', '--url', proxy.url]);
      const tx = send('faults/gone', own.url, ['--timeout', '3']);
      await waitForPartial(out, 100_000);
      await own.stop();
      const sent = await tx.done;
      expect(sent.code, sent.stdout + sent.stderr).toBe(4);
      expect(sent.stderr).toMatch(/lost the connection to .* and it did not come back within 3 s/);
      rx.child.kill('SIGINT');
      expect((await rx.done).code).toBe(130);
      expect(visibleFiles(out)).toEqual([]);
    } finally {
      await proxy.close();
      await own.stop();
    }
  });
});
