import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { definedOnly } from '../../protocol/wire/defined.js';
import { brokerListProblem } from '../../transport/broker-list.js';
import type { ConnectionEvent, ConnectOptions } from '../../transport/mqtt-transport.js';
import { errnoMessage } from '../../util/errno-message.js';
import { debugLog } from '../output/debug-log.js';
import type { Output } from '../output/output.js';
import { normalizeBrokerUrl, withHostAndPort } from './broker-url.js';
import { applyConfig } from './config-file.js';
import { integerIn } from './parse-values.js';

/** Default broker URL when neither --url nor MQIMG_URL is given. */
export const DEFAULT_URL = 'mqtt://localhost:1883';

/**
 * How the running command was told where the broker is (`-h/-p`, `--url`, MQIMG_URL, or not at all), and the URL
 * that made: a connection error names what the user actually gave.
 */
export const brokerGiven: { url?: string | undefined; as: string } = { as: '--url' };

/** Options every command that talks to a broker shares, declared once here. */
export interface ConnectionFlags {
  /** The broker (the first one, when several are given): normalised by the preAction hook. */
  url: string;
  /** Every broker given (`--url` repeated, or a comma-separated list), normalised; set by the preAction hook. */
  urls?: string[];
  /** `-h`: the broker's host, replacing the URL's. */
  host?: string;
  /** `-p`: the broker's port, replacing the URL's. */
  port?: number;
  username?: string;
  password?: string;
  passwordFile?: string;
  clientId?: string;
  mqttVersion: '5' | '3.1.1' | 'auto';
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
}

/**
 * Adds the shared connection options to `command`. As in mosquitto_pub/sub and MQTTX, `-h` is the host and `-p`
 * the port (help is `--help` on every command). Where neither the command line nor MQIMG_* set one, the defaults of
 * ~/.config/mqimg/config.json apply (config-file.ts). Before the action runs, `--url` (or MQIMG_URL) is
 * normalised (`localhost:1884` -> `mqtt://localhost:1884`), other schemes are refused (exit 2), and `-h`/`-p`
 * are applied to it.
 */
export function addConnectionOptions(command: Command): Command {
  return command
    .helpOption('--help', 'display help for command')
    .optionsGroup('Connection options (mosquitto_pub/sub names; defaults from ~/.config/mqimg/config.json):')
    .addOption(
      new Option(
        '--url <url>',
        'broker: host, host:port, or an mqtt://, mqtts://, ws:// or wss:// URL; repeat it (or give a comma-separated list) for brokers to fail over between',
      )
        .env('MQIMG_URL')
        .default(DEFAULT_URL)
        .argParser(collectUrls),
    )
    .addOption(new Option('-h, --host <host>', "broker host (replaces --url's host)"))
    .addOption(
      new Option('-p, --port <port>', "broker port (replaces --url's port)").argParser(integerIn(1, 65_535)),
    )
    .hook('preAction', (self) => {
      const fromConfig = applyConfig(self);
      const flags = self.opts<Omit<ConnectionFlags, 'url'> & { url: string | string[]; cafile?: string }>();
      const urlSource = self.getOptionValueSource('url');
      if ((flags.host !== undefined || flags.port !== undefined) && urlSource === 'cli')
        throw new UsageError('give the broker either as --url or as -h/-p, not both');
      const given = typeof flags.url === 'string' ? splitUrls(flags.url) : flags.url;
      if (given.length > 1 && (flags.host !== undefined || flags.port !== undefined))
        throw new UsageError(
          `-h/-p replace the host and port of one broker, and ${given.length} are given: write each as a whole URL`,
        );
      const urls = given.map((u) => withHostAndPort(normalizeBrokerUrl(u), flags.host, flags.port));
      const problem = brokerListProblem(urls);
      if (problem) throw new UsageError(`--url: ${problem}`);
      const [url = DEFAULT_URL] = urls;
      self.setOptionValue('url', url);
      self.setOptionValue('urls', urls);
      if (flags.cafile !== undefined) self.setOptionValue('ca', flags.cafile);
      // The diagnosis of a failed connection probes the one broker given; with several, each one's error is said.
      brokerGiven.url = urls.length === 1 ? url : undefined;
      brokerGiven.as =
        flags.host !== undefined || flags.port !== undefined
          ? '-h/-p'
          : fromConfig !== undefined
            ? `"url" in ${fromConfig}`
            : urlSource === 'env'
              ? 'MQIMG_URL'
              : urlSource === 'cli'
                ? '--url'
                : `--url or -h/-p (the default is ${DEFAULT_URL})`;
    })
    .addOption(new Option('-u, --username <name>', 'user name for the broker').env('MQIMG_USERNAME'))
    .addOption(
      new Option(
        '-P, --password <password>',
        'password for the broker (prefer MQIMG_PASSWORD or --password-file: they stay out of the process list)',
      ).env('MQIMG_PASSWORD'),
    )
    .addOption(
      new Option('--password-file <file>', 'read the broker password from the first line of this file').env(
        'MQIMG_PASSWORD_FILE',
      ),
    )
    .addOption(
      new Option(
        '--ca, --cafile <file>',
        "CA certificate (PEM) the broker's certificate must chain to (--cafile: mosquitto's name)",
      ).env('MQIMG_CA'),
    )
    .addOption(
      new Option('--cert <file>', 'client certificate (PEM) for mutual TLS; needs --key').env('MQIMG_CERT'),
    )
    .addOption(new Option('--key <file>', 'private key (PEM) of --cert').env('MQIMG_KEY'))
    .option(
      '--insecure',
      "do not check the broker's TLS certificate (testing only: anyone on the path can read and change traffic)",
    )
    .addOption(new Option('-i, --client-id <id>', 'MQTT client id (default: mqimg-<random>)'))
    .addOption(
      new Option('--mqtt-version <version>', 'MQTT protocol version; auto tries 5, then 3.1.1')
        .choices(['5', '3.1.1', 'auto'])
        .default('auto'),
    )
    .optionsGroup('');
}

