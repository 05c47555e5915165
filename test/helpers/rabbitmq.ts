import { execFile as execFileCallback } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from './ports.js';
import { findBinary, toolRequired, usualPaths } from './required-tool.js';
import { waitUntil } from './wait.js';

const execFile = promisify(execFileCallback);

/**
 * RabbitMQ's MQTT plugin (`rabbitmq_mqtt`, MQTT 3.1.1 only) for the end-to-end suites. On this kind of machine
 * rabbitmq-server runs as a service (AMQP on 5672) with the plugin installed but off; it would listen on 1883,
 * where Mosquitto runs, so the plugin is given a free port of its own before it is enabled (FACTS.md, "Checked since
 * the first release"), at run time only: nothing in /etc/rabbitmq changes, and AMQP is left as it was. The plugin is
 * disabled again when the test file that enabled it stops it, so that a restarted rabbitmq-server never finds it
 * enabled without its port (it would then take 1883).
 */

/** Where rabbitmqctl is, or undefined when RabbitMQ is not installed. */
export function rabbitmqctlPath(): string | undefined {
  // `rabbitmqctl help` exits 64 after printing its usage: it exists.
  return findBinary(usualPaths('rabbitmqctl'), ['help'], { anyExit: true });
}

/**
 * True when the RabbitMQ suite must run: always in CI (`CI=true`: a missing or stopped RabbitMQ is then a failure,
 * not a skip), and locally when rabbitmqctl is installed.
 */
export function rabbitmqRequired(): boolean {
  return toolRequired(() => rabbitmqctlPath() !== undefined);
}

/** A broker handle like the other test brokers'. */
export interface RabbitMqBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * One test process at a time uses the plugin (a lease, as a folder holding the owner's pid): receivers here subscribe
 * to `#` on fixed topics, so two suites sharing the one RabbitMQ of the machine would take each other's transfers.
 */
const STATE_DIR = join(tmpdir(), 'mqimg-rabbitmq-mqtt');
const LEASE_DIR = join(STATE_DIR, 'lease');
/** Present while the plugin runs because a test enabled it (one enabled by someone else is left alone). */
const ENABLED_MARK = join(STATE_DIR, 'enabled-by-tests');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits for the lease; one left by a process that died holding it is taken over. */
async function takeLease(timeoutMs: number): Promise<void> {
  mkdirSync(STATE_DIR, { recursive: true });
  await waitUntil(
    `the RabbitMQ lease ${LEASE_DIR} (another test process uses rabbitmq_mqtt)`,
    () => {
      try {
        mkdirSync(LEASE_DIR);
        writeFileSync(join(LEASE_DIR, 'pid'), String(process.pid));
        return true;
      } catch {
        let owner = Number.NaN;
        try {
          owner = Number(readFileSync(join(LEASE_DIR, 'pid'), 'utf8'));
        } catch {
          // being written or removed: look again
        }
        if (Number.isInteger(owner) && owner > 0 && !alive(owner))
          rmSync(LEASE_DIR, { recursive: true, force: true });
        return false;
      }
    },
    { timeoutMs, everyMs: 200 },
  );
}

async function ctl(binary: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await execFile(binary, args, { timeout: timeoutMs });
  return stdout.trim();
}

/** The port the running plugin listens on (from its `tcp_listeners`), or undefined when it is not running. */
async function runningPort(ctlBinary: string): Promise<number | undefined> {
  const running = await ctl(ctlBinary, [
    'eval',
    'lists:keymember(rabbitmq_mqtt, 1, application:which_applications()).',
  ]);
  if (running !== 'true') return undefined;
  const listeners = await ctl(ctlBinary, ['eval', 'application:get_env(rabbitmq_mqtt, tcp_listeners).']);
  const port = /(\d{2,5})\}?\]\}$/.exec(listeners)?.[1];
  if (port === undefined) throw new Error(`rabbitmq_mqtt runs with listeners ${listeners}: no port found`);
  return Number(port);
}

/**
 * Enables RabbitMQ's MQTT plugin on a free port (or uses it where it already runs on a port other than 1883) for
 * this test process alone, waiting up to `leaseTimeoutMs` for another one to finish with it, and returns its URL.
 * Throws when RabbitMQ is not installed or not running (start it: `rabbitmq-server -detached`), or when the plugin
 * already runs on 1883 (Mosquitto's port: these tests must not use it).
 */
export async function startRabbitMq(leaseTimeoutMs = 100_000): Promise<RabbitMqBroker> {
  const ctlBinary = rabbitmqctlPath();
  if (!ctlBinary) throw new Error('RabbitMQ is not installed (apt-get install rabbitmq-server)');
  const pluginsBinary = join(ctlBinary, '..', 'rabbitmq-plugins');
  try {
    await ctl(ctlBinary, ['status'], 30_000);
  } catch (error) {
    throw new Error(
      `rabbitmq-server is not running (start it with rabbitmq-server -detached): ${(error as Error).message}`,
    );
  }
  await takeLease(leaseTimeoutMs);
  const release = () => rmSync(LEASE_DIR, { recursive: true, force: true });
  let port: number;
  try {
    let listening = await runningPort(ctlBinary);
    if (listening === undefined) {
      const chosen = await freePort();
      // Loaded first: loading the application later (as enabling does) would reset its environment to 1883.
      await ctl(ctlBinary, [
        'eval',
        `application:load(rabbitmq_mqtt), application:set_env(rabbitmq_mqtt, tcp_listeners, [{"127.0.0.1", ${chosen}}]).`,
      ]);
      writeFileSync(ENABLED_MARK, String(chosen));
      try {
        await ctl(pluginsBinary, ['enable', 'rabbitmq_mqtt']);
      } catch (error) {
        // Not left half-enabled in enabled_plugins, where a restarted rabbitmq-server would start it on 1883.
        await ctl(pluginsBinary, ['disable', 'rabbitmq_mqtt']).catch(() => '');
        rmSync(ENABLED_MARK, { force: true });
        throw error;
      }
      listening = chosen;
    }
    if (listening === 1883) throw new Error("rabbitmq_mqtt listens on 1883, Mosquitto's port: not used here");
    port = listening;
    await waitForPort(port, 30_000);
  } catch (error) {
    release();
    throw error;
  }
  let stopped = false;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (existsSync(ENABLED_MARK)) {
          await ctl(pluginsBinary, ['disable', 'rabbitmq_mqtt']);
          rmSync(ENABLED_MARK, { force: true });
        }
      } finally {
        release();
      }
    },
  };
}
