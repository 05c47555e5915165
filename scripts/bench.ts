/**
 * mqimg benchmark: `npm run bench` (BENCH_RUNS=5 for more runs). Prints a Markdown table of medians.
 *
 * In one run, on one Mosquitto with default limits started for the purpose:
 *  - baseline: `mosquitto_pub -f FILE -q 1` to `mosquitto_sub -C 1 -N -q 1` (the whole file as one message);
 *  - the same job verified with the C tools: `sha256sum FILE`, `mosquitto_pub -f`, `mosquitto_sub -C 1 -N > out`,
 *    `sha256sum out`, compared (what mqimg does: a file that arrives whole, checked, on disk);
 *  - `mqimg send --format original` (transport only) of 1, 10 and 50 MB at 4 KiB and 64 KiB chunks;
 *  - the slow-receiver case: 10 MB at 4 KiB to a receiver whose link reads 10x slower than the measured mqimg rate;
 * End-to-end time runs from the sender's process start to the receiver having saved (or received) the whole file.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLossyProxy } from '../test/helpers/lossy-proxy.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import {
  BIN,
  cpuMs,
  fmt,
  MB,
  machineLine,
  makePayload,
  median,
  PRELOAD,
  RUNS,
  rssMiB,
  waitExit,
  waitForText,
} from './bench/common.js';

const work = mkdtempSync(join(tmpdir(), 'mqimg-bench-'));

interface Sample {
  seconds: number;
  transferSeconds: number;
  chunks: number;
  retransmitted: number;
  senderRssMiB: number;
  receiverRssMiB: number;
  /** CPU time (user + system) of each process, in milliseconds. */
  senderCpuMs: number;
  receiverCpuMs: number;
  ok: boolean;
}

