import { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import type { RunContext } from '../context.js';
import {
  addConnectionOptions,
  type ConnectionFlags,
  connectionEvents,
  toConnectOptions,
} from '../options/connection-options.js';
import { applyProfile, checkImageOptions, type ImageFlags, imageOptions } from '../options/image-options.js';
import { byteSize, dimensions, integerIn, secondsToMs } from '../options/parse-values.js';
import {
  addSendSecurityOptions,
  loadSendSecurity,
  type SendSecurityFlags,
} from '../options/security-options.js';
import { errorLine, failureOf, quietOutput } from '../output/output.js';
import { reportDelivered } from '../output/send-report.js';

interface RelayFlags extends ConnectionFlags, SendSecurityFlags, ImageFlags {
  from: string;
  to: string;
  timeout: number;
  json?: boolean;
  quiet?: boolean;
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
        .default(30_000, '30 s'),
    )
    .option('--json', 'one JSON object per delivered image, and one per failure')
    .option('-q, --quiet', "no messages but errors (-q followed by a number, mosquitto's QoS, is refused)");
  addSendSecurityOptions(command);
  addConnectionOptions(command);
  return command.action(async (flags: RelayFlags) => {
    const { filterProblem, sendTopicProblem } = await import('../../protocol/wire/topics.js');
    const fromProblem = filterProblem(flags.from);
    if (fromProblem) throw new UsageError(`invalid --from: ${fromProblem}`);
    const toProblem = sendTopicProblem(flags.to);
    if (toProblem) throw new UsageError(`invalid --to: ${toProblem}`);
    await applyProfile(command, flags);
    checkImageOptions(flags);
    const connect = toConnectOptions(flags, context.output);
    const security = await loadSendSecurity(flags);
    const { subscribeImages } = await import('../../feeds/image-sources.js');
    const { sendFeed } = await import('../../api/send-feed.js');
    const { signal } = context;
    const output = flags.quiet ? quietOutput(context.output) : context.output;
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
        onConnectionEvent: connectionEvents(output),
        onError: (error) => {
          if (flags.json) output.json({ event: 'failed', ...failureOf(error) });
          output.warn(errorLine(error));
        },
        onSuperseded: (image) => output.info(`superseded ${image.name}: a newer image was ready`),
        onDelivered: (result) => reportDelivered(output, flags.json === true, flags.to, result, false),
      });
    } finally {
      await snapshots.close();
    }
  });
}
