/**
 * The fleet on a NATS cluster (issue 24): the same cameras (`mqimg send --watch DIR --no-supersede`, one process
 * each, a snapshot every few seconds) with an archive receiver and a display-speed receiver (one following every
 * camera through a proxy that passes 200 kB/s, as a display on a slow link: slower than the feed, so it skips; no
 * sender waits for it), on one Mosquitto with default settings and on a 3-node NATS 2.9 cluster (clustered
 * JetStream, an MQTT listener per node) behind HAProxy (TCP, round robin, health checks), each started here on free
 * ports. On the cluster also the ingest split over two archive receivers by topic filter (`cam/a/+` and `cam/b/+`),
 * how ingest is spread on a broker without shared subscriptions. Cameras publish on `cam/a/K` (K even) and
 * `cam/b/K` (K odd); the single archive follows `cam/+/+`. Prints a markdown table per run and the medians.
 *
 *   npm run build && npx tsx scripts/bench-fleet-cluster.ts
 *
 * Environment: CLUSTER_FLEET_CAMERAS (30), CLUSTER_FLEET_SECONDS (60), CLUSTER_FLEET_EVERY_S (5), FLEET_BYTES
 * (200000), CLUSTER_FLEET_FOLLOW_BPS (200000: the display-speed receiver's link), CLUSTER_FLEET_CASES (which
 * cases, comma-separated: mosquitto, cluster, cluster-split; default all), BENCH_RUNS (3).
 */
import { execFileSync } from 'node:child_process';
import { type FleetResult, quantile, runFleet } from '../test/helpers/fleet.js';
import { haproxyPath, startHaproxy } from '../test/helpers/haproxy.js';
import { startLossyProxy } from '../test/helpers/lossy-proxy.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { natsServerPath } from '../test/helpers/nats.js';
import { startNatsCluster } from '../test/helpers/nats-cluster.js';
import { fmt, machineLine, median, RUNS } from './bench/common.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const cameras = env('CLUSTER_FLEET_CAMERAS', 30);
const seconds = env('CLUSTER_FLEET_SECONDS', 60);
const everyS = env('CLUSTER_FLEET_EVERY_S', 5);
const bytes = env('FLEET_BYTES', 200_000);
const followBps = env('CLUSTER_FLEET_FOLLOW_BPS', 200_000);
const snapshots = Math.floor(seconds / everyS);

interface Case {
  key: string;
  label: string;
  broker: 'mosquitto' | 'cluster';
  archiveTopics: string[];
}
const CASES: Case[] = [
  { key: 'mosquitto', label: 'one Mosquitto, one archive', broker: 'mosquitto', archiveTopics: ['cam/+/+'] },
  {
    key: 'cluster',
    label: 'NATS cluster via HAProxy, one archive',
    broker: 'cluster',
    archiveTopics: ['cam/+/+'],
  },
  {
    key: 'cluster-split',
    label: 'NATS cluster via HAProxy, archive split by topic (2 receivers)',
    broker: 'cluster',
    archiveTopics: ['cam/a/+', 'cam/b/+'],
  },
];
const wanted = process.env.CLUSTER_FLEET_CASES?.split(',').map((c) => c.trim());
const clusterTools = natsServerPath() !== undefined && haproxyPath() !== undefined;
const cases = CASES.filter(
  (c) => (!wanted || wanted.includes(c.key)) && (c.broker !== 'cluster' || clusterTools),
);
if (!clusterTools) console.error('nats-server or haproxy is not installed: the cluster cases are left out');

/** A broker for one run: its URL, its port (for the display's slow proxy) and how to stop it. */
async function startBroker(kind: Case['broker']) {
  if (kind === 'mosquitto') {
    const broker = await startMosquitto();
    return { url: broker.url, port: broker.port, stop: () => broker.stop() };
  }
  const cluster = await startNatsCluster();
  const proxy = await startHaproxy(cluster.nodes.map((n) => ({ name: n.name, port: n.mqttPort })));
  return {
    url: proxy.url,
    port: proxy.port,
    stop: async () => {
      await proxy.stop();
      await cluster.stop();
    },
  };
}

const lost = (r: FleetResult) => r.sent - r.archived;
const duplicates = (r: FleetResult) => r.archiveDuplicates + r.corrupt;
/** Median chunks per second of one archived transfer (its chunks over the archive's time from manifest to saved). */
const chunksPerSecond = (r: FleetResult) => quantile(r.archiveChunksPerSecond, 0.5);
const failures = (r: FleetResult) =>
  Object.entries(r.receiverFailures)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ') || 'none';

