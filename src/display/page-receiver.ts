import type { Manifest } from '../protocol/manifest/manifest.js';
import type { CryptoProvider } from '../protocol/security/crypto.js';
import type { ReceiveEvent } from '../receiver-core/events.js';
import { type MemoryFile, MemoryStore } from '../receiver-core/memory-store.js';
import { ReceiverCore } from '../receiver-core/receiver-core.js';
import type { MessageTransport } from '../transport/message-transport.js';
import { type Clock, monotonicClock, realScheduler, type Scheduler, wallClock } from '../util/clock.js';
import type { MemoryReplayGuard } from './memory-replay-guard.js';

/** An image the page received and verified. */
export interface ReceivedImage {
  manifest: Manifest;
  /** The file's bytes, whose SHA-256 matched the manifest. */
  bytes: Uint8Array;
  /** Its SHA-256, 64 hex digits. */
  sha256: string;
  /** When its last chunk arrived (monotonic ms, the page's clock). */
  lastChunkMs: number;
  /** The sender topic it came on (under `--topic`): which camera's image it is. */
  topic: string;
}

/** What the page receiver tells the page (overlay, tests), besides images: the events of `mqimg receive`. */
export type PageEvent = ReceiveEvent;

/** What a page receiver needs. */
export interface PageReceiverOptions {
  transport: MessageTransport;
  crypto: CryptoProvider;
  receiverId: string;
  /** Shared secret: only encrypted transfers. */
  secret?: Uint8Array | undefined;
  /** Trusted raw Ed25519 public keys by key id: only signed transfers. */
  trust?: ReadonlyMap<string, Uint8Array> | undefined;
  /** Required with `trust`: refuses replays (display/memory-replay-guard.ts). */
  replayGuard?: MemoryReplayGuard | undefined;
  /** Largest file, and most bytes held in memory for transfers in progress; default 64 MiB. */
  maxBytes?: number;
  /** A transfer nothing arrived for this long is given up, in milliseconds; default 30,000. */
  timeoutMs?: number;
  /** Monotonic clock in milliseconds; default the host's. */
  now?: Clock;
  /** Wall clock in ms since the epoch; default the host's. */
  wallNow?: Clock;
  /** Sets the status timer; default the host's timers. */
  scheduler?: Scheduler;
  onImage: (image: ReceivedImage) => void;
  onEvent?: (event: PageEvent) => void;
}

/** Most transfers a page takes in at once: a display shows one image, and a newer one usually replaces it. */
const MAX_TRANSFERS = 2;

/**
 * The display page's receiver: the receiver core (receiver-core/, the same code as `mqimg receive`) with each file
 * kept in memory, hashed with WebCrypto (or the JavaScript SHA-256 on plain http), and each verified image handed
 * to `onImage`. It keeps only the newest image of a topic: an unfinished older one is dropped for a newer one.
 */
export class PageReceiver extends ReceiverCore<MemoryFile> {
  constructor(options: PageReceiverOptions) {
    if (options.trust && !options.replayGuard)
      throw new Error('a page that trusts keys needs a replay guard');
    const { crypto, receiverId, secret, trust, replayGuard } = options;
    const now = options.now ?? monotonicClock;
    const wallNow = options.wallNow ?? wallClock;
    const store = new MemoryStore(crypto, (file, sha256) => {
      const { manifest, bytes } = file;
      const transfer = this?.transfers.get(manifest.id);
      const lastChunkMs = transfer?.lastChunkMs ?? now();
      options.onImage({ manifest, bytes, sha256, lastChunkMs, topic: transfer?.topic ?? '' });
    });
    super({
      transport: options.transport,
      store,
      receiverId,
      checks: { crypto, secret, trust, replayGuard, wallNowMs: wallNow },
      sha256: (bytes) => crypto.sha256(bytes),
      timeoutMs: options.timeoutMs ?? 30_000,
      maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
      maxTransfers: MAX_TRANSFERS,
      keepsOnlyNewest: true,
      clock: now,
      wallClock: wallNow,
      scheduler: options.scheduler ?? realScheduler,
      onEvent: (event) => options.onEvent?.(event),
    });
  }

  /** Starts handling messages (the transport subscribes) and the status timer. */
  start(): void {
    this.listen();
  }
}
