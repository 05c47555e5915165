import type { Manifest } from '../protocol/manifest/manifest.js';
import type { ManifestChecks, ReplayCheck } from '../protocol/manifest/manifest-checks.js';
import type { MessageTransport } from '../transport/message-transport.js';
import type { Clock, Scheduler } from '../util/clock.js';
import type { ReceiveEvent } from './events.js';
import type { StoredFile, TransferStore } from './transfer-store.js';

/** A replay guard the core can record accepted signed manifests in (on disk for Node, in memory for the page). */
export interface ReplayRecord extends ReplayCheck {
  remember(manifest: Manifest, wallNowMs: number): void | Promise<void>;
}

/** The SHA-256 of `bytes` (32 bytes): synchronous with node:crypto, a promise with WebCrypto. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** What every receiver (the Node receiver, the display page) gives the core. Times in milliseconds, sizes in bytes. */
export interface ReceiverCoreOptions<F extends StoredFile> {
  transport: MessageTransport;
  /** Where admitted transfers are kept. */
  store: TransferStore<F>;
  /** This receiver's id in statuses and its proof of receipt (a named receiver's: `k-` and its key id). */
  receiverId: string;
  /**
   * A named receiver's private X25519 key (32 bytes, `--identity`): to a manifest with `epk` (a sender that names
   * recipients) it answers in statuses sealed under the key only it and the sender can derive (PROTOCOL.md 12.1).
   */
  identity?: Uint8Array | undefined;
  /** Security settings every manifest is checked against (crypto, secret, trusted keys and replay guard). */
  checks: ManifestChecks<ReplayRecord>;
  /** Hashes a chunk or page for its check on arrival, and each chunk's tag for the proof of receipt. */
  sha256: Sha256;
  /** A transfer that receives nothing for this long fails (`timeout`). */
  timeoutMs: number;
  /** Largest file, and most bytes of all transfers in progress together. */
  maxBytes: number;
  /** Most transfers taken in at once. */
  maxTransfers: number;
  /** The supersede rule (receiver-core/room.ts): true where only the newest image of a topic matters. */
  keepsOnlyNewest: boolean;
  /** Monotonic milliseconds. */
  clock: Clock;
  /** Milliseconds since the Unix epoch (signature ages, replay records). */
  wallClock: Clock;
  /** Sets the status timer. */
  scheduler: Scheduler;
  /** Receives every event; must not throw (wrap a user's callback with `isolate`). */
  onEvent: (event: ReceiveEvent) => void;
}
