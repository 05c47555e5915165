import { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import type { DeclaredImage } from '../../image/verify-image.js';
import { definedOnly } from '../../protocol/wire/defined.js';
import type { ReceiveEvent } from '../../session/receive/receiver-options.js';
import type { RunContext } from '../context.js';
import {
  addConnectionOptions,
  type ConnectionFlags,
  connectionEvents,
  toConnectOptions,
} from '../options/connection-options.js';
import { byteSize, integerIn, secondsToMs } from '../options/parse-values.js';
import { debugLog } from '../output/debug-log.js';
import {
  formatBytes,
  formatSeconds,
  humanBytes,
  type Output,
  plural,
  quietOutput,
} from '../output/output.js';
import { ProgressBars, progressWanted } from '../output/progress.js';
import { RateMeter, transferFields } from '../output/progress-line.js';

/**
 * Bytes of chunk payload between the receiver's forced minor garbage collections (`ReceiverOptions.gcEveryBytes`):
 * 4 MiB. Off by default for library users, because it sets `--expose-gc` in their process; the CLI owns its
 * process, and keeps a long-running receiver's memory flat with it.
 */
export const CLI_GC_EVERY_BYTES = 4 * 1024 * 1024;

interface ReceiveFlags extends ConnectionFlags {
  out: string;
  topic?: string;
  once?: boolean;
  count?: number;
  timeout: number;
  maxBytes: number;
  maxTransfers: number;
  qos: '0' | '1';
  verifyImage?: boolean;
  republish?: string;
  trust?: string;
  maxAge?: number;
  encrypt?: string;
  share?: string;
  identity?: string;
  latest?: string;
  keep?: number;
  saveAs?: string;
  json?: boolean;
  quiet?: boolean;
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
    .addOption(new Option('--once', 'exit after the first file is saved').conflicts('count'))
    .option('--count <n>', 'exit after this many files are saved', integerIn(1, 1_000_000))
    .addOption(
      new Option(
        '--timeout <seconds>',
        'give up a transfer after this long without receiving anything for it',
      )
        .argParser(secondsToMs)
        .default(30_000, '30 s'),
    )
    .addOption(
      new Option('--max-bytes <bytes>', 'refuse files larger than this (K, M, G suffixes: powers of 1024)')
        .argParser(byteSize)
        .default(256 * 1024 * 1024, '256M'),
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
    )
    .option(
      '--trust <path>',
      'save only transfers signed by one of these Ed25519 public keys: a .pub file, or a folder of them',
    )
    .addOption(
      new Option(
        '--max-age <seconds>',
        'skip transfers created longer ago than this (old retained images; mind the clocks); with --trust, refuse signed ones (default 600 s with --trust, none without)',
      ).argParser(secondsToMs),
    )
    .option(
      '--encrypt <secretfile>',
      "accept only transfers encrypted with this shared secret (the sender's --encrypt file), and decrypt them",
    )
    .option(
      '--identity <keyfile>',
      "answer as this named receiver (a private key from mqimg keygen NAME: NAME.key): senders that name it with --recipient NAME.pub count only this receiver's sealed statuses",
    )
    .option(
      '--save-as <template>',
      'where each file goes inside --out: {name} {stem} {ext} {topic} {id} {sha8} {date} {time} {yyyy} {mm} {dd} {HH} {MM} {SS}, / makes folders (default {name}; a taken name gets -1, -2...)',
    )
    .option(
      '--latest <name>',
      'keep <out>/<name> always the newest saved image, replaced atomically (for feh, a photo frame, Home Assistant)',
    )
    .option('--keep <n>', 'delete all but the newest n saved images in --out', integerIn(1, 100_000_000))
    .option(
      '--share <group>',
      'join this MQTT shared-subscription group: receivers started with the same group split the transfers, each taken whole by one of them',
    )
    .option(
      '--json',
      'print one JSON object per event (started, completed, failed, rejected, skipped), each with its time (ts)',
    )
    .option(
      '-q, --quiet',
      "no progress display and no messages but failures (-q 0 or -q 1, mosquitto's QoS, is --qos)",
    );
  addConnectionOptions(command);
  return command.action(async (flags: ReceiveFlags) => {
    const { receiveImages } = await import('../../api/receive-images.js');
    if (flags.republish !== undefined) {
      const { sendTopicProblem } = await import('../../protocol/wire/topics.js');
      const problem = sendTopicProblem(flags.republish.replaceAll('{topic}', 't').replaceAll('{name}', 'n'));
      if (problem) throw new UsageError(`invalid --republish: ${problem}`);
    }
    const count = flags.once ? 1 : flags.count;
    const keys =
      flags.trust !== undefined || flags.encrypt !== undefined || flags.identity !== undefined
        ? await import('../../platform/key-files.js')
        : undefined;
    const identity = flags.identity !== undefined ? await keys?.loadIdentity(flags.identity) : undefined;
    const trust = flags.trust !== undefined ? await keys?.loadTrustedKeys(flags.trust) : undefined;
    const secret = flags.encrypt !== undefined ? await keys?.loadSecret(flags.encrypt) : undefined;
    const bars = progressWanted(flags)
      ? (await ProgressBars.start(context.output)).stopOn(context.signal)
      : undefined;
    const output = flags.quiet
      ? quietOutput(bars?.output ?? context.output)
      : (bars?.output ?? context.output);
    if (secret !== undefined && flags.republish !== undefined)
      output.warn(
        'mqimg: warning: --republish publishes each decrypted image in the clear, readable by anyone who may subscribe to that topic',
      );
    const report = receiveReport(output, flags, bars);
    // Ctrl-C is answered at once, with what is kept; closing the connection may take a moment after.
    const onInterrupt = () => {
      bars?.stop();
      report.interrupted();
    };
    context.signal.addEventListener('abort', onInterrupt, { once: true });
    try {
      await receiveImages({
        onReady: (receiverId) =>
          output.info(
            `receiving into ${flags.out} from ${flags.url}${flags.urls !== undefined && flags.urls.length > 1 ? ` (fail-over: ${flags.urls.slice(1).join(', ')})` : ''} as ${receiverId}${flags.topic ? ` (topics ${flags.topic})` : ''}${flags.share ? ` in share group ${flags.share}` : ''}; Ctrl-C stops`,
          ),
        ...toConnectOptions(flags, output),
        outDir: flags.out,
        timeoutMs: flags.timeout,
        maxBytes: flags.maxBytes,
        maxTransfers: flags.maxTransfers,
        chunkQos: flags.qos === '1' ? 1 : 0,
        gcEveryBytes: CLI_GC_EVERY_BYTES,
        ...definedOnly({
          trust,
          maxAgeMs: trust !== undefined ? (flags.maxAge ?? DEFAULT_SIGNED_MAX_AGE_MS) : undefined,
          skipOlderThanMs: trust === undefined ? flags.maxAge : undefined,
          secret,
          republishTopic: flags.republish,
          verifyFile: flags.verifyImage ? verifyImage : undefined,
          topicFilter: flags.topic,
          shareGroup: flags.share,
          identity,
          saveAs: flags.saveAs,
          latest: flags.latest,
          keep: flags.keep,
          count,
        }),
        signal: context.signal,
        onConnectionEvent: connectionEvents(output),
        onSkipped: report.skipped,
        onEvent: report.event,
      });
    } finally {
      context.signal.removeEventListener('abort', onInterrupt);
      bars?.stop();
    }
  });
}

/** `--max-age` with `--trust` when not given: 10 minutes, in milliseconds. */
const DEFAULT_SIGNED_MAX_AGE_MS = 600_000;

/** What `receive` prints for each event: lines or JSON, and progress bars on a terminal. */
function receiveReport(output: Output, flags: ReceiveFlags, bars: ProgressBars | undefined) {
  /** Transfers started and not yet finished: size and start time (monotonic ms), for the bars and Ctrl-C. */
  const inProgress = new Map<string, { size: number; startedMs: number; meter: RateMeter }>();
  return {
    skipped(skipped: { topic: string; id: string; ageMs: number }) {
      if (flags.json) return output.json({ event: 'skipped', reason: 'too_old', ...skipped });
      output.info(
        `skipped transfer ${skipped.id} on ${skipped.topic}: created ${Math.round(skipped.ageMs / 1000)} s ago, more than --max-age`,
      );
    },
    event(event: ReceiveEvent) {
      debugLog.receive('%o', event);
      if (event.event === 'started')
        inProgress.set(event.id, { size: event.size, startedMs: performance.now(), meter: new RateMeter() });
      if (event.event === 'completed' || event.event === 'failed') {
        inProgress.delete(event.id);
        bars?.done(event.id);
      }
      if (event.event === 'progress') {
        const started = inProgress.get(event.id);
        const now = performance.now();
        started?.meter.add(now, event.bytes);
        bars?.show(event.id, event.receivedChunks, event.chunks, {
          label: `${event.name} <- ${event.topic}`,
          fields: transferFields(
            event.bytes,
            started?.size ?? event.bytes,
            started ? now - started.startedMs : 0,
            started?.meter.rate(),
          ),
        });
        return;
      }
      if (flags.json) return output.json(event);
      if (event.event === 'started' && event.resumedWith) {
        output.info(
          `resuming ${event.name} from ${event.topic}: ${event.resumedWith} of ${plural(event.chunks, 'chunk')} already here`,
        );
      } else if (event.event === 'completed') {
        output.result(
          `${event.path}\t${formatBytes(event.size)}\tsha256 ${event.sha256}\t${formatSeconds(event.durationMs)}\tfrom ${event.topic}`,
        );
      } else if (event.event === 'failed') {
        // The sender sent the image again (it was restarted, or resumed): not a failure, the new transfer goes on.
        const continued = /^(.*): sent again as transfer (\w+), which continues it$/.exec(event.message);
        if (continued)
          output.info(
            `continuing transfer ${event.id} (${continued[1]}) as transfer ${continued[2]}, sent again`,
          );
        else output.warn(`failed: transfer ${event.id} on ${event.topic}: ${event.code}: ${event.message}`);
      } else if (event.event === 'rejected') {
        output.warn(`rejected a message on ${event.topic}: ${event.code}: ${event.message}`);
      }
    },
    /** After Ctrl-C: what was kept for resuming, and how to resume it. */
    interrupted() {
      if (inProgress.size === 0) return;
      const bytes = [...inProgress.values()].reduce((sum, t) => sum + t.size, 0);
      output.warn(
        `mqimg: interrupted: ${plural(inProgress.size, 'transfer')} in progress (${humanBytes(bytes)}) kept in ${flags.out}/.mqimg-partial; run mqimg receive again with the same --out to resume`,
      );
    },
  };
}

/** `--verify-image`: the file must be the image (or the raw pixels) its manifest declares. */
async function verifyImage(path: string, manifest: DeclaredImage): Promise<string | undefined> {
  const { imageProblem } = await import('../../image/verify-image.js');
  return imageProblem(path, manifest);
}
