import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { DeclaredImage } from '../image/verify-image.js';
import { definedOnly } from '../protocol/defined.js';
import { addConnectionOptions, type ConnectionFlags, toConnectOptions } from './connection-options.js';
import type { RunContext } from './context.js';
import { formatBytes, formatSeconds } from './output.js';
import { byteSize, integerIn, secondsToMs } from './parse-values.js';

/**
 * Bytes of chunk payload between the receiver's forced minor garbage collections (`ReceiverOptions.gcEveryBytes`):
 * 4 MiB. Off by default for library users, because it sets `--expose-gc` in their process; the CLI owns its
 * process, and keeps a long-running receiver's memory flat with it.
 */
export const CLI_GC_EVERY_BYTES = 4 * 1024 * 1024;

interface ReceiveFlags extends ConnectionFlags {
  out: string;
  topic?: string;
  once: boolean;
  count?: number;
  timeout: number;
  maxBytes: number;
  maxTransfers: number;
  qos: '0' | '1';
  verifyImage: boolean;
  republish?: string;
  trust?: string;
  maxAge: number;
  encrypt?: string;
  json: boolean;
}

/** `mqimg receive --out <dir>` */
export function receiveCommand(context: RunContext): Command {
  const command = new Command('receive')
    .description('receive mqimg transfers, verify them and save each file atomically in a folder')
    .requiredOption('-o, --out <dir>', 'folder to save files in (created if missing)')
    .option(
      '-t, --topic <filter>',
      'MQTT topic filter of the senders to receive from, e.g. cam/+ (default: every mqimg transfer)',
    )
    .option('--once', 'exit after the first file is saved', false)
    .option('--count <n>', 'exit after this many files are saved', integerIn(1, 1_000_000))
    .addOption(
      new Option(
        '--timeout <seconds>',
        'give up a transfer after this long without receiving anything for it',
      )
        .argParser(secondsToMs)
        .default(30_000, '30'),
    )
    .option(
      '--max-bytes <bytes>',
      'refuse files larger than this (K, M, G suffixes)',
      byteSize,
      256 * 1024 * 1024,
    )
    .option(
      '--max-transfers <n>',
      'most transfers received at once; more are refused',
      integerIn(1, 10_000),
      16,
    )
    .addOption(
      new Option(
        '--qos <0|1>',
        'QoS of the chunk subscription: 0 (losses are recovered end to end) or 1 (the broker queues them)',
      )
        .choices(['0', '1'])
        .default('0'),
    )
    .option(
      '--republish <topic>',
      'also publish each saved file as one retained message on this topic ({topic} and {name} are replaced), for Home Assistant',
    )
    .option(
      '--verify-image',
      'decode each file fully before saving it, and refuse it unless it is an image of its declared type (raw pixels: unless its size fits its format, width and height)',
      false,
    )
    .option(
      '--trust <path>',
      'save only transfers signed by one of these Ed25519 public keys: a .pub file, or a folder of them',
    )
    .addOption(
      new Option('--max-age <seconds>', 'with --trust: refuse signed manifests created longer ago than this')
        .argParser(secondsToMs)
        .default(600_000, '600'),
    )
    .option(
      '--encrypt <secretfile>',
      "accept only transfers encrypted with this shared secret (the sender's --encrypt file), and decrypt them",
    )
    .option('--json', 'print one JSON object per event (started, completed, failed, rejected)', false);
  addConnectionOptions(command);
  return command.action(async (flags: ReceiveFlags) => {
    if (flags.once && flags.count !== undefined)
      throw new UsageError('--once and --count cannot be used together: --once is --count 1');
    const { receiveImages } = await import('../session/receive-images.js');
    if (flags.republish !== undefined) {
      const { sendTopicProblem } = await import('../protocol/topics.js');
      const problem = sendTopicProblem(flags.republish.replaceAll('{topic}', 't').replaceAll('{name}', 'n'));
      if (problem) throw new UsageError(`invalid --republish: ${problem}`);
    }
    const count = flags.once ? 1 : flags.count;
    const keys =
      flags.trust !== undefined || flags.encrypt !== undefined
        ? await import('../session/key-files.js')
        : undefined;
    const trust = flags.trust !== undefined ? await keys?.loadTrustedKeys(flags.trust) : undefined;
    const secret = flags.encrypt !== undefined ? await keys?.loadSecret(flags.encrypt) : undefined;
    if (command.getOptionValueSource('maxAge') === 'cli' && trust === undefined)
      throw new UsageError('--max-age applies to signed transfers: use it with --trust');
    if (secret !== undefined && flags.republish !== undefined)
      context.output.info(
        'mqimg: warning: --republish publishes each decrypted image in the clear, readable by anyone who may subscribe to that topic',
      );
    await receiveImages({
      onReady: (receiverId) =>
        context.output.info(
          `receiving into ${flags.out} from ${flags.url} as ${receiverId}${flags.topic ? ` (topics ${flags.topic})` : ''}; Ctrl-C stops`,
        ),
      ...toConnectOptions(flags, context.output),
      outDir: flags.out,
      timeoutMs: flags.timeout,
      maxBytes: flags.maxBytes,
      maxTransfers: flags.maxTransfers,
      chunkQos: flags.qos === '1' ? 1 : 0,
      gcEveryBytes: CLI_GC_EVERY_BYTES,
      ...definedOnly({
        trust,
        maxAgeMs: trust !== undefined ? flags.maxAge : undefined,
        secret,
        republishTopic: flags.republish,
        verifyFile: flags.verifyImage ? verifyImage : undefined,
        topicFilter: flags.topic,
        count,
      }),
      signal: context.signal,
      onConnectionEvent: (_event, detail) => context.output.info(detail),
      onEvent(event) {
        if (flags.json) return context.output.json(event);
        if (event.event === 'completed') {
          context.output.result(
            `${event.path}\t${formatBytes(event.size)}\tsha256 ${event.sha256}\t${formatSeconds(event.durationMs)}\tfrom ${event.topic}`,
          );
        } else if (event.event === 'failed') {
          context.output.info(
            `failed: transfer ${event.id} on ${event.topic}: ${event.code}: ${event.message}`,
          );
        } else if (event.event === 'rejected') {
          context.output.info(`rejected a message on ${event.topic}: ${event.code}: ${event.message}`);
        }
      },
    });
  });
}

/** `--verify-image`: the file must be the image (or the raw pixels) its manifest declares. */
async function verifyImage(path: string, manifest: DeclaredImage): Promise<string | undefined> {
  const { imageProblem } = await import('../image/verify-image.js');
  return imageProblem(path, manifest);
}
