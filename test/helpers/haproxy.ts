import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from './daemon.js';
import { freePort } from './ports.js';
import { findBinary, toolRequired, usualPaths } from './required-tool.js';
import { tcpConnections } from './sockets.js';
import { waitUntil } from './wait.js';

/** Where haproxy is (Debian package `haproxy`), or undefined when it is not installed. */
export function haproxyPath(): string | undefined {
  return findBinary(usualPaths('haproxy'), ['-v']);
}

/** True when tests that need HAProxy must run: always in CI (missing is then a failure), locally when installed. */
export function haproxyRequired(): boolean {
  return toolRequired(() => haproxyPath() !== undefined);
}

/** A backend server of the proxy: a name (`n1`) and its port on 127.0.0.1. */
export interface HaproxyServer {
  name: string;
  port: number;
}

/** An HAProxy process started by a test. */
export interface Haproxy {
  /** The port clients connect to, and `mqtt://127.0.0.1:PORT`. */
  port: number;
  url: string;
  /** Sends one command to the admin socket (`show sess`, `show stat`, `set server ...`) and returns the answer. */
  command(line: string): Promise<string>;
  /** The server (by name) behind the client connection whose source port is `clientPort`, if HAProxy has one. */
  serverOfClientPort(clientPort: number): Promise<string | undefined>;
  /**
   * The server (by name) that process `pid` is connected to through this proxy, once it is connected (waits up to
   * `timeoutMs`); a process with several connections through the proxy must not be asked.
   */
  serverOf(pid: number, timeoutMs?: number): Promise<string>;
  /** `set server be/NAME state maint|ready`: a server in maintenance gets no new connections; existing ones stay. */
  setState(name: string, state: 'maint' | 'ready'): Promise<void>;
  /** Waits until the health checks say `name` is `UP` or `DOWN` (as `show stat` reports it). */
  waitStatus(name: string, status: 'UP' | 'DOWN', timeoutMs?: number): Promise<void>;
  /** Everything haproxy printed. */
  log(): string;
  stop(): Promise<void>;
}

const BACKEND = 'mqtt_nodes';

/**
 * Starts haproxy in the foreground (`-db`), in TCP mode, round robin over `servers` with health checks as a
 * cluster's users run it (FACTS.md: `check inter 1s fall 2 rise 2`, `option redispatch`), on a free port of
 * 127.0.0.1, with its config and admin socket in a temporary folder. Long client and server timeouts: an idle
 * MQTT connection lives on keepalives.
 */
export async function startHaproxy(servers: HaproxyServer[]): Promise<Haproxy> {
  const binary = haproxyPath();
  if (!binary) throw new Error('haproxy is not installed (apt-get install haproxy)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mqimg-haproxy-'));
  const socket = join(dir, 'admin.sock');
  const conf = join(dir, 'haproxy.cfg');
  writeFileSync(
    conf,
    [
      'global',
      `  stats socket ${socket} mode 600 level admin`,
      '  maxconn 4000',
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 10m',
      '  timeout server 10m',
      '  timeout check 2s',
      '  retries 3',
      '  option redispatch',
      'frontend mqtt',
      `  bind 127.0.0.1:${port}`,
      `  default_backend ${BACKEND}`,
      `backend ${BACKEND}`,
      '  balance roundrobin',
      ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check inter 1s fall 2 rise 2`),
      '',
    ].join('\n'),
  );
  const daemon = await startDaemon('haproxy', binary, ['-db', '-f', conf], port, 20_000);

  const command = (line: string) =>
    new Promise<string>((resolve, reject) => {
      let answer = '';
      const client = connect(socket);
      client.setTimeout(5000, () => client.destroy(new Error(`haproxy did not answer "${line}"`)));
      client.on('data', (d) => (answer += d));
      client.once('error', reject);
      client.once('close', () => resolve(answer));
      client.end(`${line}\n`);
    });

  const status = async (name: string) => {
    const csv = await command('show stat');
    const header = csv.split('\n')[0]?.replace(/^# /, '').split(',') ?? [];
    const column = header.indexOf('status');
    const row = csv.split('\n').find((l) => l.startsWith(`${BACKEND},${name},`));
    return row?.split(',')[column] ?? '';
  };

  const proxy: Haproxy = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    command,
    async serverOfClientPort(clientPort) {
      const sessions = await command('show sess');
      const line = sessions.split('\n').find((l) => l.includes(`src=127.0.0.1:${clientPort} `));
      return line ? /\bsrv=(\S+)/.exec(line)?.[1] : undefined;
    },
    serverOf(pid, timeoutMs = 30_000) {
      // The same connection seen for a second: not a first attempt about to be closed (NATS closes an MQTT 5
      // CONNECT, and the client tries again with 3.1.1).
      let candidate: { localPort: number; server: string; sinceMs: number } | undefined;
      return waitUntil(
        `process ${pid} to be connected through HAProxy to a server`,
        async () => {
          const through = tcpConnections(pid).filter((c) => c.remotePort === port);
          const server =
            through.length === 1 ? await proxy.serverOfClientPort(through[0]?.localPort ?? 0) : '';
          if (!server || server === '<none>') {
            candidate = undefined;
            return undefined;
          }
          const localPort = through[0]?.localPort ?? 0;
          if (candidate?.localPort !== localPort || candidate.server !== server)
            candidate = { localPort, server, sinceMs: Date.now() };
          return Date.now() - candidate.sinceMs >= 1000 ? server : undefined;
        },
        { timeoutMs, everyMs: 100, describe: () => `connections: ${JSON.stringify(tcpConnections(pid))}` },
      );
    },
    async setState(name, state) {
      const answer = await command(`set server ${BACKEND}/${name} state ${state}`);
      if (answer.trim() !== '') throw new Error(`haproxy: set server ${name} state ${state}: ${answer}`);
    },
    async waitStatus(name, wanted, timeoutMs = 30_000) {
      let last = '';
      await waitUntil(
        `HAProxy to see ${name} ${wanted}`,
        async () => {
          last = await status(name);
          return last.startsWith(wanted);
        },
        { timeoutMs, everyMs: 200, describe: () => `last status: ${last}` },
      );
    },
    log: () => daemon.log(),
    async stop() {
      await daemon.stop(5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await Promise.all(servers.map((s) => proxy.waitStatus(s.name, 'UP')));
  return proxy;
}
