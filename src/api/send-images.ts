import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { InputError, UsageError } from '../errors.js';
import type { PreparedImage, PrepareOptions } from '../image/prepare-image.js';
import { checkChunkBytes } from '../protocol/wire/chunk-size.js';
import { sendTopicProblem } from '../protocol/wire/topics.js';
import type { SendableImage, SendResult, SendTransferOptions } from '../session/send/send-session.js';
import type { ConnectOptions, MqttTransport } from '../transport/mqtt-transport.js';
import { errnoCode, errnoMessage } from '../util/errno-message.js';
import { checkOptionNames } from '../util/option-names.js';

/** An image to send: a file path, or bytes with a name. */
export type ImageInput = string | { name: string; bytes: Buffer };

/** Everything `sendImages` needs: where, what, how. */
export interface SendImagesOptions
  extends ConnectOptions,
    PrepareOptions,
    Omit<SendTransferOptions, 'chunkBytes'> {
  /** Chunk payload size in bytes; default 32 KiB, reduced to fit the broker's Maximum Packet Size. */
  chunkBytes?: number;
  /**
   * Leave the image on the broker as retained messages, for receivers that connect later (a display that wakes
   * up), and clear the previous retained image on the same topic. Does not wait for receivers. Default false.
   */
  retain?: boolean;
  /** Called after each image is delivered. */
  onDelivered?: (result: SendResult, image: PreparedImage) => void;
  /** Called as each image starts to be sent, with the chunk size in bytes it is sent in (e.g. to show progress). */
  onSending?: (image: PreparedImage, chunkBytes: number) => void;
}

/** Every option of `sendImages`: an unknown one is refused (option-names.ts). The compiler keeps it complete. */
export const SEND_IMAGES_OPTIONS = {
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
  ...{ mqttVersion: true, connectTimeoutMs: true, onConnectionEvent: true },
  ...{
    format: true,
    quality: true,
    maxSize: true,
    resize: true,
    fit: true,
    background: true,
    progressive: true,
  },
  ...{ optimizeCoding: true, byteOrder: true, keepMetadata: true, maxInputPixels: true },
  ...{
    topic: true,
    timeoutMs: true,
    minReceivers: true,
    maxWindow: true,
    stallMs: true,
    signal: true,
    clock: true,
  },
  ...{ wallClock: true, crypto: true, supersede: true, onProgress: true, signWith: true, secret: true },
  ...{ chunkBytes: true, retain: true, onDelivered: true, onSending: true },
  ...{ recipients: true, scheduler: true },
} as const satisfies Record<keyof SendImagesOptions, true>;

/**
 * Prepares every input (all of them, before anything is published, so that one bad file publishes nothing) while
 * it connects, and sends them one after the other. Resolves with one result per image. A bad input is reported as
 * such whatever the broker does: the connection attempt is then dropped.
 */
export async function sendImages(inputs: ImageInput[], options: SendImagesOptions): Promise<SendResult[]> {
  checkOptionNames('sendImages', options, SEND_IMAGES_OPTIONS);
  const problem = sendTopicProblem(options.topic);
  if (problem) throw new UsageError(`invalid --topic: ${problem}`);
  if (inputs.length === 0) throw new UsageError('no image given: name at least one file');
  if (options.chunkBytes !== undefined) checkChunkBytes(options.chunkBytes, 0, undefined);
  // Connect while the images are read and prepared, loading the MQTT client and the session code on the way: at
  // once for `original`, otherwise as soon as sharp works on the first image on its own threads (this thread's
  // work would only hold sharp's start back before). Nothing is published before every image is ready.
  const stopConnecting = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, stopConnecting.signal])
    : stopConnecting.signal;
  let connecting: Promise<MqttTransport> | undefined;
  const connect = () => {
    if (!connecting) {
      connecting = connectForSending(options, signal);
      connecting.catch(() => {}); // awaited below, once the images are ready: a bad image is what gets reported
    }
    return connecting;
  };
  if (options.format === 'original') connect();
  let prepared: PreparedImage[];
  try {
    prepared = await prepareAll(inputs, options, connect);
  } catch (error) {
    stopConnecting.abort();
    await connecting?.then((t) => t.close()).catch(() => {});
    throw error;
  }
  // Hash the images while the connection is being set up (in slices, so the handshake is not held up).
  const hashed = Promise.all(prepared.map((image) => hashImage(image)));
  const [transport, sendable] = await Promise.all([
    connect(),
    hashed.catch(async (error) => {
      await connect()
        .then((t) => t.close())
        .catch(() => {});
      throw error;
    }),
  ]);
  try {
    const { sendPrepared } = await import('../session/send/send-prepared.js');
    return await sendPrepared(transport, sendable, options);
  } finally {
    await transport.close();
  }
}

