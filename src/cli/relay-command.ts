import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { addConnectionOptions, type ConnectionFlags, toConnectOptions } from './connection-options.js';
import type { RunContext } from './context.js';
import { applyProfile, type ImageFlags, imageOptions } from './image-options.js';
import { errorLine, formatBytes, formatSeconds } from './output.js';
import { byteSize, dimensions, integerIn, secondsToMs } from './parse-values.js';
import { addSendSecurityOptions, loadSendSecurity, type SendSecurityFlags } from './security-options.js';

interface RelayFlags extends ConnectionFlags, SendSecurityFlags, ImageFlags {
  from: string;
  to: string;
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
    .addOption(
      new Option('--timeout <seconds>', 'give a transfer up after this long without progress')
        .argParser(secondsToMs)
        .default(30_000, '30'),
    )
    .option('--json', 'one JSON object per delivered image', false);
  addSendSecurityOptions(command);
  addConnectionOptions(command);
  return command.action(async (flags: RelayFlags) => {
    const { filterProblem, sendTopicProblem } = await import('../protocol/topics.js');
    const fromProblem = filterProblem(flags.from);
    if (fromProblem) throw new UsageError(`invalid --from: ${fromProblem}`);
    const toProblem = sendTopicProblem(flags.to);
    if (toProblem) throw new UsageError(`invalid --to: ${toProblem}`);
    await applyProfile(command, flags);
    const connect = toConnectOptions(flags, context.output);
    const security = await loadSendSecurity(flags);
    const { subscribeImages } = await import('../session/image-sources.js');
    const { sendFeed } = await import('../session/send-feed.js');
    const { output, signal } = context;
    const snapshots = await subscribeImages(connect, flags.from, signal);
    output.info(`relaying ${flags.from} to ${flags.to}; Ctrl-C stops`);
    try {
      await sendFeed(snapshots, {
        ...connect,
        ...security,
        ...imageOptions(flags),
        topic: flags.to,
        timeoutMs: flags.timeout,
        signal,
        onConnectionEvent: (_event, detail) => output.info(detail),
        onError: (error) => output.info(errorLine(error)),
        onSuperseded: (image) => output.info(`superseded ${image.name}: a newer image was ready`),
        onDelivered(result) {
          const m = result.manifest;
          if (flags.json)
            output.json({
              event: 'delivered',
              id: m.id,
              topic: flags.to,
              name: m.name,
              size: m.size,
              sha256: m.sha256,
              durationMs: Math.round(result.durationMs),
            });
          else
            output.result(
              `relayed ${m.name} to ${flags.to}: ${formatBytes(m.size)}, ${formatSeconds(result.durationMs)}`,
            );
        },
      });
    } finally {
      await snapshots.close();
    }
  });
}
