import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { DEFAULT_CHUNK_BYTES } from '../../src/protocol/wire/constants.js';
import { type CliProcess, cliEvents, startCli, startReceiver } from './cli.js';
import { tempDir } from './files.js';

/**
 * A fleet of cameras on one machine (issue #12, part 5), driven through the real CLI: one `mqimg send --watch DIR
 * --no-supersede` per camera (what a camera user runs; every image is sent, none superseded), snapshots written
 * into the watched folders on a schedule (atomically: a hidden `.part` file renamed into place, as a camera or NVR
 * writes), an archive (`mqimg receive --topic 'cam/+'`, or `shareMembers` members of `--share archive`) and
 * `displays` displays each following one camera (`--topic cam/K`). Used by test/e2e/fleet.test.ts (CI size) and
 * scripts/bench-fleet.ts (full size).
 */
export interface FleetOptions {
  /** Broker URL. */
  url: string;
  cameras: number;
  /** Displays, each following camera 0, 1, ... (at most `cameras`). */
  displays: number;
  /** Snapshots per camera. */
  snapshots: number;
  /** Milliseconds between one camera's snapshots. */
  everyMs: number;
  /** Approximate bytes per snapshot (a PNG of random pixels, stored uncompressed: it does not compress). */
  bytes: number;
  /** 0 (default): one archiver; N: N archivers in share group `archive` (`receive --share archive`). */
  shareMembers?: number;
  /** `spread` (default): camera K starts K/cameras of `everyMs` after camera 0; `together`: all at once. */
  phase?: 'spread' | 'together';
  /** How long to wait for the last images after the last snapshot was written, in ms (default 60,000). */
  drainMs?: number;
  /** More options for the archive receiver(s), e.g. `--max-transfers 64`. */
  archiveArgs?: string[];
  /** Write the archive's `--json` events to this file, for a timeline (default: none). */
  archiveEventsFile?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Camera K's topic (default `cam/K`). */
  cameraTopic?: (camera: number) => string;
  /**
   * Without `shareMembers`: one archive receiver per filter, the cameras split between them by topic (default
   * `['cam/+']`). How ingest is spread over receivers on a broker without shared subscriptions (NATS, RabbitMQ).
   */
  archiveTopics?: string[];
  /**
   * A display-speed receiver following every camera (`followAll.topic`) through `followAll.url`, e.g. a proxy
   * that passes 200 kB/s: slower than the feed, it skips. No sender waits for it. Default: none.
   */
  followAll?: { topic: string; url: string };
}

