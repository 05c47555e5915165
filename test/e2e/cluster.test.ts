import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, startCli, startReceiver } from '../helpers/cli.js';
import { jsonLines, tempDir as makeTempDir, visibleFiles } from '../helpers/files.js';
import { type Haproxy, haproxyRequired, startHaproxy } from '../helpers/haproxy.js';
import { natsRequired } from '../helpers/nats.js';
import { type NatsCluster, type NatsNode, startNatsCluster } from '../helpers/nats-cluster.js';
import { writeNoisePng } from '../helpers/noise-image.js';
import { tcpConnections } from '../helpers/sockets.js';
import { sendAsIs } from '../helpers/transfer.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = () => makeTempDir('mqimg-cluster-');

/** Held chunks in the receiver's saved partial state for its one transfer in `out` (0 before it has one). */
function heldChunks(out: string): number {
  const dir = join(out, '.mqimg-partial');
  try {
    const state = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!state) return 0;
    const { bitmap } = JSON.parse(readFileSync(join(dir, state), 'utf8')) as { bitmap: string };
    let held = 0;
    for (const byte of Buffer.from(bitmap, 'base64')) for (let v = byte; v; v >>= 1) held += v & 1;
    return held;
  } catch {
    return 0; // not there yet, or being replaced
  }
}

/**
 * Issue 24, item 4: a node of a 3-node NATS 2.9 cluster (clustered JetStream, an MQTT listener per node) dies under
 * mqimg, through HAProxy in TCP mode (round robin, health checks) as cluster users reach it, and with a list of
 * `--url`s. The node killed is the one holding the client's connection (HAProxy's `show sess`, or the process's
 * sockets), with SIGKILL: no goodbye to peers or clients. Every wait is for a condition; timeouts are generous,
 * since a NATS cluster takes seconds to elect new leaders and refuses QoS 1 subscriptions meanwhile.
 */
