/**
 * Soak of a long-running receiver (issue 22): `mqimg receive` saves SOAK_IMAGES (default 10,000) small images of four
 * names, sent in batches through one connection each, and this prints its RSS (VmRSS) after 1,000 saves and every
 * further 1,000, with its live heap after a full GC (scripts/bench/heap-preload.cjs) and the time per save. Run: `npx tsx scripts/bench-soak.ts` (after `npm run build`).
 * `--keep 200` keeps the folder small; the names are numbered in constant time whatever the folder holds.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { sendImages } from '../src/api/send-images.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { BIN, fmt, machineLine, waitForText } from './bench/common.js';

const HEAP_PRELOAD = new URL('./bench/heap-preload.cjs', import.meta.url).pathname;

const TOTAL = Number(process.env.SOAK_IMAGES ?? 10_000);
const BATCH = 250;

/**
 * The receiver's memory after a full GC, in MiB, as table cells: live heap, heap V8 holds, external memory, RSS
 * (SIGUSR2 to the heap preload, which writes them to `file`). What the receiver keeps (its bounded tables) shows in
 * the live heap; RSS also holds what V8 and the allocator have not returned.
 */
async function heapAfterGc(pid: number, file: string): Promise<string> {
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 20));
  const mib = readFileSync(file, 'utf8')
    .split(' ')
    .map((bytes) => fmt(Number(bytes) / 1024 / 1024));
  return mib.join(' | ');
}

function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mqimg-soak-'));
  const broker = await startMosquitto();
  const images = await Promise.all(
    ['snapshot', 'door', 'garden', 'DSCN0010'].map(async (name, i) => ({
      name: `${name}.jpg`,
      bytes: await sharp({
        create: { width: 64, height: 48, channels: 3, background: { r: 40 * i, g: 90, b: 200 } },
      })
        .jpeg()
        .toBuffer(),
    })),
  );
  const out = join(work, 'out');
  const heapFile = join(work, 'heap');
  const rx = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--require',
      HEAP_PRELOAD,
      BIN,
      'receive',
      '--out',
      out,
      '--topic',
      'soak/#',
      '--keep',
      '200',
      '--json',
      '--url',
      broker.url,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BENCH_HEAP_FILE: heapFile } },
  );
  await waitForText(rx, 'stderr', 'receiving into');
  let saved = 0;
  let buffered = '';
  rx.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.includes('"completed"')) saved++;
  });
  const rows: string[] = [];
  let started = performance.now();
  let lastAt = 0;
  for (let sent = 0; sent < TOTAL; sent += BATCH) {
    const batch = Array.from(
      { length: Math.min(BATCH, TOTAL - sent) },
      (_, i) => images[(sent + i) % 4] ?? images[0],
    );
    await sendImages(batch as { name: string; bytes: Buffer }[], {
      topic: `soak/${sent % 1000}`,
      url: broker.url,
      format: 'original',
    });
    while (saved < sent + batch.length) await new Promise((r) => setTimeout(r, 20));
    if (saved >= lastAt + 1000 || saved >= TOTAL) {
      const ms = performance.now() - started;
      const rss = rssMiB(rx.pid ?? 0);
      const heap = await heapAfterGc(rx.pid ?? 0, heapFile);
      rows.push(`| ${saved} | ${fmt(rss)} | ${heap} | ${fmt(ms / (saved - lastAt), 1)} |`);
      process.stderr.write(`${rows.at(-1)}\n`);
      lastAt = saved;
      started = performance.now();
    }
  }
  rx.kill('SIGINT');
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
  process.stdout.write(
    [
      machineLine(),
      `Receiver soak: ${TOTAL} images of four names (64x48 JPEG), ${BATCH} per sending connection, receive --keep 200.`,
      '',
      '| images saved | receiver RSS MiB | after a full GC: live heap MiB | heap held MiB | external MiB | RSS MiB | ms per save (since the row before) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
