import { watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError } from '../errors.js';
import type { ImageInput } from './send-images.js';
import { readInput } from './send-images.js';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** True for an http:// or https:// input. */
export function isUrl(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

/** Fetches an image over HTTP(S); a clear InputError for a failed request or an empty body. */
export async function fetchImage(
  url: string,
  signal?: AbortSignal,
): Promise<{ name: string; bytes: Buffer }> {
  let response: Response;
  try {
    response = await fetch(url, signal ? { signal } : {});
  } catch (error) {
    throw new InputError(
      'input_unreadable',
      `cannot fetch ${url}: ${(error as Error).message}`,
      { url },
      error,
    );
  }
  if (!response.ok)
    throw new InputError(
      'input_unreadable',
      `${url} answered HTTP ${response.status} ${response.statusText}`,
      { url },
    );
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length === 0) throw new InputError('input_not_image', `${url} returned an empty body`, { url });
  const name = basename(new URL(url).pathname) || 'snapshot';
  return { name, bytes };
}

/**
 * Polls `url` every `everyMs` milliseconds (an IP camera's snapshot URL), yielding each image; a failed poll
 * is reported through `onError` and polling goes on. Ends when `signal` aborts.
 */
export async function* pollUrl(
  url: string,
  everyMs: number,
  signal: AbortSignal,
  onError: (error: unknown) => void,
): AsyncGenerator<ImageInput> {
  while (!signal.aborted) {
    const started = Date.now();
    try {
      yield await fetchImage(url, signal);
    } catch (error) {
      if (!signal.aborted) onError(error);
    }
    await sleep(Math.max(0, everyMs - (Date.now() - started)), signal);
  }
}

/** How long a new file's size must stay the same before it counts as completely written, in milliseconds. */
const SETTLE_MS = 300;

/**
 * Starts watching `dir` (a camera or NVR writing snapshots) and returns the files that appear in it, each once it
 * is completely written: its size has not changed for SETTLE_MS. Watching starts before this resolves, so
 * nothing written afterwards is missed. Files present at the start, hidden files and `*.part`/`*.tmp`/`*~` files
 * are ignored. The iteration ends when `signal` aborts.
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
  const ready: string[] = [];
  let wake: (() => void) | undefined;
  const watcher = watch(dir, (_event, file) => {
    if (!file || file.startsWith('.') || /(\.part|\.tmp|~)$/i.test(file)) return;
    if (pending.has(file)) return;
    pending.add(file);
    void (async () => {
      let last = -1;
      for (;;) {
        await sleep(SETTLE_MS, signal);
        const now = await stat(join(dir, file)).catch(() => undefined);
        if (!now?.isFile() || signal.aborted) break;
        if (now.size === last && now.size > 0) {
          ready.push(file);
          wake?.();
          break;
        }
        last = now.size;
      }
      pending.delete(file);
    })();
  });
  signal.addEventListener(
    'abort',
    () => {
      watcher.close();
      wake?.();
    },
    { once: true },
  );
  return (async function* () {
    try {
      while (!signal.aborted) {
        const file = ready.shift();
        if (file === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
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
