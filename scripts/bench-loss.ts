/**
 * mqimg loss and slow-link benchmark: `npm run bench` runs it after scripts/bench.ts (alone: `npm run build &&
 * tsx scripts/bench-loss.ts`; BENCH_RUNS=5 for more runs). Prints Markdown tables of medians.
 *
 * On one Mosquitto with default limits started for the purpose, in one run and side by side:
 *  - loss: the receiver behind a proxy that drops each chunk PUBLISH (first copies and resends alike) with
 *    probability 5% (seeded, so every run loses the same messages), against the same transfer with no loss,
 *    at 1 KiB chunks (2.2 MB) and at 32 KiB chunks (16 MB);
 *  - slow links: two receivers each behind a 100 KB/s link, one of them stopped 3 s in (SIGKILL, then Ctrl-C =
 *    SIGINT): chunks published against the file's chunks, and the time from the remaining receiver's completion to
 *    the sender's exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLossyProxy } from '../test/helpers/lossy-proxy.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import {
  BIN,
  fmt,
  MB,
  machineLine,
  makePayload,
  median,
  RUNS,
  seededRandom,
  waitExit,
  waitForText,
} from './bench/common.js';

const work = mkdtempSync(join(tmpdir(), 'mqimg-bench-loss-'));
const LOSS = 0.05;
/** Receiver link rate in the slow-link cases, bytes per second. */
const SLOW_RATE = 100_000;

interface Receiver {
  child: ChildProcess;
  /** Resolves with the exit code (listened for from the start: it may exit before anyone waits). */
  exited: Promise<number | null>;
  out: string;
  /** performance.now() when it printed its `completed` event, NaN before. */
  completedAt: () => number;
}

