import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

let gc: Gc | undefined | null = null;

/**
 * V8's `gc` function, exposed at run time (`--expose-gc` set through `v8.setFlagsFromString`, then read from a new
 * context), or undefined where that does not work. Looked up once.
 */
function exposedGc(): Gc | undefined {
  if (gc !== null) return gc;
  try {
    setFlagsFromString('--expose-gc');
    const found = runInNewContext('gc') as unknown;
    gc = typeof found === 'function' ? (found as Gc) : undefined;
  } catch {
    gc = undefined;
  }
  return gc;
}

/**
 * Keeps a receiver's memory flat. Every chunk payload mqtt.js hands over is a Buffer outside the JavaScript heap;
 * few JavaScript objects are made per byte, so V8 collects rarely and dead payloads pile up (50 MB at 4 or 64 KiB
 * chunks: about +30 MiB of RSS). After every `everyBytes` (default 4 MiB) of payload, a minor collection (a
 * scavenge, well under a millisecond here) frees them while they are still young. Does nothing where `gc` cannot
 * be exposed. (A sender's leftovers live until PUBACK and get promoted, so only major collections free them; at
 * about 15% of the speed for 4 KiB chunks, the sender does not do that.)
 */
export class PayloadReclaimer {
  private pending = 0;
  constructor(private readonly everyBytes = 4 * 1024 * 1024) {}

  /** Counts `bytes` of payload that are now garbage, collecting when enough have passed. */
  released(bytes: number): void {
    this.pending += bytes;
    if (this.pending < this.everyBytes) return;
    this.pending = 0;
    exposedGc()?.({ type: 'minor' });
  }
}
