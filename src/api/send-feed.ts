import { UsageError } from '../errors.js';
import type { PreparedImage } from '../image/prepare-image.js';
import { sendTopicProblem } from '../protocol/wire/topics.js';
import { chunkBytesFor } from '../session/send/send-prepared.js';
import { type SendResult, sendTransfer } from '../session/send/send-session.js';
import { MqttTransport } from '../transport/mqtt-transport.js';
import { checkOptionNames } from '../util/option-names.js';
import { type ImageInput, loadInput, SEND_IMAGES_OPTIONS, type SendImagesOptions } from './send-images.js';

/** Options of a live feed: those of `sendImages`, and what to do with what happens along the way. */
export interface SendFeedOptions extends SendImagesOptions {
  /**
   * Latest wins (default true): a newer image that is ready before the current transfer finished stops it, and
   * receivers drop the older one without saving it. With false, every image is sent, in order.
   */
  supersede?: boolean;
  /** A bad image or a failed transfer; the feed goes on. */
  onError?: (error: unknown) => void;
  /** A transfer stopped because a newer image was ready. */
  onSuperseded?: (image: PreparedImage) => void;
}

/**
 * Sends images as a source produces them (a folder being written to, a camera URL polled, ...) over one
 * connection, until the source ends or `signal` aborts. The source yields bytes with a name, or file paths (read
 * when their turn comes). Unlike `sendImages`, one bad or unreadable image or one transfer nobody confirmed is
 * reported (`onError`) and the feed goes on.
 */
export async function sendFeed(source: AsyncIterable<ImageInput>, options: SendFeedOptions): Promise<void> {
  checkOptionNames('sendFeed', options, {
    ...SEND_IMAGES_OPTIONS,
    ...{ supersede: true, onError: true, onSuperseded: true },
  } satisfies Record<keyof SendFeedOptions, true>);
  const problem = sendTopicProblem(options.topic);
  if (problem) throw new UsageError(`invalid --topic: ${problem}`);
  const supersede = options.supersede ?? true;
  const { prepareImage } = await import('../image/prepare-image.js');
  const transport = await MqttTransport.connect(options);
  const queue: ImageInput[] = [];
  let sourceDone = false;
  let wake: (() => void) | undefined;
  let current: AbortController | undefined;
  const reader = (async () => {
    try {
      for await (const input of source) {
        if (supersede) {
          queue.length = 0;
          current?.abort();
        }
        queue.push(input);
        wake?.();
      }
    } catch (error) {
      options.onError?.(error);
    } finally {
      sourceDone = true;
      wake?.();
    }
  })();
  options.signal?.addEventListener('abort', () => wake?.(), { once: true });
  try {
    const chunkBytes = chunkBytesFor(transport, options);
    while (!options.signal?.aborted) {
      const input = queue.shift();
      if (input === undefined) {
        if (sourceDone) break;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      let image: PreparedImage;
      try {
        // A path is read only now, when its turn comes: a feed may be long, and a file may change before then.
        const { name, bytes } = await loadInput(input);
        image = await prepareImage(bytes, name, options);
      } catch (error) {
        options.onError?.(error);
        continue;
      }
      const controller = new AbortController();
      current = controller;
      const stop = () => controller.abort();
      options.signal?.addEventListener('abort', stop, { once: true });
      try {
        options.onSending?.(image, chunkBytes);
        const result: SendResult = await sendTransfer(transport, image, {
          ...options,
          chunkBytes,
          supersede,
          signal: controller.signal,
        });
        options.onDelivered?.(result, image);
      } catch (error) {
        if (options.signal?.aborted) break;
        if (controller.signal.aborted) options.onSuperseded?.(image);
        else options.onError?.(error);
      } finally {
        options.signal?.removeEventListener('abort', stop);
      }
    }
  } finally {
    current?.abort();
    await transport.close();
    if (sourceDone) await reader;
  }
}
