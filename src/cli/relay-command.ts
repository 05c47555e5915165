import { Command } from 'commander';
import { addConnectionOptions, type ConnectionFlags, toConnectOptions } from './connection-options.js';
import type { RunContext } from './context.js';
import { formatBytes, formatSeconds } from './output.js';
import { byteSize, dimensions, integerIn, secondsToMs } from './parse-values.js';
import { addSendSecurityOptions, loadSendSecurity, type SendSecurityFlags } from './security-options.js';

interface RelayFlags extends ConnectionFlags, SendSecurityFlags {
  from: string;
  to: string;
  profile?: string;
  resize?: { width: number; height: number };
  quality?: number;
  chunkSize?: number;
  timeout: number;
  json: boolean;
}

/**
 * `mqimg relay --from <filter> --to <topic>`: takes whole-image messages (Frigate's `frigate/<camera>/<object>/
 * snapshot`, a camera's own topic) and sends each, prepared for the display, as an mqimg transfer. Latest wins.
 */
export function relayCommand(context: RunContext): Command {
  const command = new Command('relay')
    .description(
      'subscribe to whole-image messages (e.g. Frigate snapshots) and send each as a verified mqimg transfer',
    )
    .requiredOption(
      '--from <filter>',
      'MQTT topic filter of whole-image messages, e.g. frigate/+/person/snapshot',
    )
    .requiredOption('--to <topic>', 'mqimg topic to send them to, e.g. display/door')
    .option('--profile <name>', 'a display preset, as for send (ili9341-rgb565, epaper-296x128, ...)')
    .option('--resize <WxH>', 'resize to exactly WIDTHxHEIGHT (cover)', dimensions)
    .option('--quality <1-100>', 'JPEG/WebP/AVIF quality', integerIn(1, 100))
    .option('--chunk-size <bytes>', 'chunk payload size (default 32K)', byteSize)
    .option('--timeout <seconds>', 'give a transfer up after this long without progress', secondsToMs, 30_000)
    .option('--json', 'one JSON object per delivered image', false);
  addSendSecurityOptions(command);
  addConnectionOptions(command);
  return command.action(async (flags: RelayFlags) => {
    const { filterProblem, parseTopic, sendTopicProblem } = await import('../protocol/topics.js');
    const { UsageError } = await import('../errors.js');
    const fromProblem = filterProblem(flags.from);
    if (fromProblem) throw new UsageError(`invalid --from: ${fromProblem}`);
    const toProblem = sendTopicProblem(flags.to);
    if (toProblem) throw new UsageError(`invalid --to: ${toProblem}`);
    const { MqttTransport } = await import('../transport/mqtt-transport.js');
    const { sendFeed } = await import('../session/send-feed.js');
    const profile =
      flags.profile !== undefined ? (await import('./profiles.js')).findProfile(flags.profile) : {};
    const resize = flags.resize ?? (profile.resize !== undefined ? dimensions(profile.resize) : undefined);
    const quality = flags.quality ?? profile.quality;
    const chunkBytes = flags.chunkSize ?? profile.chunkSize;
    const connect = toConnectOptions(flags, context.output);
    const security = await loadSendSecurity(flags);
    const listener = await MqttTransport.connect({
      ...connect,
      ...(connect.clientId ? { clientId: `${connect.clientId}-in` } : {}),
    });
    const images: Array<{ name: string; bytes: Buffer }> = [];
    let wake: (() => void) | undefined;
    listener.onMessage((topic, payload) => {
      // Whole images only: skip empty (cleared retained) messages and mqimg's own transfer topics.
      if (payload.length === 0 || parseTopic(topic)) return;
      images.push({ name: `${topic.split('/').filter(Boolean).join('-')}.jpg`, bytes: payload });
      wake?.();
    });
    await listener.subscribe([flags.from]);
    context.output.info(`relaying ${flags.from} to ${flags.to}; Ctrl-C stops`);
    const signal = context.signal;
    signal.addEventListener('abort', () => wake?.(), { once: true });
    async function* source() {
      while (!signal.aborted) {
        const next = images.shift();
        if (next) yield next;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    }
    try {
      await sendFeed(source(), {
        ...connect,
        ...security,
        topic: flags.to,
        timeoutMs: flags.timeout,
        signal,
        ...(profile.format !== undefined ? { format: profile.format } : {}),
        ...(resize !== undefined ? { resize, fit: profile.fit ?? 'cover' } : {}),
        ...(profile.background !== undefined ? { background: profile.background } : {}),
        ...(profile.byteOrder !== undefined ? { byteOrder: profile.byteOrder } : {}),
        ...(quality !== undefined ? { quality } : {}),
        ...(chunkBytes !== undefined ? { chunkBytes } : {}),
        onConnectionEvent: (_event, detail) => context.output.info(detail),
        onError: (error) =>
          context.output.info(`mqimg: ${error instanceof Error ? error.message : String(error)}`),
        onSuperseded: (image) => context.output.info(`superseded ${image.name}: a newer image was ready`),
        onDelivered(result) {
          const m = result.manifest;
          if (flags.json)
            context.output.json({
              event: 'delivered',
              id: m.id,
              topic: flags.to,
              name: m.name,
              size: m.size,
              sha256: m.sha256,
              durationMs: Math.round(result.durationMs),
            });
          else
            context.output.result(
              `relayed ${m.name} to ${flags.to}: ${formatBytes(m.size)}, ${formatSeconds(result.durationMs)}`,
            );
        },
      });
    } finally {
      await listener.close();
    }
  });
}
