import { createHash } from 'node:crypto';
import { EventEmitter, on } from 'node:events';
import { watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type ImageInput, readInput } from '../api/send-images.js';
import { InputError } from '../errors.js';
import { looksComplete, provablyComplete } from '../image/complete-image.js';
import { parseTopic } from '../protocol/wire/topics.js';
import type { ConnectOptions } from '../transport/mqtt-transport.js';
import { monotonicClock, sleep, wallClock } from '../util/clock.js';

/** How long one HTTP(S) request for an image may take before it is given up, in milliseconds: 30 s. */
export const FETCH_TIMEOUT_MS = 30_000;

/** How long a new file's size must stay the same before it counts as completely written, in milliseconds. */
const SETTLE_MS = 300;
/**
 * The first look at a new file, and the recheck of its size, in milliseconds: a file that is provably a whole image
 * at the first look (`provablyComplete`: a snapshot renamed into place, as cameras and NVRs write them) and keeps
 * its size for this long is sent without waiting SETTLE_MS twice.
 */
const QUICK_LOOK_MS = 40;
/**
 * How long a file whose size stopped changing but that does not end like a whole image (no JPEG EOI, PNG IEND...)
 * is waited for before it is sent all the same (and, if it is truncated, reported), in milliseconds: 10 s.
 */
const INCOMPLETE_WAIT_MS = 10_000;

/** Waits `ms` milliseconds, or until `signal` aborts; resolves either way. Leaves no listener on `signal`. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, signal).catch(() => {});
}

/**
 * The values emitted as `event` on `emitter` from now on, in order and buffered until read, ending (without an
 * error) when `signal` aborts: the queue behind every live feed below. Listening starts at this call, not at the
 * first read.
 */
function emitted<T>(emitter: EventEmitter, event: string, signal: AbortSignal): AsyncIterable<T> {
  if (signal.aborted) return (async function* () {})();
  const values = on(emitter, event, { signal });
  return (async function* () {
    try {
      for await (const [value] of values) yield value as T;
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  })();
}

/** True for an http:// or https:// input. */
export function isUrl(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

/**
 * Fetches an image over HTTP(S), giving up after `timeoutMs` (default FETCH_TIMEOUT_MS) or when `signal` aborts;
 * a clear InputError for a failed or slow request, an HTTP error or an empty body.
 */
export async function fetchImage(
  url: string,
  signal?: AbortSignal,
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<{ name: string; bytes: Buffer }> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const fail = (error: unknown) => {
    const why = timeout.aborted
      ? `no complete answer within ${timeoutMs / 1000} s`
      : (error as Error).message;
    return new InputError('input_unreadable', `cannot fetch ${url}: ${why}`, { url }, error);
  };
  let response: Response;
  try {
    response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  } catch (error) {
    throw fail(error);
  }
  if (!response.ok)
    throw new InputError(
      'input_unreadable',
      `${url} answered HTTP ${response.status} ${response.statusText}`,
      { url },
    );
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    throw fail(error);
  }
  if (bytes.length === 0) throw new InputError('input_not_image', `${url} returned an empty body`, { url });
  const name = basename(new URL(url).pathname) || 'snapshot';
  return { name, bytes };
}

/**
 * Polls `url` every `everyMs` milliseconds (an IP camera's snapshot URL), yielding each image; a failed poll
 * (each request may take up to FETCH_TIMEOUT_MS) is reported through `onError` and polling goes on. An image
 * byte for byte the same as the last one yielded is not yielded again: `onUnchanged` is told instead, with the
 * number of repeats since the last image yielded (1, 2, ...). Ends when
 * `signal` aborts.
 */
export async function* pollUrl(
  url: string,
  everyMs: number,
  signal: AbortSignal,
  onError: (error: unknown) => void,
  onUnchanged: (name: string, repeats: number) => void = () => {},
): AsyncGenerator<ImageInput> {
  let lastSha256: string | undefined;
  let repeats = 0;
  while (!signal.aborted) {
    const started = wallClock();
    let image: { name: string; bytes: Buffer } | undefined;
    try {
      image = await fetchImage(url, signal);
    } catch (error) {
      if (!signal.aborted) onError(error);
    }
    if (image) {
      const sha256 = createHash('sha256').update(image.bytes).digest('hex');
      if (sha256 === lastSha256) onUnchanged(image.name, ++repeats);
      else {
        lastSha256 = sha256;
        repeats = 0;
        yield image;
      }
    }
    await pause(Math.max(0, everyMs - (wallClock() - started)), signal);
  }
}

/**
 * Starts watching `dir` (a camera or NVR writing snapshots) and returns the files that appear in it, each once it
 * is completely written: its size has not changed for SETTLE_MS and it ends like a whole image (`looksComplete`;
 * a writer that pauses longer is waited for up to INCOMPLETE_WAIT_MS). Watching starts before this resolves, so
 * nothing written afterwards is missed. Files present at the start, hidden files and `*.part`/`*.tmp`/`*~` files
 * are ignored. A file that cannot be read is reported through `onError`. The iteration ends when `signal` aborts.
 */
export async function watchFolder(
  dir: string,
  signal: AbortSignal,
  onError: (error: unknown) => void,
): Promise<AsyncIterable<ImageInput>> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw new InputError('input_not_found', `--watch ${dir}: no such folder`, { dir });
  const pending = new Set<string>();
  const ready = new EventEmitter();
  const watcher = watch(dir, (_event, file) => {
    if (!file || file.startsWith('.') || /(\.part|\.tmp|~)$/i.test(file)) return;
    if (pending.has(file)) return;
    pending.add(file);
    void (async () => {
      let last = -1;
      let stableSince = Number.POSITIVE_INFINITY;
      const path = join(dir, file);
      await pause(QUICK_LOOK_MS, signal);
      const first = await stat(path).catch(() => undefined);
      if (first?.isFile() && first.size > 0 && !signal.aborted) {
        last = first.size;
        const whole = await readFile(path).then(provablyComplete, () => false);
        await pause(QUICK_LOOK_MS, signal);
        const again = await stat(path).catch(() => undefined);
        if (whole && again?.size === first.size && again.mtimeMs === first.mtimeMs && !signal.aborted) {
          ready.emit('file', file);
          pending.delete(file);
          return;
        }
        last = again?.size ?? -1;
      }
      for (;;) {
        await pause(SETTLE_MS, signal);
        const now = await stat(join(dir, file)).catch(() => undefined);
        if (!now?.isFile() || signal.aborted) break;
        if (now.size !== last || now.size === 0) {
          last = now.size;
          stableSince = Number.POSITIVE_INFINITY;
          continue;
        }
        stableSince = Math.min(stableSince, monotonicClock());
        const whole = await readFile(join(dir, file)).then(looksComplete, () => true);
        if (whole || monotonicClock() - stableSince >= INCOMPLETE_WAIT_MS) {
          ready.emit('file', file);
          break;
        }
      }
      pending.delete(file);
    })();
  });
  const files = emitted<string>(ready, 'file', signal);
  signal.addEventListener('abort', () => watcher.close(), { once: true });
  return (async function* () {
    try {
      for await (const file of files) {
        try {
          yield { name: file, bytes: await readInput(join(dir, file)) };
        } catch (error) {
          onError(error);
        }
      }
    } finally {
      watcher.close();
    }
  })();
}

