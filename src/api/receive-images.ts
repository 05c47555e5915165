import { nodeCrypto } from '../platform/node-crypto.js';
import { probeTopic } from '../protocol/wire/topics.js';
import { newTransferId } from '../protocol/wire/transfer-id.js';
import { onlyFreshManifests, type SkippedTransfer } from '../session/receive/fresh-manifests.js';
import { checkOutDir } from '../session/receive/out-dir-check.js';
import { type ReceiveEvent, Receiver, type ReceiverOptions } from '../session/receive/receiver.js';
import type { ShareOptions } from '../session/receive/share-group.js';
import { type ConnectOptions, MqttTransport } from '../transport/mqtt-transport.js';
import { checkOptionNames } from '../util/option-names.js';

/**
 * Options of `startReceiving`: the receiver's, the connection's, which transfers to skip, and the share group
 * (`shareGroup`: MQTT shared subscriptions, so that several receivers split the transfers among them).
 */
export interface StartReceivingOptions extends ReceiverOptions, ConnectOptions, ShareOptions {
  /**
   * Skip transfers whose manifest was created longer ago than this, in milliseconds (by the sender's clock), such
   * as old retained images (`mqimg receive --max-age` without `--trust`). Default: none skipped. (With `trust`,
   * `maxAgeMs` refuses old signed manifests instead.)
   */
  skipOlderThanMs?: number;
  /** Told of each transfer skipped for `skipOlderThanMs`. */
  onSkipped?: (skipped: SkippedTransfer) => void;
}

/** Options of `receiveImages`. */
export interface ReceiveImagesOptions extends StartReceivingOptions {
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
   * Calls `handler` if the receiver can no longer hear (a subscription made again after a reconnection was refused
   * for good: `subscription_refused` or `auth_refused`); it should then be stopped. Returns a function that removes it.
   */
  onFailure(handler: (error: Error) => void): () => void;
  /**
   * Stops receiving and disconnects. Transfers in progress are kept, not deleted: their partial files and state
   * stay in `<outDir>/.mqimg-partial`, so that a receiver started again on the same `outDir` resumes them
   * (`Receiver.stop`).
   */
  stop(): Promise<void>;
}

/**
 * Connects and starts a receiver saving into `outDir` (created if missing). Options: the connection's (`url`,
 * `username`, `password`, TLS files, `clientId`, `mqttVersion`), the receiver's (`ReceiverOptions`: `topicFilter`,
 * `timeoutMs`, `maxBytes`, `maxTransfers`, `trust`, `secret`, `onEvent`...), and `skipOlderThanMs`.
 */
export async function startReceiving(options: StartReceivingOptions): Promise<ReceivingHandle> {
  checkOptionNames('startReceiving', options, START_RECEIVING_OPTIONS);
  return receiving(options);
}

/** Every option of `startReceiving`: an unknown one is refused (option-names.ts). The compiler keeps it complete. */
const START_RECEIVING_OPTIONS = {
  ...{
    url: true,
    username: true,
    password: true,
    ca: true,
    cert: true,
    key: true,
    insecure: true,
    clientId: true,
  },
  ...{
    mqttVersion: true,
    connectTimeoutMs: true,
    onConnectionEvent: true,
    shareGroup: true,
    checkShare: true,
  },
  ...{ outDir: true, topicFilter: true, timeoutMs: true, maxBytes: true, maxTransfers: true, chunkQos: true },
  ...{
    verifyFile: true,
    republishTopic: true,
    partialTtlMs: true,
    receiverId: true,
    trust: true,
    maxAgeMs: true,
  },
  ...{ secret: true, gcEveryBytes: true, onEvent: true, clock: true, wallClock: true, crypto: true },
  ...{ skipOlderThanMs: true, onSkipped: true },
  ...{ identity: true, saveAs: true, latest: true, keep: true, scheduler: true },
} as const satisfies Record<keyof StartReceivingOptions, true>;

/** Every option of `receiveImages`. */
const RECEIVE_IMAGES_OPTIONS = {
  ...START_RECEIVING_OPTIONS,
  ...{ count: true, onReady: true, signal: true },
} as const satisfies Record<keyof ReceiveImagesOptions, true>;

/** `startReceiving` after its options were checked. */
async function receiving(options: StartReceivingOptions): Promise<ReceivingHandle> {
  await makeOutDir(options.outDir);
  // A subscription the broker refuses is asked for again for as long as a transfer may stay silent (--timeout).
  const transport = await MqttTransport.connect(options, undefined, {
    subscribeGiveUpMs: options.timeoutMs ?? 30_000,
  });
  const { skipOlderThanMs } = options;
  const receiver = new Receiver(
    skipOlderThanMs === undefined
      ? transport
      : onlyFreshManifests(transport, skipOlderThanMs, (skipped) => options.onSkipped?.(skipped)),
    options,
  );
  try {
    await receiver.start();
    // A receiver that hears nothing for a minute proves that it still hears (PROTOCOL.md 8.2).
    await transport.startProbe({ topic: probeTopic(options.topicFilter ?? '#', newTransferId(nodeCrypto)) });
  } catch (error) {
    await receiver.stop().catch(() => {});
    await transport.close();
    throw error;
  }
  return {
    receiver,
    onFailure: (handler) => transport.onFailure(handler),
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
  checkOptionNames('receiveImages', options, RECEIVE_IMAGES_OPTIONS);
  const saved: Extract<ReceiveEvent, { event: 'completed' }>[] = [];
  let finish: () => void = () => {};
  let failed: Error | undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const handle = await receiving({
    ...options,
    onEvent(event) {
      options.onEvent?.(event);
      if (event.event === 'completed') {
        saved.push(event);
        if (options.count !== undefined && saved.length >= options.count) finish();
      }
    },
  });
  handle.onFailure((error) => {
    failed = error;
    finish();
  });
  options.onReady?.(handle.receiver.receiverId);
  if (options.signal?.aborted) finish();
  options.signal?.addEventListener('abort', () => finish(), { once: true });
  await finished;
  await handle.stop();
  if (failed) throw failed;
  return saved;
}

/**
 * Creates the folder files are saved in, or says clearly why it cannot be one (a UsageError: exit 2), at once:
 * `checkOutDir` creates one level at a time (Node 20's recursive mkdir spins for ever on a path like /proc/x).
 */
async function makeOutDir(outDir: string): Promise<void> {
  await checkOutDir(outDir);
}