/** Runs `command args` and resolves with its stdout; rejects on a non-zero exit. */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('latin1');
    });
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}`))));
  });
}

/**
 * The verified job done with the C tools: the sender hashes the file (`sha256sum`) and publishes it whole
 * (`mosquitto_pub -f`); the receiver writes it to a file (`mosquitto_sub -C 1 -N > out`) and hashes it; the two
 * hashes are compared. End-to-end time from the first hash to the last.
 */
async function verifiedBaseline(url: { port: number }, file: string): Promise<Sample> {
  const outFile = join(work, 'c-tools.out');
  const sub = spawn(
    'sh',
    ['-c', `mosquitto_sub -p ${url.port} -h 127.0.0.1 -t bench/cbase -q 1 -C 1 -N > "${outFile}"`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await new Promise((r) => setTimeout(r, 500)); // as in the baseline: mosquitto_sub says nothing once subscribed
  const t0 = performance.now();
  const sent = (await run('sha256sum', [file])).split(' ')[0];
  await run('mosquitto_pub', [
    '-p',
    String(url.port),
    '-h',
    '127.0.0.1',
    '-t',
    'bench/cbase',
    '-q',
    '1',
    '-f',
    file,
  ]);
  const subCode = await waitExit(sub);
  const received = (await run('sha256sum', [outFile])).split(' ')[0];
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds,
    transferSeconds: seconds,
    chunks: 1,
    retransmitted: 0,
    senderRssMiB: Number.NaN,
    receiverRssMiB: Number.NaN,
    senderCpuMs: Number.NaN,
    receiverCpuMs: Number.NaN,
    ok: subCode === 0 && sent !== undefined && sent === received,
  };
}

async function baseline(url: { port: number }, file: string): Promise<Sample> {
  const sub = spawn(
    'mosquitto_sub',
    ['-p', String(url.port), '-h', '127.0.0.1', '-t', 'bench/base', '-q', '1', '-C', '1', '-N'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const chunks: Buffer[] = [];
  sub.stdout?.on('data', (d: Buffer) => chunks.push(d));
  // mosquitto_sub says nothing when it has subscribed (its stdout is block-buffered in a pipe): give it time.
  await new Promise((r) => setTimeout(r, 500));
  const t0 = performance.now();
  const pub = spawn('mosquitto_pub', [
    '-p',
    String(url.port),
    '-h',
    '127.0.0.1',
    '-t',
    'bench/base',
    '-q',
    '1',
    '-f',
    file,
  ]);
  const [subCode] = await Promise.all([waitExit(sub), waitExit(pub)]);
  const seconds = (performance.now() - t0) / 1000;
  const received = Buffer.concat(chunks);
  const ok = subCode === 0 && received.equals(readFileSync(file));
  return {
    seconds,
    transferSeconds: seconds,
    chunks: 1,
    retransmitted: 0,
    senderRssMiB: Number.NaN,
    receiverRssMiB: Number.NaN,
    senderCpuMs: Number.NaN,
    receiverCpuMs: Number.NaN,
    ok,
  };
}

async function mqimg(
  url: string,
  receiverUrl: string,
  file: string,
  chunkBytes: number,
  receiverNodeOptions = '',
): Promise<Sample> {
  const out = mkdtempSync(join(work, 'rx-'));
  const rxRss = join(work, 'rx.rss');
  const txRss = join(work, 'tx.rss');
  // A process that did not write its figure must show n/a, not the previous run's.
  rmSync(rxRss, { force: true });
  rmSync(txRss, { force: true });
  const rx = spawn(
    process.execPath,
    [
      '--require',
      PRELOAD,
      BIN,
      'receive',
      '--out',
      out,
      '--once',
      '--json',
      '--url',
      receiverUrl,
      '--mqtt-version',
      '3.1.1',
    ],
    {
      env: { ...process.env, BENCH_RSS_FILE: rxRss, NODE_OPTIONS: receiverNodeOptions },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await waitForText(rx, 'stderr', 'receiving into');
  let rxOut = '';
  rx.stdout?.on('data', (d) => (rxOut += d));
  const t0 = performance.now();
  const tx = spawn(
    process.execPath,
    [
      '--require',
      PRELOAD,
      BIN,
      'send',
      file,
      '--topic',
      'bench/mqimg',
      '--format',
      'original',
      '--chunk-size',
      String(chunkBytes),
      '--json',
      '--url',
      url,
    ],
    {
      env: { ...process.env, BENCH_RSS_FILE: txRss },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let txOut = '';
  let txErr = '';
  tx.stdout?.on('data', (d) => (txOut += d));
  tx.stderr?.on('data', (d) => (txErr += d));
  const [rxCode, txCode] = await Promise.all([waitExit(rx), waitExit(tx)]);
  const seconds = (performance.now() - t0) / 1000;
  const delivered = JSON.parse(txOut.split('\n').find((l) => l.startsWith('{')) ?? '{}');
  const completed = JSON.parse(rxOut.split('\n').find((l) => l.includes('"completed"')) ?? '{}');
  const saved = readdirSync(out).filter((f) => !f.startsWith('.'));
  const ok = rxCode === 0 && txCode === 0 && completed.sha256 === delivered.sha256 && saved.length === 1;
  if (!ok) process.stderr.write(`mqimg run failed: rx ${rxCode} tx ${txCode} ${txErr}\n`);
  rmSync(out, { recursive: true, force: true });
  return {
    seconds,
    transferSeconds: (delivered.durationMs ?? Number.NaN) / 1000,
    chunks: delivered.chunks ?? Number.NaN,
    retransmitted: delivered.retransmittedChunks ?? Number.NaN,
    senderRssMiB: rssMiB(txRss),
    receiverRssMiB: rssMiB(rxRss),
    senderCpuMs: cpuMs(txRss),
    receiverCpuMs: cpuMs(rxRss),
    ok,
  };
}

async function main() {
  const mosquitto = await startMosquitto();
  process.stderr.write(`payloads in ${work}\n`);
  const sizes = [1 * MB, 10 * MB, 50 * MB];
  const files = new Map<number, string>();
  for (const size of sizes) files.set(size, await makePayload(work, size));
  const rows = new Map<string, { size: number; samples: Sample[] }>();
  const add = (name: string, size: number, sample: Sample) => {
    const row = rows.get(name) ?? { size, samples: [] };
    row.samples.push(sample);
    rows.set(name, row);
  };
  for (let run = 1; run <= RUNS; run++) {
    process.stderr.write(`run ${run} of ${RUNS}\n`);
    for (const size of sizes) {
      const file = files.get(size) ?? '';
      const bytes = statSync(file).size;
      add(`baseline mosquitto_pub -f, ${size / MB} MB`, bytes, await baseline(mosquitto, file));
      add(
        `verified C tools (sha256sum, mosquitto_pub -f, mosquitto_sub > file, sha256sum), ${size / MB} MB`,
        bytes,
        await verifiedBaseline(mosquitto, file),
      );
      for (const chunk of [4096, 65536]) {
        add(
          `mqimg, ${size / MB} MB, ${chunk / 1024} KiB chunks`,
          bytes,
          await mqimg(mosquitto.url, mosquitto.url, file, chunk),
        );
      }
    }
    // Slow receiver: its link reads at a tenth of the rate mqimg just reached for 10 MB at 4 KiB.
    const fast = rows.get('mqimg, 10 MB, 4 KiB chunks')?.samples.at(-1);
    const file = files.get(10 * MB) ?? '';
    const bytes = statSync(file).size;
    const rate = fast ? bytes / fast.transferSeconds / 10 : 2 * MB;
    const proxy = await startLossyProxy(mosquitto.port, { bytesPerSecond: rate });
    add(
      'slow receiver (10x slower), 10 MB, 4 KiB chunks',
      bytes,
      await mqimg(mosquitto.url, proxy.url, file, 4096),
    );
    await proxy.close();
    // Receiver memory with V8's young generation capped: by default it grows by tens of MiB at high message rates.
    for (const size of [1 * MB, 50 * MB]) {
      const path = files.get(size) ?? '';
      const sample = await mqimg(mosquitto.url, mosquitto.url, path, 65536, '--max-semi-space-size=4');
      add(
        `mqimg, ${size / MB} MB, 64 KiB chunks, receiver node --max-semi-space-size=4`,
        statSync(path).size,
        sample,
      );
    }
  }
  await mosquitto.stop();

  const lines = [
    machineLine(),
    `Runs: ${RUNS}; every figure is the median of the runs. Command: npm run bench${RUNS !== 3 ? ` (BENCH_RUNS=${RUNS})` : ''}`,
    '',
    'End-to-end: from the sender process start to the file saved (mqimg) or received (mosquitto_sub). Transfer: as the',
    'sender measures it, from the start of the transfer (hashing the file, subscribing, publishing the manifest) to the',
    "receiver's confirmation, after connecting (for the baseline, the same as end-to-end). Peak RSS: VmHWM at exit.",
    '',
    'vs C tools: the verified C-tools job of the same size (end-to-end seconds, its / ours). CPU: user + system time of',
    'the sender and receiver processes, in milliseconds per MB of file.',
    '',
    '| case | end-to-end s | end-to-end MB/s | e2e vs baseline | e2e vs C tools | transfer MB/s | transfer vs baseline | chunks/s | resent chunks | sender CPU ms/MB | receiver CPU ms/MB | sender peak RSS MiB | receiver peak RSS MiB | all verified |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const [name, { size, samples }] of rows) {
    const seconds = median(samples.map((s) => s.seconds));
    const transfer = median(samples.map((s) => s.transferSeconds));
    const baseRow = [...rows.entries()].find(([k, r]) => k.startsWith('baseline') && r.size === size)?.[1];
    const baseSeconds = baseRow ? median(baseRow.samples.map((s) => s.seconds)) : Number.NaN;
    const cRow = [...rows.entries()].find(
      ([k, r]) => k.startsWith('verified C tools') && r.size === size,
    )?.[1];
    const cSeconds = cRow ? median(cRow.samples.map((s) => s.seconds)) : Number.NaN;
    const cells = [
      name,
      fmt(seconds, 3),
      fmt(size / MB / seconds),
      `${fmt(baseSeconds / seconds, 2)}x`,
      `${fmt(cSeconds / seconds, 2)}x`,
      fmt(size / MB / transfer),
      `${fmt(baseSeconds / transfer, 2)}x`,
      name.startsWith('baseline') ? 'n/a' : fmt(median(samples.map((s) => s.chunks / s.transferSeconds)), 0),
      fmt(median(samples.map((s) => s.retransmitted)), 0),
      fmt(median(samples.map((s) => s.senderCpuMs / (size / MB)))),
      fmt(median(samples.map((s) => s.receiverCpuMs / (size / MB)))),
      fmt(median(samples.map((s) => s.senderRssMiB))),
      fmt(median(samples.map((s) => s.receiverRssMiB))),
      samples.every((s) => s.ok) ? 'yes' : `NO (${samples.filter((s) => !s.ok).length} failed)`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(work, { recursive: true, force: true });
}

await main();
