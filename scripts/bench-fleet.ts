/**
 * The fleet benchmark (issue #12, part 5): cameras on one machine, each a `mqimg send --watch DIR --no-supersede`
 * process, writing a snapshot into its folder every few seconds; one archive `mqimg receive --topic 'cam/+'` (or
 * the members of `--share archive`) and displays each following one camera, through one Mosquitto with default
 * settings started here on a free port. Prints a markdown table: images sent, saved by the archive and by the
 * displays, lost, duplicates, latency (snapshot renamed into its folder -> the receiver's `completed` event),
 * archive CPU per image (/proc/PID/stat) and chunks resent.
 *
 *   npm run build && npx tsx scripts/bench-fleet.ts
 *
 * Environment: FLEET_CAMERAS (50), FLEET_DISPLAYS (5), FLEET_SECONDS (60), FLEET_EVERY_S (5), FLEET_BYTES
 * (200000), FLEET_SHARE (members of a share group for the archive; 0: one plain archiver), FLEET_PHASE (`spread`:
 * cameras evenly out of step; `together`: every camera at the same instant), FLEET_ARCHIVE_ARGS (more options for
 * the archive, e.g. `--max-transfers 64`), FLEET_EVENTS (write the archive's JSON events of run N to
 * FLEET_EVENTS.N, for a timeline), BENCH_RUNS (3).
 */
import { type FleetResult, quantile, runFleet } from '../test/helpers/fleet.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { fmt, machineLine, median, RUNS } from './bench/common.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const cameras = env('FLEET_CAMERAS', 50);
const displays = env('FLEET_DISPLAYS', 5);
const seconds = env('FLEET_SECONDS', 60);
const everyS = env('FLEET_EVERY_S', 5);
const bytes = env('FLEET_BYTES', 200_000);
const share = env('FLEET_SHARE', 0);
const phase = process.env.FLEET_PHASE === 'together' ? 'together' : 'spread';
const snapshots = Math.floor(seconds / everyS);

const rows: string[][] = [];
const results: FleetResult[] = [];
for (let run = 1; run <= RUNS; run++) {
  const broker = await startMosquitto();
  try {
    const r = await runFleet({
      url: broker.url,
      cameras,
      displays,
      snapshots,
      everyMs: everyS * 1000,
      bytes,
      shareMembers: share,
      archiveArgs: process.env.FLEET_ARCHIVE_ARGS?.split(' ').filter(Boolean) ?? [],
      ...(process.env.FLEET_EVENTS ? { archiveEventsFile: `${process.env.FLEET_EVENTS}.${run}` } : {}),
      phase,
      log: (line) => console.error(`run ${run}: ${line}`),
    });
    results.push(r);
    rows.push(row(`run ${run}`, r));
    console.error(`run ${run}: ${rows.at(-1)?.join(' | ')}`);
  } finally {
    await broker.stop();
  }
}

function lost(r: FleetResult): number {
  return r.sent - r.archived + (r.displayExpected - r.displayed);
}

function row(label: string, r: FleetResult): string[] {
  return [
    label,
    String(r.sent),
    String(r.archived),
    `${r.displayed} of ${r.displayExpected}`,
    String(lost(r)),
    String(r.archiveDuplicates + r.displayDuplicates + r.corrupt),
    fmt(quantile(r.archiveLatencyMs, 0.5), 0),
    fmt(quantile(r.archiveLatencyMs, 0.99), 0),
    fmt(quantile(r.displayLatencyMs, 0.5), 0),
    fmt(quantile(r.displayLatencyMs, 0.99), 0),
    fmt(quantile(r.transferMs, 0.5), 0),
    fmt(quantile(r.transferMs, 0.99), 0),
    fmt(r.archiveCpuMsPerImage, 1),
    `${r.resentChunks} of ${r.chunks}`,
    r.perMember.join(' / '),
    Object.entries(r.receiverFailures)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ') || 'none',
  ];
}

/** The median over the runs of `f`, with `digits` decimals. */
const med = (f: (r: FleetResult) => number, digits = 0) => fmt(median(results.map(f)), digits);
const p = (key: 'archiveLatencyMs' | 'displayLatencyMs' | 'transferMs', q: number) =>
  med((r) => quantile(r[key], q));
const medians = [
  'median',
  med((r) => r.sent),
  med((r) => r.archived),
  `${med((r) => r.displayed)} of ${med((r) => r.displayExpected)}`,
  med(lost),
  med((r) => r.archiveDuplicates + r.displayDuplicates + r.corrupt),
  p('archiveLatencyMs', 0.5),
  p('archiveLatencyMs', 0.99),
  p('displayLatencyMs', 0.5),
  p('displayLatencyMs', 0.99),
  p('transferMs', 0.5),
  p('transferMs', 0.99),
  med((r) => r.archiveCpuMsPerImage, 1),
  `${med((r) => r.resentChunks)} of ${med((r) => r.chunks)}`,
  '',
  '',
];

const archive =
  share > 0
    ? `${share} members of \`receive --share archive --topic 'cam/+'\``
    : "one `receive --topic 'cam/+'`";
console.log(machineLine());
console.log(
  `Fleet: ${cameras} cameras (\`send --watch --no-supersede\`, one process each), a ${Math.round(bytes / 1000)} kB snapshot each every ${everyS} s for ${seconds} s (${phase === 'spread' ? 'cameras evenly out of step' : 'all cameras at the same instant'}), archive: ${archive}, ${displays} displays each following one camera; Mosquitto with default settings. Runs: ${RUNS}.`,
);
console.log('');
console.log(
  '| run | images sent | archived | saved by displays | lost | duplicates or corrupt | archive p50 ms | archive p99 ms | display p50 ms | display p99 ms | transfer p50 ms | transfer p99 ms | archive CPU ms per image | chunks resent | archived per member | receiver failures |',
);
console.log(`| --- |${' ---: |'.repeat(13)} --- | --- |`);
for (const r of [...rows, medians]) console.log(`| ${r.join(' | ')} |`);
