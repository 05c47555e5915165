/**
 * mqimg start-up benchmark: `tsx scripts/bench-startup.ts` after `npm run build` (BENCH_RUNS=N, default 5).
 * Prints a Markdown table of medians: wall time of whole processes, each started, run to its end and timed from
 * spawn to exit, on one Mosquitto started for the purpose.
 *
 *  - `node -e 0` and `mqimg --help`: an empty Node against the CLI's start-up;
 *  - `mqtt pub -s` (mqtt.js's own CLI, QoS 1) publishing the image once, read from standard input: a one-shot
 *    publish in Node that confirms nothing;
 *  - `mqimg send IMAGE --format original --receivers 1` and the same with the default re-encode, each to a
 *    `mqimg receive` that runs for the whole benchmark (the send exits once that receiver proved receipt).
 *
 * The cases alternate within each run, so that a slow moment of the machine touches them all alike. The image is
 * `MQIMG_BENCH_IMAGE`, else `../shared/data/photos/jolla.jpg` next to the repository (812 KB), else
 * `samples/landscape.jpg`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mosquittoPath, startMosquitto } from '../test/helpers/mosquitto.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'dist/bin/mqimg.js');
const MQTT_CLI = join(ROOT, 'node_modules/.bin/mqtt');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** The image every send case sends: MQIMG_BENCH_IMAGE, jolla.jpg from the shared data, or a sample. */
function benchImage(): string {
  const candidates = [
    process.env.MQIMG_BENCH_IMAGE,
    join(ROOT, '../shared/data/photos/jolla.jpg'),
    join(ROOT, 'samples/landscape.jpg'),
  ];
  const found = candidates.find((c): c is string => c !== undefined && c.length > 0 && existsSync(c));
  if (!found) throw new Error('no image to send: set MQIMG_BENCH_IMAGE to a JPEG');
  return found;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/**
 * Runs `command args` to its end and returns its wall time in milliseconds, spawn to exit. Throws (with what it
 * printed) unless it exits 0. `stdin`, when given, is written to its standard input.
 */
function timed(command: string, args: string[], stdin?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${basename(command)} ${args.join(' ')} exited ${code ?? signal}: ${stderr}`));
    });
    if (stdin) child.stdin?.end(stdin);
  });
}

/** Resolves when `child` printed `text` on stderr; rejects after 20 s or when it exits first. */
function waitForStderr(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}": ${seen}`)), 20_000);
    child.stderr?.on('data', (d) => {
      seen += d;
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before "${text}": ${seen}`)));
  });
}

function mosquittoVersion(): string {
  try {
    return execFileSync(mosquittoPath() ?? 'mosquitto', ['-h'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch (error) {
    // `mosquitto -h` exits 3 after printing its help.
    return String((error as { stdout?: string }).stdout ?? '').split('\n')[0] ?? 'mosquitto';
  }
}

async function main(): Promise<void> {
  const image = benchImage();
  const imageBytes = readFileSync(image);
  const mosquitto = await startMosquitto();
  const out = mkdtempSync(join(tmpdir(), 'mqimg-bench-startup-'));
  const receiver = spawn(process.execPath, [BIN, 'receive', '--out', out, '--url', mosquitto.url], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    await waitForStderr(receiver, 'receiving into');
    const send = (extra: string[]) => [
      BIN,
      'send',
      image,
      '--topic',
      'bench/startup',
      '--receivers',
      '1',
      '--quiet',
      '--url',
      mosquitto.url,
      ...extra,
    ];
    const cases: [name: string, run: () => Promise<number>][] = [
      ['`node -e 0`', () => timed(process.execPath, ['-e', '0'])],
      ['`mqimg --help`', () => timed(process.execPath, [BIN, '--help'])],
      [
        '`mqtt pub -s` (mqtt.js CLI, QoS 1)',
        () =>
          timed(
            process.execPath,
            [
              MQTT_CLI,
              'pub',
              '-h',
              '127.0.0.1',
              '-p',
              String(mosquitto.port),
              '-t',
              'bench/pub',
              '-q',
              '1',
              '-s',
            ],
            imageBytes,
          ),
      ],
      ['`mqimg send --format original`', () => timed(process.execPath, send(['--format', 'original']))],
      ['`mqimg send` (default re-encode)', () => timed(process.execPath, send([]))],
    ];
    const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    // One untimed round first: the page cache and the broker warm up for every case alike.
    for (const [, run] of cases) await run();
    for (let run = 1; run <= RUNS; run++) {
      process.stderr.write(`run ${run} of ${RUNS}\n`);
      for (const [name, measure] of cases) samples.get(name)?.push(await measure());
    }
    const ms = (name: string) => median(samples.get(name) ?? []);
    const node = ms('`node -e 0`');
    const pub = ms('`mqtt pub -s` (mqtt.js CLI, QoS 1)');
    const ratioTo: Record<string, [number, string]> = {
      '`mqimg --help`': [node, '`node -e 0`'],
      '`mqimg send --format original`': [pub, '`mqtt pub -s`'],
      '`mqimg send` (default re-encode)': [pub, '`mqtt pub -s`'],
    };
    const lines = [
      `Machine: ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${mosquittoVersion().trim()}`,
      `Image: ${basename(image)}, ${imageBytes.length.toLocaleString('en')} bytes. Runs: ${RUNS}, cases alternating; median wall time, spawn to exit. Command: npx tsx scripts/bench-startup.ts${RUNS !== 5 ? ` (BENCH_RUNS=${RUNS})` : ''}`,
      '',
      '| case | median ms | min ms | max ms | ratio |',
      '| --- | ---: | ---: | ---: | ---: |',
    ];
    for (const [name] of cases) {
      const values = samples.get(name) ?? [];
      const base = ratioTo[name];
      const ratio = base ? `${(ms(name) / base[0]).toFixed(2)}x ${base[1]}` : '';
      lines.push(
        `| ${name} | ${ms(name).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} | ${ratio} |`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    receiver.kill('SIGTERM');
    await new Promise((resolve) => receiver.once('close', resolve));
    await mosquitto.stop();
    rmSync(out, { recursive: true, force: true });
  }
}

await main();