const row = (label: string, run: string, r: FleetResult) => [
  label,
  run,
  String(r.sent),
  String(r.archived),
  String(lost(r)),
  String(duplicates(r)),
  fmt(quantile(r.archiveLatencyMs, 0.5), 0),
  fmt(quantile(r.archiveLatencyMs, 0.99), 0),
  fmt(quantile(r.transferMs, 0.5), 0),
  fmt(quantile(r.transferMs, 0.99), 0),
  fmt(chunksPerSecond(r), 0),
  `${r.resentChunks} of ${r.chunks}`,
  `${r.followAllSaved} of ${r.sent}${r.followAllAlive ? '' : ' (ended)'}`,
  fmt(quantile(r.followAllLatencyMs, 0.5), 0),
  r.perMember.join(' / '),
  failures(r),
  String(r.senderErrors.length + r.unexpectedErrors),
];

const rows: string[][] = [];
for (const c of cases) {
  const results: FleetResult[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const broker = await startBroker(c.broker);
    const slowLink = await startLossyProxy(broker.port, { bytesPerSecond: followBps });
    try {
      const r = await runFleet({
        url: broker.url,
        cameras,
        displays: 0,
        snapshots,
        everyMs: everyS * 1000,
        bytes,
        cameraTopic: (k) => `cam/${k % 2 === 0 ? 'a' : 'b'}/${k}`,
        archiveTopics: c.archiveTopics,
        followAll: { topic: 'cam/+/+', url: slowLink.url },
        drainMs: 120_000,
        log: (line) => console.error(`${c.key} run ${run}: ${line}`),
      });
      results.push(r);
      rows.push(row(c.label, String(run), r));
      console.error(`${c.key} run ${run}: ${rows.at(-1)?.join(' | ')}`);
      if (r.senderErrors.length > 0)
        console.error(`${c.key} run ${run}: senders: ${r.senderErrors.join('; ')}`);
    } finally {
      await slowLink.close();
      await broker.stop();
    }
  }
  const med = (f: (r: FleetResult) => number, digits = 0) => fmt(median(results.map(f)), digits);
  const q = (key: 'archiveLatencyMs' | 'transferMs' | 'followAllLatencyMs', p: number) =>
    med((r) => quantile(r[key], p));
  rows.push([
    `**${c.label}**`,
    '**median**',
    med((r) => r.sent),
    med((r) => r.archived),
    med(lost),
    med(duplicates),
    q('archiveLatencyMs', 0.5),
    q('archiveLatencyMs', 0.99),
    q('transferMs', 0.5),
    q('transferMs', 0.99),
    med(chunksPerSecond),
    `${med((r) => r.resentChunks)} of ${med((r) => r.chunks)}`,
    `${med((r) => r.followAllSaved)} of ${med((r) => r.sent)}`,
    q('followAllLatencyMs', 0.5),
    '',
    '',
    med((r) => r.senderErrors.length + r.unexpectedErrors),
  ]);
}

const version = (binary: string | undefined, args: string[]) => {
  try {
    return binary ? execFileSync(binary, args, { encoding: 'utf8' }).split('\n')[0]?.trim() : 'not installed';
  } catch {
    return 'unknown';
  }
};
console.log(machineLine());
console.log(
  `nats-server ${version(natsServerPath(), ['--version'])}; ${version(haproxyPath(), ['-v'])?.replace(/ - https.*/, '')}`,
);
console.log(
  `Fleet on a cluster: ${cameras} cameras (\`send --watch --no-supersede\`, one process each, topics cam/a/K and cam/b/K), a ${Math.round(bytes / 1000)} kB snapshot each every ${everyS} s for ${seconds} s, cameras evenly out of step; an archive (\`receive --topic 'cam/+/+'\`, or two split by topic) and a display-speed receiver following every camera through a ${Math.round(followBps / 1000)} kB/s link. Runs: ${RUNS}.`,
);
console.log('');
console.log(
  '| case | run | images sent | archived | lost | duplicates or corrupt | archive p50 ms | archive p99 ms | transfer p50 ms | transfer p99 ms | archive chunks/s per transfer (p50) | chunks resent | saved by the display-speed receiver | its p50 ms | archived per receiver | receiver failures | sender errors |',
);
console.log(`| --- | --- |${' ---: |'.repeat(12)} --- | --- | ---: |`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