describe.skipIf(!natsRequired() || !haproxyRequired())('a node of a NATS cluster dies under mqimg', () => {
  let cluster: NatsCluster;
  let proxy: Haproxy;
  let image: string;
  let imageBytes: Buffer;
  /** Every mqimg process a test started: checked for "unexpected error" and stopped after each test. */
  let processes: CliProcess[] = [];

  beforeAll(async () => {
    cluster = await startNatsCluster();
    proxy = await startHaproxy(cluster.nodes.map((n) => ({ name: n.name, port: n.mqttPort })));
    image = await writeNoisePng(600); // ~1.08 MB: ~1,055 chunks of 1 KiB, seconds on a cluster
    imageBytes = readFileSync(image);
  }, 240_000);

  afterAll(async () => {
    await proxy?.stop();
    await cluster?.stop();
  });

  afterEach(async () => {
    for (const p of processes)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.done));
    const said = processes.filter((p) => /unexpected error/.test(p.stdout() + p.stderr()));
    processes = [];
    // The next test starts on a whole cluster that HAProxy sees whole.
    for (const node of cluster.nodes) if (!node.running()) await cluster.restart(node);
    for (const node of cluster.nodes) await proxy.setState(node.name, 'ready');
    await Promise.all(cluster.nodes.map((n) => proxy.waitStatus(n.name, 'UP', 60_000)));
    // HAProxy's TCP check passes before a restarted node takes MQTT clients: a send started on it then would be
    // refused its first connection (exit 4) before the test's kill.
    await cluster.waitServing();
    expect(
      said.map((p) => p.stderr()),
      'no mqimg process may print "unexpected error"',
    ).toEqual([]);
  }, 180_000);

  const track = (p: CliProcess) => {
    processes.push(p);
    return p;
  };
  const receiver = async (args: string[]) => track(await startReceiver(args));
  const send = (topic: string, url: string, extra: string[] = []) =>
    track(startCli(['send', ...sendAsIs(image, topic, '1K'), '--timeout', '90', ...extra, '--url', url]));
  const node = (name: string): NatsNode => {
    const found = cluster.nodes.find((n) => n.name === name);
    if (!found) throw new Error(`no node ${name}`);
    return found;
  };
  /** The node `p` is connected to through HAProxy. */
  const nodeOf = async (p: CliProcess) => node(await proxy.serverOf(p.child.pid ?? 0));
  /**
   * Starts `start()` on a node other than `avoid` (HAProxy holds `avoid` in maintenance meanwhile, so round robin
   * skips it), and returns the process and its node: a kill of one then never hits the other.
   */
  const elsewhere = async (avoid: NatsNode, start: () => CliProcess) => {
    await proxy.setState(avoid.name, 'maint');
    try {
      const p = start();
      return { p, at: await nodeOf(p) };
    } finally {
      await proxy.setState(avoid.name, 'ready');
    }
  };
  /** Waits until the receiver holds `chunks` chunks of the transfer `tx` sends; fails at once if `tx` ended first. */
  const midTransfer = async (out: string, chunks: number, tx: CliProcess) => {
    const ended = () => tx.child.exitCode !== null || tx.child.signalCode !== null;
    await waitUntil(`the receiver to hold ${chunks} chunks`, () => heldChunks(out) >= chunks || ended(), {
      timeoutMs: 90_000,
      everyMs: 50,
    });
    if (heldChunks(out) < chunks)
      throw new Error(`the sender ended before the receiver held ${chunks} chunks:\n${tx.stderr()}`);
  };
  const expectWhole = (out: string) => {
    expect(visibleFiles(out)).toEqual(['noise-600.png']);
    expect(readFileSync(join(out, 'noise-600.png')).equals(imageBytes)).toBe(true);
    // No partial file left behind (the lock file of a receiver still running is not one).
    expect(readdirSync(join(out, '.mqimg-partial')).filter((f) => f !== 'receiver.lock')).toEqual([]);
  };
  const completed = (p: CliProcess) => jsonLines(p.stdout()).filter((e) => e.event === 'completed');

  it('a long-running receiver whose node is killed saves the next two images: one sent while the node is down, one after it returns', async () => {
    const out = tempDir();
    const rx = await receiver(['--out', out, '--json', '--url', proxy.url]);
    const victim = await nodeOf(rx);
    await cluster.kill(victim);
    await rx.waitForStderr(/reconnected/, 90_000);
    // A first connection is not retried: the sender waits until the nodes left take new MQTT clients again.
    await cluster.waitServing();
    const first = send('cluster/long', proxy.url);
    const sentFirst = await first.done;
    expect(sentFirst.code, sentFirst.stderr).toBe(0);
    await waitUntil('the first image saved', () => completed(rx).length >= 1, { timeoutMs: 60_000 });
    await cluster.restart(victim);
    await proxy.waitStatus(victim.name, 'UP', 60_000);
    const second = send('cluster/long', proxy.url);
    const sentSecond = await second.done;
    expect(sentSecond.code, sentSecond.stderr).toBe(0);
    await waitUntil('the second image saved', () => completed(rx).length >= 2, { timeoutMs: 60_000 });
    expect(completed(rx).map((e) => e.sha256)).toHaveLength(2);
    for (const e of completed(rx)) expect(readFileSync(String(e.path)).equals(imageBytes)).toBe(true);
  }, 400_000);

  it('a send whose node is killed mid-transfer exits 0, with the file whole at the receiver', async () => {
    const out = tempDir();
    const rx = await receiver(['--out', out, '--once', '--json', '--timeout', '90', '--url', proxy.url]);
    const rxNode = await nodeOf(rx);
    const { p: tx, at: txNode } = await elsewhere(rxNode, () => send('cluster/tx-killed', proxy.url));
    await midTransfer(out, 150, tx);
    await cluster.kill(txNode);
    const sent = await tx.done;
    if (sent.code !== 0) rx.child.kill('SIGINT'); // it would wait for the rest until its --timeout
    const received = await rx.done;
    expect(sent.code, sent.stderr).toBe(0);
    expect(received.code, received.stderr).toBe(0);
    expect(sent.stderr).toMatch(/lost the connection/);
    expectWhole(out);
  }, 400_000);

  it("the receiver's node killed mid-transfer: the file whole, no partial file left", async () => {
    const out = tempDir();
    const rx = await receiver(['--out', out, '--once', '--json', '--timeout', '90', '--url', proxy.url]);
    const rxNode = await nodeOf(rx);
    const { p: tx } = await elsewhere(rxNode, () => send('cluster/rx-killed', proxy.url));
    await midTransfer(out, 150, tx);
    await cluster.kill(rxNode);
    const sent = await tx.done;
    if (sent.code !== 0) rx.child.kill('SIGINT'); // it would wait for the rest until its --timeout
    const received = await rx.done;
    expect(sent.code, sent.stderr).toBe(0);
    expect(received.code, received.stderr).toBe(0);
    expect(received.stderr).toMatch(/lost the connection/);
    expectWhole(out);
  }, 400_000);

  it('receive --url A --url B (no HAProxy) keeps receiving after node A dies', async () => {
    const [a, b, c] = cluster.nodes as [NatsNode, NatsNode, NatsNode];
    const out = tempDir();
    const rx = await receiver(['--out', out, '--json', '--url', a.url, '--url', b.url]);
    const direct = () => tcpConnections(rx.child.pid ?? 0).map((s) => cluster.nodeByMqttPort(s.remotePort));
    await waitUntil('the receiver connected to node A', () => direct().includes(a), { timeoutMs: 30_000 });
    await cluster.kill(a);
    await waitUntil('the receiver connected to node B', () => direct().includes(b), { timeoutMs: 90_000 });
    await cluster.waitServing();
    const tx = send('cluster/urls', c.url);
    const sent = await tx.done;
    expect(sent.code, sent.stderr).toBe(0);
    await waitUntil('the image saved', () => completed(rx).length >= 1, { timeoutMs: 60_000 });
    expect(readFileSync(join(out, 'noise-600.png')).equals(imageBytes)).toBe(true);
  }, 400_000);
});
