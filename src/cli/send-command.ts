import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { FITS, OUTPUT_FORMATS, type OutputFormat } from '../image/prepare-image.js';
import { definedOnly } from '../protocol/defined.js';
import { addConnectionOptions, type ConnectionFlags, toConnectOptions } from './connection-options.js';
import type { RunContext } from './context.js';
import { applyProfile, type ImageFlags, imageOptions } from './image-options.js';
import { errorLine, formatBytes, formatSeconds } from './output.js';
import { byteSize, dimensions, integerIn, interval, secondsToMs } from './parse-values.js';
import { addSendSecurityOptions, loadSendSecurity, type SendSecurityFlags } from './security-options.js';

/** Parsed `send` options: the image options have the library's names and types (PrepareOptions). */
interface SendFlags extends ConnectionFlags, SendSecurityFlags, ImageFlags {
  topic: string;
  format: OutputFormat;
  retain?: boolean;
  watch?: string;
  every?: number;
  supersede: boolean;
  keepMetadata: boolean;
  timeout: number;
  receivers: number;
  json: boolean;
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
    .option('--resize <WxH>', 'resize to exactly WIDTHxHEIGHT pixels for a display (see --fit)', dimensions)
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
    .option('--keep-metadata', 'keep EXIF/ICC/XMP metadata, GPS included (default: strip it all)', false)
    .option(
      '--chunk-size <bytes>',
      'chunk payload size, 64 to 512K (default 32K, smaller if the broker says so)',
      byteSize,
    )
    .addOption(
      new Option('--timeout <seconds>', 'give up after this long without a receiver answering or progressing')
        .argParser(secondsToMs)
        .default(30_000, '30'),
    )
    .option(
      '--watch <dir>',
      'keep running and send each new image written to this folder, once it is complete',
    )
    .option(
      '--every <interval>',
      'with an http(s) URL: fetch and send it every interval (10s, 500ms, 2m), until Ctrl-C',
      interval,
    )
    .option(
      '--no-supersede',
      'with --watch or --every: send every image in order, instead of letting a newer one replace one still in transfer',
    )
    .option(
      '--retain',
      'leave the image on the broker (retained) for displays that connect later; clears the previous one; does not wait for receivers',
    )
    .option('--receivers <n>', 'receivers that must confirm each image', integerIn(1, 1000), 1)
    .option('--json', 'print one JSON object per delivered image', false);
  addSendSecurityOptions(command);
  addConnectionOptions(command);
  return command.action(async (files: string[], flags: SendFlags) => {
    const { sendImages } = await import('../session/send-images.js');
    type SendImagesOptions = Parameters<typeof sendImages>[1];
    await applyProfile(command, flags);
    const live = flags.watch !== undefined || flags.every !== undefined;
    if (files.length === 0 && flags.watch === undefined)
      throw new UsageError('name at least one image, - for standard input, an http(s) URL, or --watch DIR');
    if (flags.every !== undefined && (files.length !== 1 || !/^https?:\/\//i.test(files[0] ?? ''))) {
      throw new UsageError('--every needs exactly one http:// or https:// URL to poll');
    }
    if (flags.watch !== undefined && files.length > 0)
      throw new UsageError('--watch takes no image arguments: it sends what appears in the folder');
    const sendOptions: SendImagesOptions = {
      ...toConnectOptions(flags, context.output),
      ...(await loadSendSecurity(flags)),
      ...imageOptions(flags),
      topic: flags.topic,
      keepMetadata: flags.keepMetadata,
      timeoutMs: flags.timeout,
      minReceivers: flags.receivers,
      signal: context.signal,
      ...(flags.retain ? { retain: true } : {}),
      onConnectionEvent: (_event, detail) => context.output.info(detail),
      onDelivered(result) {
        const m = result.manifest;
        const confirmed = result.receivers.filter((r) => r.state === 'complete').length;
        if (flags.json) {
          context.output.json({
            event: 'delivered',
            id: m.id,
            topic: flags.topic,
            name: m.name,
            type: m.type,
            size: m.size,
            sha256: m.sha256,
            width: m.width,
            height: m.height,
            ...definedOnly({ pixelFormat: m.pixelFormat, stride: m.stride }),
            chunks: m.chunks,
            chunkBytes: m.chunkBytes,
            publishedChunks: result.publishedChunks,
            retransmittedChunks: result.retransmittedChunks,
            receivers: result.receivers,
            durationMs: Math.round(result.durationMs),
          });
        } else {
          context.output.result(
            `sent ${m.name} to ${flags.topic}: ${formatBytes(m.size)} in ${m.chunks} chunks, ${m.width}x${m.height}, ${flags.retain ? 'retained on the broker' : `confirmed by ${confirmed} receiver${confirmed === 1 ? '' : 's'}, ${result.retransmittedChunks} resent`}, ${formatSeconds(result.durationMs)}`,
          );
        }
      },
    };
    const { fetchImage, pollUrl, watchFolder } = await import('../session/image-sources.js');
    const onError = (error: unknown) => context.output.info(errorLine(error));
    if (live) {
      const { sendFeed } = await import('../session/send-feed.js');
      const source =
        flags.watch !== undefined
          ? await watchFolder(flags.watch, context.signal, onError)
          : pollUrl(files[0] ?? '', flags.every ?? 10_000, context.signal, onError);
      context.output.info(
        flags.watch !== undefined
          ? `watching ${flags.watch}; Ctrl-C stops`
          : `polling ${files[0]} every ${(flags.every ?? 0) / 1000} s; Ctrl-C stops`,
      );
      await sendFeed(source, {
        ...sendOptions,
        supersede: flags.supersede,
        onError,
        onSuperseded: (image) => context.output.info(`superseded ${image.name}: a newer image was ready`),
      });
      return;
    }
    const inputs = await Promise.all(
      files.map((f) => (/^https?:\/\//i.test(f) ? fetchImage(f, context.signal) : f)),
    );
    await sendImages(inputs, sendOptions);
  });
}
