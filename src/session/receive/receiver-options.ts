export type { ReceiveEvent } from '../../receiver-core/events.js';

import type { KeyObject } from 'node:crypto';
import type { ReceiverIdentity } from '../../platform/node-keys.js';
import type { Manifest } from '../../protocol/manifest/manifest.js';
import type { CryptoProvider } from '../../protocol/security/crypto.js';
import type { ReceiveEvent } from '../../receiver-core/events.js';
import type { Clock, Scheduler } from '../../util/clock.js';

/** Options of a receiver. Times are in milliseconds, sizes in bytes. */
export interface ReceiverOptions {
  /** Folder the files are saved in; must exist. */
  outDir: string;
  /** MQTT topic filter of the sender topics to receive from. Default '#': every mqimg transfer. */
  topicFilter?: string;
  /** A transfer that receives nothing for this long fails. Default 30,000. */
  timeoutMs?: number;
  /** Largest file accepted, and most bytes of all transfers in progress together. Default 256 MiB. */
  maxBytes?: number;
  /** Most transfers received at once; more are refused. Default 16. */
  maxTransfers?: number;
  /**
   * QoS of the chunk subscription. Default 0: losses are recovered end to end by statuses, and the last hop then
   * carries no PUBACKs, which halves its packets (about 30% faster at 4 KiB chunks, docs/benchmarks.md).
   * 1 lets the broker hold chunks in its per-client queue (within its limits). Manifests are always QoS 1.
   */
  chunkQos?: 0 | 1;
  /**
   * Checks a verified file before it is saved; returns why it must not be, or undefined. `mqimg receive
   * --verify-image` passes a full decode with sharp (`imageProblem`); the default saves any file whose SHA-256
   * matches.
   */
  verifyFile?: (path: string, manifest: Manifest) => Promise<string | undefined>;
  /**
   * Also publish each saved file, whole, as one retained QoS 1 message on this topic: the form Home Assistant's
   * MQTT camera and image integrations read. `{topic}` is replaced by the sender topic and `{name}` by the saved
   * file name. Mind the broker's message size limit.
   */
  republishTopic?: string;
  /**
   * Where each file is saved inside `outDir`: a template with placeholders, `{name}` by default (see
   * session/receive/disk/saved-files.ts; `receive --save-as "{date}/{topic}/{stem}-{time}{ext}"`). A taken name gets
   * `-1`, `-2`... in constant time; names never run out.
   */
  saveAs?: string;
  /** Keep `<outDir>/<latest>` always the newest saved image, replaced atomically (`--latest current.jpg`). */
  latest?: string;
  /** Delete all but the newest `keep` saved images in `outDir`, the `latest` file apart (`--keep 100`). */
  keep?: number;
  /** Unfinished partial transfers older than this are deleted at start. Default 24 hours. */
  partialTtlMs?: number;
  /**
   * Receiver id in statuses. Default `rx-` and 8 hex digits derived from the host name and the absolute `outDir`:
   * stable across restarts, so that a sender recognises a receiver that resumes.
   */
  receiverId?: string;
  /**
   * A named receiver (`mqimg receive --identity NAME.key`, platform/key-files.ts `loadIdentity`): its id becomes
   * `k-<key id>`, and to senders that name it (`send --recipient NAME.pub`) it answers in statuses only it can seal.
   */
  identity?: ReceiverIdentity;
  /**
   * Save only transfers whose manifest is signed by one of these Ed25519 public keys (key id -> key; `mqimg
   * receive --trust`). Every other transfer fails with `unsigned`, `untrusted_key` or `bad_signature`, and signed
   * ones replayed later with `expired_signature`, `future_signature` or `replayed`. Default: no check.
   */
  trust?: ReadonlyMap<string, KeyObject>;
  /** With `trust`: refuse signed manifests created more than this long ago, in milliseconds. Default 600,000. */
  maxAgeMs?: number;
  /**
   * 32-byte shared secret (`--encrypt`): accept only encrypted transfers, and open them with it. A plain transfer
   * fails with `not_encrypted`, one under another secret with `wrong_key`. Without it, encrypted transfers fail
   * with `encrypted`.
   */
  secret?: Uint8Array;
  /**
   * Run a minor garbage collection after every this many bytes of chunk payload, so that dead payload Buffers do
   * not pile up (PayloadReclaimer): about 30 MiB less RSS on a 50 MB transfer. It sets V8's `--expose-gc` flag in
   * the process at the first collection, so it is opt-in for library users: `mqimg receive` sets 4 MiB. Default 0
   * (off).
   */
  gcEveryBytes?: number;
  onEvent?: (event: ReceiveEvent) => void;
  /** Monotonic milliseconds for timeouts and pacing. Default `performance.now`. */
  clock?: Clock;
  /** Milliseconds since the Unix epoch, for signature ages and partial-state expiry. Default `Date.now`. */
  wallClock?: Clock;
  /** Sets the receiver's timers. Default the host's (`realScheduler`). */
  scheduler?: Scheduler;
  /** Hashing, signature checks and decryption of the protocol core. Default node:crypto. */
  crypto?: CryptoProvider;
}
