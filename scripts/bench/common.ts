/**
 * Pieces shared by the benchmark scripts (scripts/bench*.ts): medians, child-process waits, payload files, and the
 * machine line every table starts with.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { mosquittoPath } from '../../test/helpers/mosquitto.js';

/** The CLI as a user runs it (after `npm run build`). */
export const BIN = fileURLToPath(new URL('../../dist/bin/mqimg.js', import.meta.url));
/** Preload that writes the process's peak RSS (VmHWM, KiB) to $BENCH_RSS_FILE at exit. */
export const PRELOAD = fileURLToPath(new URL('./rss-preload.cjs', import.meta.url));
/** Runs per case: $BENCH_RUNS, default 3. */
export const RUNS = Number(process.env.BENCH_RUNS ?? 3);
export const MB = 1_000_000;

/** Median of `values` (NaN for none). */
export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** `v` with `digits` decimals, `n/a` when not finite. */
export const fmt = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/** Resolves with the exit code once `child` has closed. */
export function waitExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

/** Resolves once `text` appeared on the child's `stream` (20 s at most). */
export function waitForText(child: ChildProcess, stream: 'stdout' | 'stderr', text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}": ${seen}`)), 20_000);
    child[stream]?.on('data', (d) => {
      seen += d;
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** A PNG of random pixels, stored uncompressed, of about `bytes` bytes, in `dir`: a real image that does not compress. */
export async function makePayload(dir: string, bytes: number): Promise<string> {
  const side = Math.ceil(Math.sqrt(bytes / 3));
  const pixels = Buffer.alloc(side * side * 3);
  let x = 2463534242;
  for (let i = 0; i < pixels.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pixels[i] = x & 0xff;
  }
  const path = join(dir, `payload-${bytes / MB}MB.png`);
  await sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toFile(path);
  return path;
}

/** Peak RSS in MiB written by the preload to `file`, NaN when the process did not write it. */
export function rssMiB(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').split(' ')[0]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The CPU time (user + system, ms) the preload wrote beside the peak RSS, or NaN. */
export function cpuMs(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').split(' ')[1]);
  } catch {
    return Number.NaN;
  }
}

/** The first line of `mosquitto -h` (its version). */
export function mosquittoVersion(): string {
  try {
    return execFileSync(mosquittoPath() ?? 'mosquitto', ['-h'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch (error) {
    // `mosquitto -h` exits 3 after printing its help.
    return String((error as { stdout?: string }).stdout ?? '').split('\n')[0] ?? 'mosquitto';
  }
}

/** "Machine: CPU x cores, RAM, Node, Mosquitto": the first line of every benchmark table. */
export function machineLine(): string {
  return `Machine: ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${mosquittoVersion().trim()} (default limits)`;
}

/** A seeded pseudo-random generator (xorshift32): the same losses in every run and every case. */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}