/** Connects, and loads the code that sends (send-prepared.ts) while the broker answers. */
async function connectForSending(
  options: ConnectOptions & { timeoutMs?: number | undefined },
  signal: AbortSignal,
): Promise<MqttTransport> {
  const { MqttTransport } = await import('../transport/mqtt-transport.js');
  // A status subscription the broker refuses is asked for again for up to --timeout, as long as a send waits.
  const connecting = MqttTransport.connect(options, signal, {
    subscribeGiveUpMs: options.timeoutMs ?? 30_000,
  });
  connecting.catch(() => {}); // returned below; this only keeps a failure during the import from going unhandled
  await import('../session/send/send-prepared.js');
  return connecting;
}

/**
 * Reads and prepares every input, in order; throws at the first that cannot be sent. `whileEncoding` is called
 * when sharp's threads take an image over (prepareImage).
 */
async function prepareAll(
  inputs: ImageInput[],
  options: PrepareOptions,
  whileEncoding: () => void,
): Promise<PreparedImage[]> {
  const { prepareImage } = await import('../image/prepare-image.js');
  const prepared: PreparedImage[] = [];
  for (const input of inputs) {
    const { name, bytes } = await loadInput(input);
    prepared.push(await prepareImage(bytes, name, options, whileEncoding));
  }
  return prepared;
}

/**
 * `image` with its SHA-256, computed 1 MiB at a time with a turn of the event loop in between, so that it overlaps
 * the network round trips of connecting. (WebCrypto's digest would run off the main thread, but it first copies
 * the whole input on it: as slow, and a second copy of the image in memory.)
 */
async function hashImage(image: PreparedImage): Promise<SendableImage> {
  // node:crypto takes a few milliseconds to load: not before sharp has the image (send-images.ts loads early).
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  const slice = 1024 * 1024;
  for (let at = 0; at < image.bytes.length; at += slice) {
    hash.update(image.bytes.subarray(at, at + slice));
    await nextTurn();
  }
  return { ...image, sha256: hash.digest('hex') };
}

/**
 * The name and bytes of an input: bytes given are taken as they are, `-` reads standard input (named `stdin`), and
 * any other string is a file path, read with `readInput`.
 */
export async function loadInput(input: ImageInput): Promise<{ name: string; bytes: Buffer }> {
  if (typeof input !== 'string') return input;
  if (input === '-') return { name: 'stdin', bytes: await readStdin() };
  return { name: input, bytes: await readInput(input) };
}

/** Reads standard input to its end (`mqimg send -`, e.g. `ffmpeg ... | mqimg send - --topic cam/1`). */
export async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY)
    throw new InputError('input_unreadable', 'standard input is a terminal: pipe an image into mqimg send -');
  const { buffer } = await import('node:stream/consumers');
  const bytes = await buffer(process.stdin);
  if (bytes.length === 0)
    throw new InputError('input_not_image', 'standard input was empty: nothing to send');
  return bytes;
}

/** Reads a file to send, with a clear error for a missing, unreadable or non-regular path. */
export async function readInput(path: string): Promise<Buffer> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT')
      throw new InputError('input_not_found', `${path}: no such file`, { file: path }, error);
    throw new InputError(
      'input_unreadable',
      `${path}: cannot read it (${errnoMessage(error)})`,
      { file: path },
      error,
    );
  }
  if (info.isDirectory())
    throw new InputError('input_is_directory', `${path} is a directory: name the image files in it`, {
      file: path,
    });
  if (!info.isFile())
    throw new InputError('input_unreadable', `${path} is not a regular file`, { file: path });
  if (info.size === 0) throw new InputError('input_not_image', `${path} is empty`, { file: path });
  try {
    return await readFile(path);
  } catch (error) {
    throw new InputError(
      'input_unreadable',
      `${basename(path)}: cannot read it (${errnoMessage(error)})`,
      { file: path },
      error,
    );
  }
}