async function startReceiver(url: string): Promise<Receiver> {
  const out = mkdtempSync(join(work, 'rx-'));
  const child = spawn(process.execPath, [BIN, 'receive', '--out', out, '--once', '--json', '--url', url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = waitExit(child);
  await waitForText(child, 'stderr', 'receiving into');
  let completed = Number.NaN;
  let text = '';
  child.stdout?.on('data', (d) => {
    text += d;
    if (Number.isNaN(completed) && text.includes('"completed"')) completed = performance.now();
  });
  return { child, exited, out, completedAt: () => completed };
}

interface SendResult {
  code: number | null;
  seconds: number;
  exitAt: number;
  chunks: number;
  published: number;
  retransmitted: number;
  transferSeconds: number;
}

async function send(
  url: string,
  file: string,
  chunkBytes: number,
  extra: string[] = [],
): Promise<SendResult> {
  const t0 = performance.now();
  const tx = spawn(
    process.execPath,
    [
      BIN,
      'send',
      file,
      '--topic',
      'bench/loss',
      '--format',
      'original',
      '--chunk-size',
      String(chunkBytes),
      '--json',
      '--url',
      url,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  tx.stdout?.on('data', (d) => (out += d));
  tx.stderr?.on('data', (d) => (err += d));
  const code = await waitExit(tx);
  const exitAt = performance.now();
  const report = JSON.parse(out.split('\n').find((l) => l.startsWith('{')) ?? '{}');
  if (code !== 0) process.stderr.write(`send exited ${code}: ${err}\n`);
  return {
    code,
    seconds: (exitAt - t0) / 1000,
    exitAt,
    chunks: report.chunks ?? Number.NaN,
    published: report.publishedChunks ?? Number.NaN,
    retransmitted: report.retransmittedChunks ?? Number.NaN,
    transferSeconds: (report.durationMs ?? Number.NaN) / 1000,
  };
}

interface LossSample {
  transferSeconds: number;
  dropped: number;
  resent: number;
  ok: boolean;
}

async function lossRun(
  brokerPort: number,
  brokerUrl: string,
  file: string,
  chunkBytes: number,
  loss: number,
) {
  const random = seededRandom(12345 + chunkBytes);
  const proxy = await startLossyProxy(brokerPort, (topic) => /\/c\/\d+$/.test(topic) && random() < loss);
  try {
    const rx = await startReceiver(proxy.url);
    const tx = await send(brokerUrl, file, chunkBytes);
    const rxCode = await rx.exited;
    const saved = readdirSync(rx.out).filter((f) => !f.startsWith('.'));
    rmSync(rx.out, { recursive: true, force: true });
    return {
      transferSeconds: tx.transferSeconds,
      dropped: proxy.dropped(),
      resent: tx.retransmitted,
      ok: tx.code === 0 && rxCode === 0 && saved.length === 1,
    } satisfies LossSample;
  } finally {
    await proxy.close();
  }
}

interface SlowSample {
  chunks: number;
  published: number;
  lagSeconds: number;
  seconds: number;
  ok: boolean;
}

async function slowRun(brokerPort: number, brokerUrl: string, file: string, signal: NodeJS.Signals) {
  const proxies = [
    await startLossyProxy(brokerPort, { bytesPerSecond: SLOW_RATE }),
    await startLossyProxy(brokerPort, { bytesPerSecond: SLOW_RATE }),
  ];
  try {
    const [a, b] = await Promise.all(proxies.map((p) => startReceiver(p.url)));
    if (!a || !b) throw new Error('receivers did not start');
    const stopper = setTimeout(() => b.child.kill(signal), 3000);
    const tx = await send(brokerUrl, file, 1024, ['--receivers', '1']);
    clearTimeout(stopper);
    const aCode = await a.exited;
    b.child.kill('SIGKILL');
    const saved = readdirSync(a.out).filter((f) => !f.startsWith('.'));
    for (const r of [a, b]) rmSync(r.out, { recursive: true, force: true });
    return {
      chunks: tx.chunks,
      published: tx.published,
      lagSeconds: (tx.exitAt - a.completedAt()) / 1000,
      seconds: tx.seconds,
      ok: tx.code === 0 && aCode === 0 && saved.length === 1,
    } satisfies SlowSample;
  } finally {
    for (const p of proxies) await p.close();
  }
}

async function main() {
  const mosquitto = await startMosquitto();
  process.stderr.write(`payloads in ${work}\n`);
  const lossCases = [
    { chunkBytes: 1024, file: await makePayload(work, 2.2 * MB) },
    { chunkBytes: 32768, file: await makePayload(work, 16 * MB) },
  ];
  const slowFile = await makePayload(work, 0.8 * MB);
  const loss = new Map<string, LossSample[]>();
  const slow = new Map<string, SlowSample[]>();
  const push = <T>(map: Map<string, T[]>, key: string, value: T) =>
    map.set(key, [...(map.get(key) ?? []), value]);
  for (let run = 1; run <= RUNS; run++) {
    process.stderr.write(`run ${run} of ${RUNS}\n`);
    for (const { chunkBytes, file } of lossCases) {
      const name = `${fmt(statSync(file).size / MB)} MB, ${chunkBytes / 1024} KiB chunks`;
      push(loss, `${name}, no loss`, await lossRun(mosquitto.port, mosquitto.url, file, chunkBytes, 0));
      push(loss, `${name}, 5% loss`, await lossRun(mosquitto.port, mosquitto.url, file, chunkBytes, LOSS));
    }
    for (const signal of ['SIGKILL', 'SIGINT'] as const)
      push(
        slow,
        `one of two stopped with ${signal}`,
        await slowRun(mosquitto.port, mosquitto.url, slowFile, signal),
      );
  }
  await mosquitto.stop();

  const lines = [
    machineLine(),
    `Runs: ${RUNS}; every figure is the median of the runs.`,
    '',
    '### Loss: 5% of chunk messages dropped on the way to the receiver',
    '',
    'Transfer: as the sender measures it (manifest to proven receipt). Ratio: against the lossless row of the same size.',
    '',
    '| case | transfer s | vs lossless | chunks dropped | chunks resent | resent / dropped | all verified |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const [name, samples] of loss) {
    const seconds = median(samples.map((s) => s.transferSeconds));
    const base = loss.get(name.replace('5% loss', 'no loss')) ?? samples;
    const baseSeconds = median(base.map((s) => s.transferSeconds));
    const dropped = median(samples.map((s) => s.dropped));
    const resent = median(samples.map((s) => s.resent));
    const ratio = median(samples.map((s) => (s.dropped > 0 ? s.resent / s.dropped : Number.NaN)));
    lines.push(
      `| ${name} | ${fmt(seconds, 2)} | ${fmt(seconds / baseSeconds, 2)}x | ${fmt(dropped, 0)} | ${fmt(resent, 0)} | ${fmt(ratio, 2)} | ${samples.every((s) => s.ok) ? 'yes' : 'NO'} |`,
    );
  }
  lines.push(
    '',
    `### Slow links: two receivers at ${SLOW_RATE / 1000} kB/s each, one stopped 3 s in, \`--receivers 1\``,
    '',
    "Lag: from the remaining receiver's `completed` to the sender's exit.",
    '',
    '| case | file chunks | chunks published | published / file | lag s | send s | all verified |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const [name, samples] of slow) {
    const chunks = median(samples.map((s) => s.chunks));
    const published = median(samples.map((s) => s.published));
    lines.push(
      `| ${name} | ${fmt(chunks, 0)} | ${fmt(published, 0)} | ${fmt(median(samples.map((s) => s.published / s.chunks)), 3)} | ${fmt(median(samples.map((s) => s.lagSeconds)), 2)} | ${fmt(median(samples.map((s) => s.seconds)), 1)} | ${samples.every((s) => s.ok) ? 'yes' : 'NO'} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(work, { recursive: true, force: true });
}

await main();
