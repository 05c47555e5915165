import type { KeyObject } from 'node:crypto';
import type { FailureCode, RejectionCode } from '../protocol/codes.js';
import type { CryptoProvider } from '../protocol/crypto.js';
import type { Manifest } from '../protocol/manifest.js';
import type { Clock } from './clock.js';

/** Events a receiver reports, one per line with `mqimg receive --json`. */
export type ReceiveEvent =
  | {
      event: 'started';
      id: string;
      topic: string;
      name: string;
      type: string;
      size: number;
      chunks: number;
      /** Chunks already held from an earlier, interrupted run, when the transfer resumed. */
      resumedWith?: number;
    }
  | {
      event: 'completed';
      id: string;
      topic: string;
      name: string;
      path: string;
      size: number;
      sha256: string;
      width: number;
      height: number;
      /** The topic the file was republished on (`--republish`). */
      republished?: string;
      /** For raw pixels: their layout and bytes per row (PROTOCOL.md, pixel formats). */
      pixelFormat?: string;
      stride?: number;
      durationMs: number;
    }
  | {
      /** A transfer in progress moved on: at most every 500 ms per transfer, only when it changed. */
      event: 'progress';
      id: string;
      topic: string;
      name: string;
      /** Chunks held so far, of `chunks`. */
      receivedChunks: number;
      chunks: number;
      /** Bytes held so far (`receivedChunks` whole chunks, at most the file's size). */
      bytes: number;
    }
  | { event: 'failed'; id: string; topic: string; code: FailureCode; message: string }
  | { event: 'rejected'; topic: string; code: RejectionCode; message: string };

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
  /** Unfinished partial transfers older than this are deleted at start. Default 24 hours. */
  partialTtlMs?: number;
  /**
   * Receiver id in statuses. Default `rx-` and 8 hex digits derived from the host name and the absolute `outDir`:
   * stable across restarts, so that a sender recognises a receiver that resumes.
   */
  receiverId?: string;
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
  /** Hashing, signature checks and decryption of the protocol core. Default node:crypto. */
  crypto?: CryptoProvider;
}

/** The `completed` event of a saved transfer. */
export function completedEvent(
  manifest: Manifest,
  topic: string,
  saved: { path: string; sha256: string },
  durationMs: number,
  republished: string | undefined,
): ReceiveEvent {
  const event: ReceiveEvent & { event: 'completed' } = {
    event: 'completed',
    id: manifest.id,
    topic,
    name: manifest.name,
    path: saved.path,
    size: manifest.size,
    sha256: saved.sha256,
    width: manifest.width,
    height: manifest.height,
    durationMs: Math.round(durationMs),
  };
  if (manifest.pixelFormat !== undefined && manifest.stride !== undefined) {
    event.pixelFormat = manifest.pixelFormat;
    event.stride = manifest.stride;
  }
  if (republished !== undefined) event.republished = republished;
  return event;
}

/** The `started` event of a transfer; `resumedWith`: chunks held from an earlier run. */
export function startedEvent(manifest: Manifest, topic: string, resumedWith?: number): ReceiveEvent {
  const event: ReceiveEvent & { event: 'started' } = {
    event: 'started',
    id: manifest.id,
    topic,
    name: manifest.name,
    type: manifest.type,
    size: manifest.size,
    chunks: manifest.chunks,
  };
  if (resumedWith !== undefined) event.resumedWith = resumedWith;
  return event;
}
