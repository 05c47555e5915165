import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { natsServerPath } from './nats.js';
import { freePort, waitForPort } from './ports.js';
import { waitUntil } from './wait.js';

/** One node of a test cluster: its ports stay the same across a kill and a restart. */
export interface NatsNode {
  /** `n1`, `n2`, `n3`: the node's `server_name`. */
  name: string;
  /** The node's own MQTT listener, `mqtt://127.0.0.1:PORT`. */
  url: string;
  mqttPort: number;
  clientPort: number;
  clusterPort: number;
  /** The monitoring port (`/healthz`, `/jsz`). */
  httpPort: number;
  /** Whether the node's process runs (false after `kill` until `restart`). */
  running(): boolean;
  /** What the node logged so far (its `log_file`). */
  log(): string;
}

/** A 3-node NATS cluster started by a test (see `startNatsCluster`). */
export interface NatsCluster {
  nodes: NatsNode[];
  /** The node whose MQTT port is `port`, if any. */
  nodeByMqttPort(port: number): NatsNode | undefined;
  /** SIGKILLs `node` (no goodbye to its peers or clients) and waits for its process to end. */
  kill(node: NatsNode): Promise<void>;
  /** Starts a killed `node` again on the same ports with the same store, and waits until the cluster is ready. */
  restart(node: NatsNode, timeoutMs?: number): Promise<void>;
  /**
   * Resolves once every running node accepts an MQTT client and carries a QoS 1 round trip on itself. For seconds
   * after a node dies the others close new MQTT connections (their session store is being moved): a client that
   * must connect for the first time then has to wait for this.
   */
  waitServing(timeoutMs?: number): Promise<void>;
  /** Resolves once every running node answers healthy and carries an MQTT QoS 1 round trip (see `waitReady`). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Stops every node and removes the store folders. */
  stop(): Promise<void>;
}

/** How long a cluster may take to become ready on a loaded 2-core machine, by default. */
export const CLUSTER_READY_TIMEOUT_MS = 90_000;

/** What /jsz?streams=true says of a stream's replicas. */
interface StreamDetail {
  name: string;
  cluster?: { leader?: string; replicas?: Array<{ name: string; current: boolean }> };
}