/**
 * `--url` given again adds a broker (commander calls this for each one, and for MQIMG_URL): a comma-separated list
 * in one value counts as several. The default is replaced, not added to.
 */
function collectUrls(value: string, previous: string | string[] | undefined): string[] {
  const earlier = Array.isArray(previous) ? previous : [];
  return [...earlier, ...splitUrls(value)];
}

/** `a, b` -> ['a', 'b']; an empty item (`a,,b`, `a,`) is a UsageError. */
export function splitUrls(value: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item.length === 0))
    throw new UsageError(
      `--url ${value}: an empty broker URL in the list (two commas, or a comma at an end?)`,
    );
  return items;
}

/**
 * What a command prints of its connection's events: one line on stderr each (a drop, a reconnection, "moved from A
 * to B", a refused subscription, a lost probe); each further refusal of the same subscription (with its reason
 * code and attempt number), and a first probe that did not come back, only with `-v`.
 */
export function connectionEvents(output: Output): (event: ConnectionEvent, detail: string) => void {
  return (event, detail) => {
    const verbose = event === 'subscription_refused_again' || event === 'probe_unusable';
    if (verbose && !debugLog.cli.enabled) return;
    output.warn(detail);
  };
}

/** Reads a file named by an option, or throws a UsageError that names the option and the problem. */
export function readOptionFile(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${option} ${path}: cannot read it (${errnoMessage(error)})`);
  }
}

/**
 * Turns parsed connection flags into transport options: reads the certificate, key and password files, and
 * refuses combinations that cannot work. Warns on `output` when --insecure is used.
 */
export function toConnectOptions(flags: ConnectionFlags, output?: Output): ConnectOptions {
  const tlsUrl = /^(mqtts|wss|ssl|tls):\/\//i.test(flags.url); // every URL of a list has the same scheme
  const tlsFiles = (['ca', 'cert', 'key'] as const).filter((f) => flags[f] !== undefined);
  if (!tlsUrl && (tlsFiles.length > 0 || flags.insecure)) {
    const given = [...tlsFiles.map((f) => `--${f}`), ...(flags.insecure ? ['--insecure'] : [])].join(', ');
    throw new UsageError(`${given} only work with TLS: use an mqtts:// or wss:// --url (got ${flags.url})`);
  }
  if ((flags.cert === undefined) !== (flags.key === undefined))
    throw new UsageError('mutual TLS needs both --cert and --key');
  if (flags.password !== undefined && flags.passwordFile !== undefined)
    throw new UsageError(
      'give the password once: --password (or MQIMG_PASSWORD) or --password-file, not both',
    );
  let password = flags.password;
  if (flags.passwordFile !== undefined) {
    password = readOptionFile('--password-file', flags.passwordFile).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (password.length === 0)
      throw new UsageError(`--password-file ${flags.passwordFile}: the first line is empty`);
  }
  if (flags.insecure)
    output?.info(
      "mqimg: warning: --insecure: the broker's certificate is not checked; anyone between here and the broker can read and change this traffic",
    );
  const file = (option: 'ca' | 'cert' | 'key') => {
    const path = flags[option];
    return path === undefined ? undefined : readOptionFile(`--${option}`, path);
  };
  return definedOnly({
    url: flags.urls !== undefined && flags.urls.length > 1 ? flags.urls : flags.url,
    mqttVersion: flags.mqttVersion === 'auto' ? 'auto' : flags.mqttVersion === '5' ? 5 : 4,
    username: flags.username,
    password,
    clientId: flags.clientId,
    ca: file('ca'),
    cert: file('cert'),
    key: file('key'),
    insecure: flags.insecure ? true : undefined,
  });
}
