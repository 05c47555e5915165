import type { CryptoProvider } from '../security/crypto.js';
import { checkSignature } from '../security/signature.js';
import type { FailureCode, RejectionCode } from '../wire/codes.js';
import { strideFor } from '../wire/constants.js';
import type { Manifest } from './manifest.js';
import {
  type ManifestRead,
  readManifest,
  readSealedManifest,
  type SealedManifestRead,
} from './wire-manifest.js';

/** Refuses signed manifests replayed later (session/replay-guard.ts on Node, an in-memory one in a browser). */
export interface ReplayCheck {
  /** Why `manifest` (already signature-checked) must be refused at wall-clock `nowMs` (ms since the epoch), if so. */
  check(
    manifest: { name: string; createdMs: number; sig?: { value: string } | undefined },
    nowMs: number,
  ): { code: FailureCode; message: string } | undefined;
}

/** What a receiver's security settings ask of every manifest. */
export interface ManifestChecks<Guard extends ReplayCheck = ReplayCheck> {
  crypto: CryptoProvider;
  /** Shared secret: only encrypted manifests, opened with it. */
  secret?: Uint8Array | undefined;
  /** Trusted raw Ed25519 public keys by key id, with the replay guard: only signed manifests. */
  trust?: ReadonlyMap<string, Uint8Array> | undefined;
  replayGuard?: Guard | undefined;
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
 * keys and the replay guard. Synchronous (no promise) when neither is configured: the common, fast path. With
 * `trust` but no replay guard a manifest is refused (a receiver that trusts keys must refuse replays).
 */
export function readCheckedManifest(
  payload: Uint8Array,
  topic: string,
  checks: ManifestChecks,
): CheckedManifest | Promise<CheckedManifest> {
  const { secret, trust, replayGuard, crypto } = checks;
  if (!secret && !trust) return readManifest(payload);
  return (async () => {
    const read = secret ? await readSealedManifest(crypto, payload, secret, topic) : readManifest(payload);
    if (!read.ok || !trust) return read;
    if (!replayGuard) throw new Error('a receiver that trusts keys needs a replay guard');
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
  const { pixelFormat, stride, width } = read.manifest;
  const rowBytes = pixelFormat === undefined ? undefined : strideFor(pixelFormat, width);
  if (rowBytes !== undefined && stride !== rowBytes) {
    // Final, as the C receiver has it: the same manifest will never describe this layout.
    const message = `raw ${pixelFormat} rows of ${width} pixels take ${rowBytes} bytes, the manifest says stride ${stride}`;
    return { kind: 'fail', code: 'not_an_image', message };
  }
  return { kind: 'take', manifest: read.manifest, chunkKey: 'chunkKey' in read ? read.chunkKey : undefined };
}
