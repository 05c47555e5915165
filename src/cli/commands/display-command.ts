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
}

/** `mqimg display --url ws://BROKER:PORT --topic T`: serves the display page (src/display/) for browsers. */
export function displayCommand(context: RunContext): Command {
  return new Command('display')
    .description(
      'serve a web page that shows the latest image sent to a topic, full screen: open it on a tablet, kiosk or TV',
    )
    .requiredOption(
      '--url <url>',
      "the broker's MQTT-over-WebSocket URL as the browser reaches it, e.g. ws://192.168.1.10:9001 (wss:// on an https page)",
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
    .addOption(new Option('-u, --username <name>', 'broker user name for the page').env('MQIMG_USERNAME'))
    .addOption(new Option('-P, --password <password>', 'broker password for the page').env('MQIMG_PASSWORD'))
    .action(async (flags: DisplayFlags) => {
      if (!/^wss?:\/\/[^/]/.test(flags.url))
        throw new UsageError(
          `--url ${flags.url}: the page connects over WebSocket; give ws://HOST:PORT or wss://HOST:PORT (mqimg broker --ws-port PORT serves one)`,
        );
      const { filterProblem } = await import('../../protocol/wire/topics.js');
      const problem = filterProblem(flags.topic);
      if (problem) throw new UsageError(`invalid --topic: ${problem}`);
      const config = await pageConfig(flags);
      const { serveDisplayPage } = await import('./display-server.js');
      const server = await serveDisplayPage(config, flags.host, flags.port);
      const [first, ...others] = server.addresses;
      context.output.result(`display page at ${first}`);
      for (const other of others) context.output.info(`  also at ${other}`);
      const brokerHost = new URL(flags.url).hostname;
      if (/^(127\.|localhost$|\[::1\]$)/.test(brokerHost) && others.length > 0)
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

/** What the page is told: broker, topic, fit, trusted public keys (raw, base64) and the secret, if any. */
async function pageConfig(flags: DisplayFlags): Promise<EmbeddedConfig> {
  const config: EmbeddedConfig = { url: flags.url, topic: flags.topic, fit: flags.fit };
  if (flags.username !== undefined) config.username = flags.username;
  if (flags.password !== undefined) config.password = flags.password;
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
