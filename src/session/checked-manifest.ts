import type { KeyObject } from 'node:crypto';
import { nodeCrypto } from '../platform/node-crypto.js';
import { rawPublicKey } from '../platform/node-keys.js';
import type { FailureCode, RejectionCode } from '../protocol/codes.js';
import type { CryptoProvider } from '../protocol/crypto.js';
import { type Manifest, parseJson, TRANSFER_ID_PATTERN } from '../protocol/manifest.js';
import { checkSignature } from '../protocol/signature.js';
import {
  type ManifestRead,
  readManifest,
  readSealedManifest,
  type SealedManifestRead,
} from '../protocol/wire-manifest.js';
import type { ReplayGuard } from './replay-guard.js';

/** What a receiver's security settings ask of every manifest. */
export interface ManifestChecks {
  crypto: CryptoProvider;
  /** Shared secret: only encrypted manifests, opened with it. */
  secret?: Uint8Array | undefined;
  /** Trusted raw Ed25519 public keys by key id, with the replay guard: only signed manifests. */
  trust?: ReadonlyMap<string, Uint8Array> | undefined;
  replayGuard?: ReplayGuard | undefined;
  /** Wall clock, ms since the epoch, for signature ages. */
  wallNowMs: () => number;
}

/** A manifest read and checked; a refusal of its signature is `refused` (reported, never final). */
export type CheckedManifest =
  | ManifestRead
  | SealedManifestRead
  | { ok: false; refused: { code: FailureCode; message: string } };

/**
 * Reads a manifest payload as `checks` ask: opened with the secret, its signature checked against the trusted
 * keys and the replay guard. Synchronous (no promise) when neither is configured: the common, fast path.
 */
export function readCheckedManifest(
  payload: Uint8Array,
  topic: string,
  checks: ManifestChecks,
): CheckedManifest | Promise<CheckedManifest> {
  const { secret, trust, replayGuard, crypto } = checks;
  if (!secret && !trust) return readManifest(payload);
  return (async () => {
    const read = secret ? await readSealedManifest(crypto, payload, secret) : readManifest(payload);
    if (!read.ok || !trust || !replayGuard) return read;
    const refused =
      (await checkSignature(crypto, read.manifest, topic, trust)) ??
      replayGuard.check(read.manifest, checks.wallNowMs());
    return refused ? { ok: false, refused } : read;
  })();
}

/** What a receiver does with a checked manifest: take it, fail the transfer (the sender hears), or drop it. */
export type ManifestVerdict =
  | { kind: 'take'; manifest: Manifest; chunkKey: Uint8Array | undefined }
  | { kind: 'fail'; code: FailureCode; message: string }
  | { kind: 'reject'; rejection: { code: RejectionCode; message: string } };

/** The verdict on a manifest read from the topic of transfer `id`. */
export function manifestVerdict(read: CheckedManifest, id: string): ManifestVerdict {
  // A refused signature is reported, not remembered as final: a forgery must not stop the genuine transfer.
  if (!read.ok && 'refused' in read) return { kind: 'fail', ...read.refused };
  if (!read.ok) {
    const { code, message } = read.problem;
    // A transfer refused for its encryption is reported to its sender too, which then stops at once.
    if (code === 'encrypted' || code === 'not_encrypted' || code === 'wrong_key')
      return { kind: 'fail', code, message };
    return { kind: 'reject', rejection: { code, message } };
  }
  if (read.manifest.id !== id) {
    const message = `manifest id ${read.manifest.id} does not match its topic's id ${id}`;
    return { kind: 'reject', rejection: { code: 'invalid_manifest', message } };
  }
  return { kind: 'take', manifest: read.manifest, chunkKey: 'chunkKey' in read ? read.chunkKey : undefined };
}

/** The checks a receiver with `options` makes (Ed25519 keys as raw bytes for the core's crypto interface). */
export function manifestChecks(
  options: { crypto?: CryptoProvider; secret?: Uint8Array; trust?: ReadonlyMap<string, KeyObject> },
  wallNowMs: () => number,
): ManifestChecks {
  const { trust } = options;
  return {
    crypto: options.crypto ?? nodeCrypto,
    secret: options.secret,
    trust: trust && new Map([...trust].map(([kid, key]) => [kid, rawPublicKey(key)])),
    wallNowMs,
  };
}

/** The `id` field of a manifest payload (plain or sealed), if it has a valid one; nothing else is checked. */
export function idOf(payload: Uint8Array): string | undefined {
  const json = parseJson(payload);
  const id =
    json.ok && typeof json.value === 'object' && json.value !== null
      ? (json.value as { id?: unknown }).id
      : undefined;
  return typeof id === 'string' && TRANSFER_ID_PATTERN.test(id) ? id : undefined;
}
