import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startDaemon } from './daemon.js';
import { freePort } from './ports.js';
import { findBinary, toolRequired, usualPaths } from './required-tool.js';

/** Where the mosquitto binary is, or undefined when it is not installed. */
export function mosquittoPath(): string | undefined {
  // `mosquitto -h` exits 3 after printing its help: it exists.
  return findBinary(usualPaths('mosquitto'), ['-h'], { anyExit: true });
}

/**
 * True when Mosquitto tests must run: always in CI (a missing binary is then a failure, not a skip), and
 * locally when the binary is installed.
 */
export function mosquittoRequired(): boolean {
  return toolRequired(() => mosquittoPath() !== undefined);
}

/** A Mosquitto process started by a test on a free port. */
export interface MosquittoProcess {
  port: number;
  url: string;
  /** Folder with the config (and whatever else the test writes there). */
  dir: string;
  /** Everything mosquitto logged. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts `mosquitto -c <config>` listening on 127.0.0.1 on a free port. `extraConfig` lines are appended, e.g.
 * `max_queued_messages 5`. Anonymous access is allowed unless `extraConfig` says otherwise. `port` and `reuseDir`
 * start a broker again where a stopped one was (same port, same persistence file).
 */
export async function startMosquitto(
  extraConfig: string[] = [],
  port?: number,
  reuseDir?: string,
): Promise<MosquittoProcess> {
  const binary = mosquittoPath();
  if (!binary) throw new Error('the mosquitto binary is not installed (apt-get install mosquitto)');
  const listenPort = port ?? (await freePort());
  const dir = reuseDir ?? mkdtempSync(join(tmpdir(), 'mqimg-mosquitto-'));
  // Mosquitto started as root drops to the 'mosquitto' user: let it write its persistence file here.
  chmodSync(dir, 0o777);
  const persistent = extraConfig.includes('persistence true');
  const conf = join(dir, 'mosquitto.conf');
  const hasAuth = extraConfig.some((l) => l.startsWith('allow_anonymous') || l.startsWith('password_file'));
  writeFileSync(
    conf,
    [
      `listener ${listenPort} 127.0.0.1`,
      hasAuth ? '' : 'allow_anonymous true',
      persistent ? `persistence_location ${dir}/` : 'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      ...extraConfig,
      '',
    ].join('\n'),
  );
  const daemon = await startDaemon('mosquitto', binary, ['-c', conf], listenPort);
  return {
    port: listenPort,
    url: `mqtt://127.0.0.1:${listenPort}`,
    dir,
    log: () => daemon.log(),
    stop: () => daemon.stop(),
  };
}

/**
 * Starts a Mosquitto for the enclosing `describe` (beforeAll) and stops it after (afterAll). The returned object
 * reads through to the running broker, so tests use it like the process itself.
 */
export function useMosquitto(extraConfig: string[] = []): MosquittoProcess {
  let broker: MosquittoProcess | undefined;
  beforeAll(async () => {
    broker = await startMosquitto(extraConfig);
  });
  afterAll(async () => {
    await broker?.stop();
  });
  const running = (): MosquittoProcess => {
    if (!broker) throw new Error('Mosquitto is not running (useMosquitto outside a describe?)');
    return broker;
  };
  return {
    get port() {
      return running().port;
    },
    get url() {
      return running().url;
    },
    get dir() {
      return running().dir;
    },
    log: () => running().log(),
    stop: () => running().stop(),
  };
}

/** Mosquitto's dynamic security plugin, or undefined when it is not installed (its ACLs refuse in SUBACK/PUBACK). */
export const DYNSEC_PLUGIN = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']
  .map((dir) => join(dir, 'mosquitto_dynamic_security.so'))
  .find((path) => existsSync(path));

/** One ACL of the dynamic security plugin: `acltype` is e.g. 'subscribePattern' or 'publishClientSend'. */
export interface DynsecAcl {
  acltype: string;
  topic: string;
  allow: boolean;
}

/**
 * A Mosquitto whose anonymous clients may do everything except what `acls` forbid, through the dynamic security
 * plugin (DYNSEC_PLUGIN): unlike `acl_file`, which only filters delivery, it refuses in SUBACK and, for MQTT 5, in
 * PUBACK (reason 0x87). On `port` when given (a broker restarted in its place), else a free one.
 */
export async function startMosquittoWithAcls(acls: DynsecAcl[], port?: number): Promise<MosquittoProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'mqimg-dynsec-'));
  const config = join(dir, 'dynsec.json');
  writeFileSync(
    config,
    JSON.stringify({
      defaultACLAccess: {
        publishClientSend: true,
        publishClientReceive: true,
        subscribe: true,
        unsubscribe: true,
      },
      clients: [],
      groups: [{ groupname: 'anonymous', roles: [{ rolename: 'restricted' }] }],
      roles: [{ rolename: 'restricted', acls: acls.map((acl) => ({ ...acl, priority: 0 })) }],
      anonymousGroup: 'anonymous',
    }),
  );
  chmodSync(config, 0o666); // Mosquitto started as root runs as 'mosquitto' and rewrites it
  return startMosquitto(
    ['allow_anonymous true', `plugin ${DYNSEC_PLUGIN}`, `plugin_opt_config_file ${config}`],
    port,
    dir,
  );
}
