import { once } from 'node:events';
import { Command, Option } from 'commander';
import type { EmbeddedConfig } from '../../display/page-config.js';
import { UsageError } from '../../errors.js';
import type { RunContext } from '../context.js';
import { integerIn, secondsToMs } from '../options/parse-values.js';

interface DisplayFlags {
  url: string;
  topic: string;
  port: number;
  host: string;
  fit: 'contain' | 'cover';
  trust?: string;
  maxAge?: number;
  encrypt?: string;
  username?: string;
  password?: string;
  ca?: string;
  allowHost?: string[];
}

/** `mqimg display --url ws://BROKER:PORT --topic T`: serves the display page (src/display/) for browsers. */
export function displayCommand(context: RunContext): Command {
  return new Command('display')
    .description(
      'serve a web page that shows the latest image sent to a topic, full screen: open it on a tablet, kiosk or TV',
    )
    .requiredOption(
      '--url <url>',
      "the broker: mqtt://HOST:PORT or mqtts://HOST:PORT (this server carries the page's MQTT, and the credentials stay here), or a WebSocket URL as the browser reaches it, ws://192.168.1.10:9001 (wss:// on an https page)",
      oneUrl,
    )
    .requiredOption('-t, --topic <topic>', 'topic (or filter) the images are sent to, e.g. cam/1')
    .option(
      '-p, --port <port>',
      'HTTP port to serve the page on (0: a free port)',
      integerIn(0, 65_535),
      8080,
    )
    .option(
      '-h, --host <address>',
      'address to serve the page on (0.0.0.0: every network, for tablets)',
      '0.0.0.0',
    )
    .addOption(
      new Option('--fit <fit>', 'contain: the whole image with bars; cover: fill the screen, cropping')
        .choices(['contain', 'cover'])
        .default('contain'),
    )
    .option(
      '--trust <path>',
      'show only transfers signed by one of these Ed25519 public keys (a .pub file, or a folder of them); the public keys are written into the page',
    )
    .addOption(
      new Option(
        '--max-age <seconds>',
        'with --trust, refuse signed transfers older than this (default 600 s)',
      ).argParser(secondsToMs),
    )
    .option(
      '--encrypt <secretfile>',
      'accept only transfers encrypted with this shared secret; the page served here carries it (anyone who can open the page can read it): serve it on a trusted network',
    )
    .addOption(new Option('-u, --username <name>', 'broker user name').env('MQIMG_USERNAME'))
    .addOption(new Option('-P, --password <password>', 'broker password').env('MQIMG_PASSWORD'))
    .option('--ca, --cafile <file>', 'CA certificate (PEM) of an mqtts:// broker')
    .option(
      '--allow-host <name>',
      'also serve the page under this host name (a reverse proxy, a DNS name); others get 421',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(async (flags: DisplayFlags) => {
      const relayed = /^mqtts?:\/\/[^/]/.test(flags.url);
      if (!relayed && !/^wss?:\/\/[^/]/.test(flags.url))
        throw new UsageError(
          `--url ${flags.url}: give the broker as mqtt://HOST:PORT or mqtts://HOST:PORT (this server relays the page), or its WebSocket URL ws://HOST:PORT or wss://HOST:PORT`,
        );
      const { filterProblem } = await import('../../protocol/wire/topics.js');
      const problem = filterProblem(flags.topic);
      if (problem) throw new UsageError(`invalid --topic: ${problem}`);
      const { RELAY_PATH, serveDisplayPage } = await import('./display-server.js');
      const config = await pageConfig(relayed ? { ...flags, url: RELAY_PATH } : flags, !relayed);
      const relay = relayed ? await brokerRelay(flags) : undefined;
      const server = await serveDisplayPage(config, flags.host, flags.port, {
        relay,
        allowHosts: flags.allowHost,
      });
      const [first, ...others] = server.addresses;
      context.output.result(`display page at ${first}`);
      for (const other of others) context.output.info(`  also at ${other}`);
      if (relayed)
        context.output.info(
          `  the page's MQTT goes through this server to ${flags.url}: send there (mqimg send IMAGE -t ${flags.topic} --url ${flags.url})`,
        );
      const brokerHost = new URL(flags.url).hostname;
      if (!relayed && /^(127\.|localhost$|\[::1\]$)/.test(brokerHost) && others.length > 0)
        context.output.info(
          `  note: a tablet opening the page looks for the broker at ${brokerHost}, which is the tablet itself; give --url with this machine's network address`,
        );
      if (config.secret !== undefined)
        context.output.warn(
          'mqimg: warning: with --encrypt the page carries the shared secret: anyone who can open it can read it',
        );
      context.output.info('Ctrl-C stops');
      if (!context.signal.aborted) await once(context.signal, 'abort');
      await server.close();
    });
}

/**
 * `--url` of `display`: one broker (given again, the last one counts). The page reaches it by itself (ws://) or
 * through one relay connection per page, neither of which moves between brokers, so a comma-separated list (what
 * `receive` and `send` take for fail-over) is refused (exit 2) instead of being taken for one strange URL.
 */
function oneUrl(value: string): string {
  if (value.includes(','))
    throw new UsageError(
      `display takes one broker, not a list (--url ${value}): the page does not fail over between brokers (put them behind one address, e.g. a TCP load balancer)`,
    );
  return value;
}

/**
 * The relay to an mqtt:// or mqtts:// broker (`--url`): a new TCP or TLS connection for each page, the credentials
 * kept in this process.
 */
async function brokerRelay(flags: DisplayFlags) {
  const url = new URL(flags.url);
  const tls = url.protocol === 'mqtts:';
  const port = Number(url.port || (tls ? 8883 : 1883));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const ca = flags.ca !== undefined ? await readCa(flags.ca) : undefined;
  const net = await import('node:net');
  const secure = tls ? await import('node:tls') : undefined;
  const username = flags.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = flags.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  return {
    connect: () =>
      secure
        ? secure.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...(ca ? { ca } : {}) })
        : net.connect(port, host),
    username,
    password,
  };
}

async function readCa(path: string): Promise<Buffer> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(path);
  } catch (error) {
    const { errnoMessage } = await import('../../util/errno-message.js');
    throw new UsageError(`--ca ${path}: cannot read it (${errnoMessage(error)})`);
  }
}

/**
 * What the page is told: broker, topic, fit, trusted public keys (raw, base64) and the secret, if any; the broker's
 * user name and password only when `withCredentials` (the page connects to a WebSocket broker itself).
 */
async function pageConfig(flags: DisplayFlags, withCredentials: boolean): Promise<EmbeddedConfig> {
  const config: EmbeddedConfig = { url: flags.url, topic: flags.topic, fit: flags.fit };
  if (withCredentials && flags.username !== undefined) config.username = flags.username;
  if (withCredentials && flags.password !== undefined) config.password = flags.password;
  if (flags.trust === undefined && flags.encrypt === undefined) return config;
  const keys = await import('../../platform/key-files.js');
  if (flags.trust !== undefined) {
    const { rawPublicKey } = await import('../../platform/node-keys.js');
    const trusted = await keys.loadTrustedKeys(flags.trust);
    config.trust = Object.fromEntries(
      [...trusted].map(([kid, key]) => [kid, Buffer.from(rawPublicKey(key)).toString('base64')]),
    );
    config.maxAgeMs = flags.maxAge ?? 600_000;
  }
  if (flags.encrypt !== undefined) config.secret = (await keys.loadSecret(flags.encrypt)).toString('base64');
  return config;
}
