import { mkdir } from 'node:fs/promises';
import { type ConnectOptions, MqttTransport } from '../transport/mqtt-transport.js';
import { type ReceiveEvent, Receiver, type ReceiverOptions } from './receiver.js';

/** Options of `receiveImages`. */
export interface ReceiveImagesOptions extends ConnectOptions, ReceiverOptions {
  /** Resolve after this many files were saved. Default: run until `signal` aborts. */
  count?: number;
  /** Called once subscribed, with the receiver id its statuses carry. */
  onReady?: (receiverId: string) => void;
  signal?: AbortSignal;
}

/** A running receiver started by `startReceiving`. */
export interface ReceivingHandle {
  receiver: Receiver;
  /**
   * Stops receiving and disconnects. Transfers in progress are kept, not deleted: their partial files and state
   * stay in `<outDir>/.mqimg-partial`, so that a receiver started again on the same `outDir` resumes them
   * (`Receiver.stop`).
   */
  stop(): Promise<void>;
}

/** Connects and starts a receiver saving into `outDir` (created if missing). */
export async function startReceiving(options: ReceiverOptions & ConnectOptions): Promise<ReceivingHandle> {
  await mkdir(options.outDir, { recursive: true });
  const transport = await MqttTransport.connect(options);
  const receiver = new Receiver(transport, options);
  try {
    await receiver.start();
  } catch (error) {
    await transport.close();
    throw error;
  }
  return {
    receiver,
    async stop() {
      await receiver.stop();
      await transport.close();
    },
  };
}

/**
 * Receives until `count` files were saved or `signal` aborts, then stops and resolves with the files saved.
 * Nothing unfinished ever appears in `outDir` itself: transfers still in progress stay in `<outDir>/.mqimg-partial`
 * for a later run to resume (ones older than `partialTtlMs`, default 24 hours, are deleted when a receiver starts).
 */
export async function receiveImages(
  options: ReceiveImagesOptions,
): Promise<Extract<ReceiveEvent, { event: 'completed' }>[]> {
  const saved: Extract<ReceiveEvent, { event: 'completed' }>[] = [];
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const handle = await startReceiving({
    ...options,
    onEvent(event) {
      options.onEvent?.(event);
      if (event.event === 'completed') {
        saved.push(event);
        if (options.count !== undefined && saved.length >= options.count) finish();
      }
    },
  });
  options.onReady?.(handle.receiver.receiverId);
  if (options.signal?.aborted) finish();
  options.signal?.addEventListener('abort', () => finish(), { once: true });
  await finished;
  await handle.stop();
  return saved;
}