/** GET `http://127.0.0.1:port/path` as JSON, or undefined when it does not answer 200 with JSON. */
async function getJson(port: number, path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) return undefined;
    return (await response.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * One MQTT QoS 1 round trip: a client on `subscribeUrl` subscribes to a fresh topic at QoS 1 (the SUBACK must grant
 * it: a clustered NATS refuses it while it cannot create the JetStream consumer), a client on `publishUrl`
 * publishes at QoS 1 (PUBACK), and the message must arrive. Resolves true or false, never throws.
 */
export async function mqttRoundTrip(
  subscribeUrl: string,
  publishUrl: string,
  timeoutMs = 5000,
): Promise<boolean> {
  const id = Math.random().toString(16).slice(2, 10);
  const topic = `mqimg-cluster-probe/${id}`;
  const options = { protocolVersion: 4 as const, reconnectPeriod: 0, connectTimeout: timeoutMs };
  const clients: mqtt.MqttClient[] = [];
  try {
    const work = async () => {
      const sub = await mqtt.connectAsync(subscribeUrl, { ...options, clientId: `probe-s-${id}` }, false);
      clients.push(sub);
      const arrived = new Promise<void>((resolve) => sub.on('message', () => resolve()));
      const granted = await sub.subscribeAsync(topic, { qos: 1 });
      if (granted[0]?.qos !== 1) return false;
      const pub =
        publishUrl === subscribeUrl
          ? sub
          : await mqtt.connectAsync(publishUrl, { ...options, clientId: `probe-p-${id}` }, false);
      if (pub !== sub) clients.push(pub);
      await pub.publishAsync(topic, 'probe', { qos: 1 });
      await arrived;
      return true;
    };
    return await Promise.race([work(), sleep(timeoutMs).then(() => false)]);
  } catch (error) {
    if (process.env.MQIMG_CLUSTER_DEBUG)
      console.error(`round trip ${subscribeUrl} -> ${publishUrl}: ${error}`);
    return false;
  } finally {
    for (const c of clients) c.end(true);
  }
}

/**
 * Starts a 3-node NATS 2.9 cluster on free loopback ports, as FACTS.md describes one: each node has a
 * `server_name`, one `cluster {}` with routes to the other two, clustered JetStream with a shared `domain` and its
 * own store folder, an `mqtt {}` listener and a monitoring port. Resolves once the cluster is ready (`waitReady`).
 * Throws when nats-server is not installed (callers skip with `natsRequired()` first; in CI that fails).
 */
export async function startNatsCluster({
  readyTimeoutMs = CLUSTER_READY_TIMEOUT_MS,
}: {
  readyTimeoutMs?: number;
} = {}): Promise<NatsCluster> {
  const binary = natsServerPath();
  if (!binary) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const dir = mkdtempSync(join(tmpdir(), 'mqimg-nats-cluster-'));
  const specs: Array<{
    name: string;
    clientPort: number;
    clusterPort: number;
    mqttPort: number;
    httpPort: number;
  }> = [];
  for (const name of ['n1', 'n2', 'n3']) {
    const [clientPort, clusterPort, mqttPort, httpPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    specs.push({ name, clientPort, clusterPort, mqttPort, httpPort });
  }
  const children = new Map<string, ChildProcess>();
  const nodes: NatsNode[] = specs.map((s) => {
    const store = join(dir, s.name);
    mkdirSync(store, { recursive: true });
    const conf = join(store, 'nats.conf');
    const routes = specs
      .filter((o) => o.name !== s.name)
      .map((o) => `nats-route://127.0.0.1:${o.clusterPort}`);
    writeFileSync(
      conf,
      [
        `server_name: ${s.name}`,
        `listen: 127.0.0.1:${s.clientPort}`,
        `http: 127.0.0.1:${s.httpPort}`,
        `log_file: "${join(store, 'nats.log')}"`,
        `jetstream { store_dir: "${join(store, 'js')}", domain: mqimg }`,
        `cluster { name: mqimg, listen: 127.0.0.1:${s.clusterPort}, routes: [${routes.join(', ')}] }`,
        // Sessions, QoS 1 messages and retained messages in streams of 3 replicas, so that they outlive one node.
        // Left to itself, NATS 2.9 sizes them by the peers it sees when the first MQTT client connects, which can
        // be 2 (and a stream of 2 stalls when either dies).
        `mqtt { listen: 127.0.0.1:${s.mqttPort}, stream_replicas: 3 }`,
        '',
      ].join('\n'),
    );
    return {
      ...s,
      url: `mqtt://127.0.0.1:${s.mqttPort}`,
      conf,
      running: () => {
        const child = children.get(s.name);
        return child !== undefined && child.exitCode === null && child.signalCode === null;
      },
      log: () => {
        try {
          return readFileSync(join(store, 'nats.log'), 'utf8');
        } catch {
          return '';
        }
      },
    };
  });
  const confOf = (node: NatsNode) => join(dir, node.name, 'nats.conf');

  const launch = (node: NatsNode) => {
    const child = spawn(binary, ['-c', confOf(node)], { stdio: 'ignore' });
    children.set(node.name, child);
  };
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const describe = () =>
    nodes
      .map((n) => `--- ${n.name} (${n.running() ? 'running' : 'down'}) log tail:\n${n.log().slice(-1500)}`)
      .join('\n');

  /** Why the cluster was not ready at the last look, for the error of a wait that timed out. */
  let notReady = '';
  /** Why `node` is not ready yet (no JetStream, no meta leader, a stream behind, no MQTT round trip), or ''. */
  const nodeNotReady = async (node: NatsNode, others: NatsNode[]): Promise<string> => {
    // Not the full /healthz: a restarted 2.9 node can report a retained-message consumer "not current" for minutes
    // while it serves MQTT well.
    const health = await getJson(node.httpPort, '/healthz?js-server-only=true');
    if (health?.status !== 'ok') return `${node.name}: /healthz says ${JSON.stringify(health)}`;
    const jsz = await getJson(node.httpPort, '/jsz');
    const meta = jsz?.meta_cluster as { leader?: string } | undefined;
    if (!meta?.leader) return `${node.name}: no JetStream meta leader`;
    // Its own round trip, and one across the routes to each other running node.
    for (const other of [node, ...others])
      if (!(await mqttRoundTrip(node.url, other.url)))
        return `${node.name}: no MQTT QoS 1 round trip to ${other.name}`;
    return '';
  };

  /**
   * A stream whose leader is not running, or whose leader sees a running peer's replica not current (a node killed
   * before then can take the stream's quorum with it), or ''. Only a stream's leader knows its followers' state.
   */
  const streamBehind = async (): Promise<string> => {
    const running = nodes.filter((n) => n.running());
    const names = new Set(running.map((n) => n.name));
    const seen = new Map<string, { leaderSays?: StreamDetail; leader?: string | undefined }>();
    for (const node of running) {
      const jsz = await getJson(node.httpPort, '/jsz?streams=true');
      const accounts = (jsz?.account_details ?? []) as Array<{ stream_detail?: StreamDetail[] }>;
      for (const stream of accounts.flatMap((a) => a.stream_detail ?? [])) {
        const entry = seen.get(stream.name) ?? {};
        entry.leader ??= stream.cluster?.leader;
        if (stream.cluster?.leader === node.name) entry.leaderSays = stream;
        seen.set(stream.name, entry);
      }
    }
    for (const [name, { leaderSays, leader }] of seen) {
      if (!leader || !names.has(leader)) return `stream ${name} has no running leader (${leader})`;
      if (!leaderSays) return `stream ${name}: its leader ${leader} does not list it yet`;
      const late = (leaderSays.cluster?.replicas ?? []).find((r) => names.has(r.name) && !r.current);
      if (late) return `stream ${name}: replica on ${late.name} not current`;
    }
    return '';
  };

  const cluster: NatsCluster = {
    nodes,
    nodeByMqttPort: (port) => nodes.find((n) => n.mqttPort === port),
    async waitReady(timeoutMs = CLUSTER_READY_TIMEOUT_MS) {
      await waitUntil(
        'the NATS cluster to be ready (healthy nodes, a JetStream meta leader, MQTT QoS 1 round trips)',
        async () => {
          const up = nodes.filter((n) => n.running());
          notReady = await streamBehind();
          if (notReady) return false;
          for (const node of up) {
            notReady = await nodeNotReady(
              node,
              up.filter((o) => o !== node),
            );
            if (notReady) return false;
          }
          return true;
        },
        { timeoutMs, everyMs: 500, describe: () => `last: ${notReady}\n${describe()}` },
      );
    },
    async waitServing(timeoutMs = CLUSTER_READY_TIMEOUT_MS) {
      await waitUntil(
        'every running node of the NATS cluster to carry an MQTT QoS 1 round trip',
        async () => {
          for (const node of nodes.filter((n) => n.running()))
            if (!(await mqttRoundTrip(node.url, node.url))) {
              notReady = `${node.name}: no MQTT QoS 1 round trip`;
              return false;
            }
          return true;
        },
        { timeoutMs, everyMs: 250, describe: () => `last: ${notReady}\n${describe()}` },
      );
    },
    async kill(node) {
      const child = children.get(node.name);
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart(node, timeoutMs = CLUSTER_READY_TIMEOUT_MS) {
      if (node.running()) throw new Error(`${node.name} is running: kill it first`);
      launch(node);
      await waitForPort(node.mqttPort, timeoutMs);
      await cluster.waitReady(timeoutMs);
    },
    async stop() {
      await Promise.all(
        [...children.values()].map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const gone = await Promise.race([exited(child).then(() => true), sleep(5000).then(() => false)]);
          if (!gone) {
            child.kill('SIGKILL');
            await exited(child);
          }
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    for (const node of nodes) launch(node);
    await Promise.all(nodes.map((n) => waitForPort(n.mqttPort, readyTimeoutMs)));
    await cluster.waitReady(readyTimeoutMs);
  } catch (error) {
    const logs = describe();
    await cluster.stop();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
  return cluster;
}
