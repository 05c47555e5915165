import type { FailureCode } from '../protocol/codes.js';
import type { CryptoProvider } from '../protocol/crypto.js';
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
