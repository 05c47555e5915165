import { Command, Option } from 'commander';
import type { ImageInput } from '../../api/send-images.js';
import { UsageError } from '../../errors.js';
import { FITS, OUTPUT_FORMATS, type OutputFormat } from '../../image/output-formats.js';
import type { RunContext } from '../context.js';
import {
  addConnectionOptions,
  type ConnectionFlags,
  connectionEvents,
  toConnectOptions,
} from '../options/connection-options.js';
import { applyProfile, checkImageOptions, type ImageFlags, imageOptions } from '../options/image-options.js';
import { byteSize, dimensions, integerIn, interval, secondsToMs } from '../options/parse-values.js';
import {
  addSendSecurityOptions,
  loadSendSecurity,
  type SendSecurityFlags,
} from '../options/security-options.js';
import { debugLog } from '../output/debug-log.js';
import { errorLine, failureOf, quietOutput } from '../output/output.js';
import { ProgressBars, progressWanted } from '../output/progress.js';
import {
  interruptedSendLine,
  reportDelivered,
  type Sending,
  showSendProgress,
} from '../output/send-report.js';

/** Parsed `send` options: the image options have the library's names and types (PrepareOptions). */
interface SendFlags extends ConnectionFlags, SendSecurityFlags, ImageFlags {
  topic: string;
  format: OutputFormat;
  name?: string;
  retain?: boolean;
  watch?: string;
  every?: number;
  supersede: boolean;
  keepMetadata?: boolean;
  timeout: number;
  receivers: number;
  json?: boolean;
  quiet?: boolean;
}