/** Images arriving from a live source, and how to stop it. */
export interface ImageFeed extends AsyncIterable<ImageInput> {
  /** Stops the source and releases what it holds (a connection); safe to call more than once. */
  close(): Promise<void>;
}

/**
 * `mqimg relay`: connects a listener of its own and yields every whole-image message published on `filter`
 * (Frigate's `frigate/<camera>/<object>/snapshot`, a camera's own topic), named after its topic
 * (`frigate-door-person-snapshot.jpg`). Empty messages (a retained message cleared) and mqimg's own transfer
 * topics are skipped. The iteration ends when `signal` aborts; `close` disconnects.
 */
export async function subscribeImages(
  options: ConnectOptions,
  filter: string,
  signal: AbortSignal,
): Promise<ImageFeed> {
  // A connection of its own, beside the sender's: with the same client id each would take the other's place.
  const { clientId, ...rest } = options;
  // Loaded here, not with this module: `mqimg send FILE` reads its files through this module, and loads the MQTT
  // client later, while sharp prepares the image (send-images.ts).
  const { MqttTransport } = await import('../transport/mqtt-transport.js');
  const listener = await MqttTransport.connect(clientId ? { ...rest, clientId: `${clientId}-in` } : rest);
  const arrived = new EventEmitter();
  const images = emitted<ImageInput>(arrived, 'image', signal);
  listener.onMessage((topic, payload) => {
    if (payload.length === 0 || parseTopic(topic)) return;
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    arrived.emit('image', { name: `${topic.split('/').filter(Boolean).join('-')}.jpg`, bytes });
  });
  try {
    await listener.subscribe([filter]);
  } catch (error) {
    await listener.close();
    throw error;
  }
  // A subscription refused for good after a reconnection ends the feed with its error instead of leaving it deaf.
  listener.onFailure((error) => arrived.emit('error', error));
  let closing: Promise<void> | undefined;
  return {
    [Symbol.asyncIterator]: () => images[Symbol.asyncIterator](),
    close: () => {
      closing ??= listener.close();
      return closing;
    },
  };
}