/** What a fleet run came to. Latencies: from the snapshot renamed into place to the receiver's `completed` ts. */
export interface FleetResult {
  sent: number;
  /** Distinct snapshots the archive saved (verified by SHA-256 of the file on disk). */
  archived: number;
  /** Saves beyond the first of the same snapshot by the archive (any member): must be 0. */
  archiveDuplicates: number;
  displayExpected: number;
  /** Distinct snapshots of their own camera the displays saved, summed. */
  displayed: number;
  displayDuplicates: number;
  /** Saved files whose bytes were not a snapshot that was sent: must be 0. */
  corrupt: number;
  archiveLatencyMs: number[];
  /** Per image archived: its chunks (of the default 32 KiB) over the archive's `completed` durationMs, per second. */
  archiveChunksPerSecond: number[];
  displayLatencyMs: number[];
  /** The senders' transfer times (`delivered` durationMs: manifest published -> enough receivers confirmed). */
  transferMs: number[];
  /** CPU time (user + system) of the archive process(es) while the fleet ran, per image archived, in ms. */
  archiveCpuMsPerImage: number;
  /** Chunks the senders published again, and chunks in all, over every delivered transfer. */
  resentChunks: number;
  chunks: number;
  /** `failed` events of the receivers, by code (refusals for now included). */
  receiverFailures: Record<string, number>;
  /** Archive images per share member (one entry without `shareMembers`). */
  perMember: number[];
  /** The senders' `failed` events (code: message): images they gave up. */
  senderErrors: string[];
  /** The display-speed receiver following every camera (`followAll`): distinct snapshots it saved, and latencies. */
  followAllSaved: number;
  followAllLatencyMs: number[];
  /** Its `failed` events (superseded, skipped, timed out...), and whether it was still running at the end. */
  followAllFailed: number;
  followAllAlive: boolean;
  /** How many processes printed "unexpected error" (must be 0). */
  unexpectedErrors: number;
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A PNG of random pixels, stored uncompressed, of about `bytes` bytes. */
async function snapshot(bytes: number): Promise<Buffer> {
  const side = Math.ceil(Math.sqrt(bytes / 3));
  return sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

/** User + system CPU time of process `pid` so far, in ms, from /proc/PID/stat (clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (in parentheses, which may contain spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10; // USER_HZ is 100 on Linux
}

export async function runFleet(o: FleetOptions): Promise<FleetResult> {
  const log = o.log ?? (() => {});
  const members = o.shareMembers ?? 0;
  /** Every folder made here, removed at the end. */
  const dirs: string[] = [];
  const folder = (prefix: string) => {
    const dir = tempDir(prefix);
    dirs.push(dir);
    return dir;
  };
  const cameras = Array.from({ length: o.cameras }, (_, c) => ({
    topic: o.cameraTopic?.(c) ?? `cam/${c}`,
    dir: folder('mqimg-cam-'),
  }));
  const shots = await Promise.all(
    cameras.map(async () => Promise.all(Array.from({ length: o.snapshots }, () => snapshot(o.bytes)))),
  );
  const sentBy = new Map<string, { camera: number; readyMs: number }>();
  const procs: CliProcess[] = [];
  try {
    const receive = (out: string, topic: string, extra: string[] = [], url = o.url) =>
      startReceiver(['--out', out, '--topic', topic, '--json', ...extra, '--url', url]);
    const archiveTopics =
      members > 0 ? Array.from({ length: members }, () => 'cam/+') : (o.archiveTopics ?? ['cam/+']);
    const archive = await Promise.all(
      archiveTopics.map((topic) =>
        receive(folder('mqimg-archive-'), topic, [
          ...(members > 0 ? ['--share', 'archive'] : []),
          ...(o.archiveArgs ?? []),
        ]),
      ),
    );
    const displays = await Promise.all(
      Array.from({ length: Math.min(o.displays, o.cameras) }, (_, c) =>
        receive(folder('mqimg-display-'), cameras[c]?.topic ?? ''),
      ),
    );
    const followAll = o.followAll
      ? await receive(folder('mqimg-follow-all-'), o.followAll.topic, [], o.followAll.url)
      : undefined;
    procs.push(...archive, ...displays, ...(followAll ? [followAll] : []));
    log(`${archive.length} archive receiver(s) and ${displays.length} displays subscribed`);
    const senders = cameras.map((cam, c) =>
      startCli([
        'send',
        '--watch',
        cam.dir,
        '--topic',
        cam.topic,
        '--format',
        'original',
        '--no-supersede',
        '--json',
        // A camera a display follows waits for both the archive and its display.
        ...(c < displays.length ? ['--receivers', '2'] : []),
        '--url',
        o.url,
      ]),
    );
    procs.push(...senders);
    await Promise.all(senders.map((s) => s.waitForStderr('watching', 120_000)));
    log(`${senders.length} cameras watching their folders`);
    const cpuStart = archive.map((p) => cpuMs(p.child.pid));
    const start = performance.now() + 200;
    const writes = cameras.map(async (cam, c) => {
      const offset = o.phase === 'together' ? 0 : Math.round((c * o.everyMs) / o.cameras);
      for (let k = 0; k < o.snapshots; k++) {
        const wait = start + offset + k * o.everyMs - performance.now();
        if (wait > 0) await sleep(wait);
        const bytes = shots[c]?.[k] ?? Buffer.alloc(0);
        const part = join(cam.dir, `.snap-${k}.png.part`);
        writeFileSync(part, bytes);
        renameSync(part, join(cam.dir, `snap-${k}.png`));
        sentBy.set(sha(bytes), { camera: c, readyMs: Date.now() });
      }
    });
    await Promise.all(writes);
    const sent = o.cameras * o.snapshots;
    const displayExpected = displays.length * o.snapshots;
    log(`${sent} snapshots written; waiting for the receivers`);
    const completed = (p: CliProcess) => cliEvents(p).filter((e) => e.event === 'completed');
    const drainUntil = performance.now() + (o.drainMs ?? 60_000);
    while (performance.now() < drainUntil) {
      const archived = archive.reduce((n, p) => n + completed(p).length, 0);
      const displayed = displays.reduce((n, p) => n + completed(p).length, 0);
      if (archived >= sent && displayed >= displayExpected) break;
      await sleep(100);
    }
    const followAllAlive = followAll !== undefined && followAll.child.exitCode === null;
    const cpu = archive.reduce((sum, p, i) => sum + cpuMs(p.child.pid) - (cpuStart[i] ?? 0), 0);
    // Everything saved: stop the cameras (Ctrl-C), then the receivers.
    for (const s of senders) s.child.kill('SIGINT');
    await Promise.all(senders.map((s) => s.done));
    let corrupt = 0;
    /** Distinct snapshots saved (checked on disk), duplicates, and latencies; `camera`: only that camera's. */
    const tally = (events: Record<string, unknown>[], camera?: number) => {
      const seen = new Set<string>();
      const latency: number[] = [];
      const chunkRates: number[] = [];
      let duplicates = 0;
      for (const e of events) {
        const onDisk = sha(readFileSync(String(e.path)));
        const sent = sentBy.get(onDisk);
        if (!sent || onDisk !== e.sha256 || (camera !== undefined && sent.camera !== camera)) {
          corrupt++;
          continue;
        }
        if (seen.has(onDisk)) duplicates++;
        seen.add(onDisk);
        latency.push(Date.parse(String(e.ts)) - sent.readyMs);
        chunkRates.push(
          Math.ceil(Number(e.size) / DEFAULT_CHUNK_BYTES) / (Math.max(1, Number(e.durationMs)) / 1000),
        );
      }
      return { distinct: seen.size, duplicates, latency, chunkRates };
    };
    if (o.archiveEventsFile) writeFileSync(o.archiveEventsFile, archive.map((p) => p.stdout()).join(''));
    const archiveTally = tally(archive.flatMap(completed));
    const displayTallies = displays.map((p, c) => tally(completed(p), c));
    const followAllTally = tally(followAll ? completed(followAll) : []);
    const receiverFailures: Record<string, number> = {};
    for (const p of [...archive, ...displays])
      for (const e of cliEvents(p).filter((e) => e.event === 'failed'))
        receiverFailures[String(e.code)] = (receiverFailures[String(e.code)] ?? 0) + 1;
    const delivered = senders.flatMap((s) => cliEvents(s).filter((e) => e.event === 'delivered'));
    return {
      sent,
      archived: archiveTally.distinct,
      archiveDuplicates: archiveTally.duplicates,
      displayExpected,
      displayed: displayTallies.reduce((n, t) => n + t.distinct, 0),
      displayDuplicates: displayTallies.reduce((n, t) => n + t.duplicates, 0),
      corrupt,
      archiveLatencyMs: archiveTally.latency,
      archiveChunksPerSecond: archiveTally.chunkRates,
      displayLatencyMs: displayTallies.flatMap((t) => t.latency),
      transferMs: delivered.map((e) => Number(e.durationMs)),
      archiveCpuMsPerImage: cpu / Math.max(1, archiveTally.distinct),
      resentChunks: delivered.reduce((n, e) => n + Number(e.retransmittedChunks), 0),
      chunks: delivered.reduce((n, e) => n + Number(e.chunks), 0),
      receiverFailures,
      perMember: archive.map((p) => completed(p).length),
      senderErrors: senders.flatMap((s) =>
        cliEvents(s)
          .filter((e) => e.event === 'failed')
          .map((e) => `${String(e.code)}: ${String(e.message)}`),
      ),
      followAllSaved: followAllTally.distinct,
      followAllLatencyMs: followAllTally.latency,
      followAllFailed: followAll ? cliEvents(followAll).filter((e) => e.event === 'failed').length : 0,
      followAllAlive,
      unexpectedErrors: [...procs].filter((p) => /unexpected error/.test(p.stderr() + p.stdout())).length,
    };
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGINT');
    await Promise.all(procs.map((p) => p.done));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** The value at quantile `q` (0 to 1) of `values`, nearest rank; NaN for none. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