/** `mqimg send <image...> --topic <topic>` */
export function sendCommand(context: RunContext): Command {
  const command = new Command('send')
    .description('prepare images and send them, chunked and verified, to receivers on a topic')
    .argument(
      '[image...]',
      'image files or http(s) URLs to send, one transfer each; - reads one image from standard input',
    )
    .requiredOption('-t, --topic <topic>', 'topic to send to, e.g. cam/1 (no wildcards); chunks go below it')
    .option(
      '--name <name>',
      'file name to announce for the one image (default: its file name; stdin.jpg for -)',
    )
    .addOption(
      new Option(
        '--format <format>',
        'output format; auto keeps JPEG/PNG/WebP/AVIF and makes JPEG of the rest; original sends the file untouched',
      )
        .choices(OUTPUT_FORMATS)
        .default('auto'),
    )
    .option(
      '--profile <name>',
      'a display preset: ili9341-rgb565, ili9341-jpeg, epaper-296x128, tablet-1024x600, or one from $MQIMG_PROFILES',
    )
    .addOption(
      new Option('--resize <WxH>', 'resize to exactly WIDTHxHEIGHT pixels for a display (see --fit)')
        .argParser(dimensions)
        .conflicts('maxSize'),
    )
    .addOption(
      new Option(
        '--fit <fit>',
        'how --resize fits: cover (crop, default), contain (letterbox), inside, fill',
      ).choices(FITS),
    )
    .option(
      '--background <colour>',
      'letterbox and transparency colour, e.g. white or #102030 (default black)',
    )
    .option('--progressive', 'progressive JPEG (default baseline, which TJpgDec and similar decoders need)')
    .option(
      '--optimize',
      'JPEG: Huffman tables optimised for the image, 2-6% smaller, encoding about twice as long (default off)',
    )
    .addOption(
      new Option(
        '--byte-order <order>',
        'byte order of rgb565: le (LVGL, default) or be (ESPHome, SPI TFTs)',
      ).choices(['le', 'be']),
    )
    .option(
      '--quality <1-100>',
      "encoder quality for JPEG, WebP and AVIF (default: sharp's, 80 for JPEG)",
      integerIn(1, 100),
    )
    .option(
      '--max-size <WxH>',
      'fit inside WIDTHxHEIGHT pixels, keeping the aspect ratio, never enlarging',
      dimensions,
    )
    .option('--keep-metadata', 'keep EXIF/ICC/XMP metadata, GPS included (default: strip it all)')
    .option(
      '--chunk-size <bytes>',
      'chunk payload size, 64 to 512K (default 32K, smaller if the broker says so)',
      byteSize,
    )
    .addOption(
      new Option('--timeout <seconds>', 'give up after this long without a receiver answering or progressing')
        .argParser(secondsToMs)
        .default(30_000, '30 s'),
    )
    .addOption(
      new Option(
        '--watch <dir>',
        'keep running and send each new image written to this folder, once it is complete',
      ).conflicts(['every', 'retain']),
    )
    .addOption(
      new Option(
        '--every <interval>',
        'with an http(s) URL: fetch and send it every interval (10s, 500ms, 2m), until Ctrl-C',
      )
        .argParser(interval)
        .conflicts('retain'),
    )
    .option(
      '--no-supersede',
      'with --watch or --every: send every image in order, instead of letting a newer one replace one still in transfer',
    )
    .addOption(
      new Option(
        '-r, --retain',
        'leave the image on the broker (retained) for displays that connect later; clears the previous one; does not wait for receivers',
      ).conflicts('receivers'),
    )
    .addOption(
      new Option('--receivers <n>', 'receivers that must confirm each image')
        .argParser(integerIn(1, 1000))
        .default(1),
    )
    .option('--json', 'print one JSON object per delivered image, and one for a failure')
    .option(
      '-q, --quiet',
      "no progress display and no messages but errors (-q followed by a number, mosquitto's QoS, is refused: send has no QoS to set)",
    );
  addSendSecurityOptions(command);
  addConnectionOptions(command);
  return command.action(async (files: string[], flags: SendFlags) => {
    const given = (name: string) => ['cli', 'env'].includes(command.getOptionValueSource(name) ?? '');
    const live = flags.watch !== undefined || flags.every !== undefined;
    if (files.length === 0 && flags.watch === undefined)
      throw new UsageError('name at least one image, - for standard input, an http(s) URL, or --watch DIR');
    if (flags.every !== undefined && (files.length !== 1 || !/^https?:\/\//i.test(files[0] ?? '')))
      throw new UsageError('--every needs exactly one http:// or https:// URL to poll');
    if (flags.watch !== undefined && files.length > 0)
      throw new UsageError('--watch takes no image arguments: it sends what appears in the folder');
    if (!live && given('supersede'))
      throw new UsageError('--no-supersede applies to live feeds: use it with --watch or --every');
    if (flags.name !== undefined && (files.length !== 1 || flags.watch !== undefined))
      throw new UsageError('--name names one image: give exactly one file, URL or -');
    await applyProfile(command, flags);
    checkImageOptions(flags);
    const { sendImages } = await import('../../api/send-images.js');
    type SendImagesOptions = Parameters<typeof sendImages>[1];
    const bars = progressWanted(flags)
      ? (await ProgressBars.start(context.output)).stopOn(context.signal)
      : undefined;
    const base = bars?.output ?? context.output;
    const output = flags.quiet ? quietOutput(base) : base;
    let sending: Sending | undefined;
    const sendOptions: SendImagesOptions = {
      ...toConnectOptions(flags, output),
      ...(await loadSendSecurity(flags)),
      ...imageOptions(flags),
      topic: flags.topic,
      keepMetadata: flags.keepMetadata ?? false,
      timeoutMs: flags.timeout,
      minReceivers: flags.receivers,
      signal: context.signal,
      ...(flags.retain ? { retain: true } : {}),
      onConnectionEvent: connectionEvents(output),
      onSending(image, chunkBytes) {
        sending = { image, chunkBytes };
        debugLog.send('sending %s: %d bytes in chunks of %d', image.name, image.bytes.length, chunkBytes);
        if (bars) showSendProgress(bars, flags.topic, sending, flags.receivers);
      },
      onProgress(progress) {
        if (!sending) return;
        sending.progress = progress;
        debugLog.send('%o', progress);
        if (bars) showSendProgress(bars, flags.topic, sending, flags.receivers);
      },
      onDelivered(result, image) {
        bars?.done(image.name);
        reportDelivered(output, flags.json === true, flags.topic, result, flags.retain === true);
      },
    };
    // Ctrl-C is answered at once, with what is left behind; closing the connection may take a moment after.
    const onInterrupt = () => {
      bars?.stop();
      context.output.warn(interruptedSendLine(sending));
    };
    context.signal.addEventListener('abort', onInterrupt, { once: true });
    try {
      if (live) await sendLive(context, flags, files[0] ?? '', output, sendOptions, bars);
      else await sendImages(await inputsOf(files, flags.name, context.signal), sendOptions);
    } finally {
      context.signal.removeEventListener('abort', onInterrupt);
      bars?.stop();
    }
  });
}

/** The inputs to send: files as paths, URLs fetched, `-` read from standard input; `--name` renames the one. */
async function inputsOf(
  files: string[],
  name: string | undefined,
  signal: AbortSignal,
): Promise<ImageInput[]> {
  const isUrl = (file: string) => /^https?:\/\//i.test(file);
  // image-sources.ts (node:crypto, fs.watch) only for URLs: a plain `send FILE` starts sooner without it.
  const fetchImage = files.some(isUrl)
    ? (await import('../../feeds/image-sources.js')).fetchImage
    : undefined;
  const { loadInput } = await import('../../api/send-images.js');
  const inputs = await Promise.all(files.map((f) => (fetchImage && isUrl(f) ? fetchImage(f, signal) : f)));
  if (name === undefined) return inputs;
  const [only] = inputs;
  const loaded = await loadInput(only ?? '-');
  return [{ name, bytes: loaded.bytes }];
}

/** `--watch DIR` and `URL --every T`: a live feed until Ctrl-C. */
async function sendLive(
  context: RunContext,
  flags: SendFlags,
  url: string,
  output: ReturnType<typeof quietOutput>,
  sendOptions: Parameters<typeof import('../../api/send-feed.js').sendFeed>[1],
  bars: ProgressBars | undefined,
): Promise<void> {
  const { pollUrl, watchFolder } = await import('../../feeds/image-sources.js');
  const { sendFeed } = await import('../../api/send-feed.js');
  const onError = (error: unknown) => {
    if (sendOptions.onSending && bars) bars.stop();
    if (flags.json) output.json({ event: 'failed', ...failureOf(error) });
    output.warn(errorLine(error));
  };
  const onUnchanged = (name: string, repeats: number) => {
    if (flags.json) output.json({ event: 'skipped', name, reason: 'unchanged' });
    else if (repeats === 1)
      output.info(`${name} unchanged since the last one sent, skipped (until it changes)`);
  };
  const source =
    flags.watch !== undefined
      ? await watchFolder(flags.watch, context.signal, onError)
      : pollUrl(url, flags.every ?? 10_000, context.signal, onError, onUnchanged);
  output.info(
    flags.watch !== undefined
      ? `watching ${flags.watch}; Ctrl-C stops`
      : `polling ${url} every ${(flags.every ?? 0) / 1000} s; Ctrl-C stops`,
  );
  await sendFeed(source, {
    ...sendOptions,
    supersede: flags.supersede,
    onError,
    onSuperseded: (image) => {
      bars?.done(image.name);
      output.info(`superseded ${image.name}: a newer image was ready`);
    },
  });
}
