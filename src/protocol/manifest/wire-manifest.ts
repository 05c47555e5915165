import type { CryptoProvider } from '../security/crypto.js';
import { openManifest, sealedManifestSchema } from '../security/encryption.js';
import { PROTOCOL_VERSION } from '../wire/constants.js';
import {
  type Manifest,
  type ManifestProblem,
  parseJson,
  parseManifest,
  schemaProblem,
  validateManifest,
} from './manifest.js';

/** A manifest payload as a receiver read it: the manifest, or why it was refused. */
export type ManifestRead = { ok: true; manifest: Manifest } | { ok: false; problem: ManifestProblem };

/** A sealed manifest as a receiver with the shared secret read it: also the key its chunks are opened with. */
export type SealedManifestRead =
  | { ok: true; manifest: Manifest; chunkKey: Uint8Array }
  | { ok: false; problem: ManifestProblem };

/** Reads a plain manifest payload as a receiver without a secret does: an encrypted one is refused as `encrypted`. */
export function readManifest(payload: Uint8Array): ManifestRead {
  return parseManifest(payload);
}

/**
 * Reads a manifest payload as a receiver with a shared `secret` does: encrypted ones only (a plain one is refused
 * as `not_encrypted`, so that nobody can slip a cleartext transfer past a receiver that expects encryption); it
 * returns the transfer key the chunks are opened with. `topic` is the transfer's topic `T`, which the key binds.
 * Never rejects.
 */
export async function readSealedManifest(
  crypto: CryptoProvider,
  payload: Uint8Array,
  secret: Uint8Array,
  topic: string,
): Promise<SealedManifestRead> {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const value = json.value;
  if (typeof value !== 'object' || value === null || !('enc' in value)) {
    const plain = validateManifest(value);
    if (!plain.ok) return plain;
    return {
      ok: false,
      problem: {
        code: 'not_encrypted',
        message: `${plain.manifest.name} is not encrypted, and this receiver accepts only encrypted transfers (--encrypt): send it with --encrypt too`,
      },
    };
  }
  const sealed = sealedManifestSchema.safeParse(value);
  if (!sealed.success) {
    const version = (value as { mqimg?: unknown }).mqimg;
    const plain = version !== PROTOCOL_VERSION ? validateManifest(value) : undefined;
    return plain && !plain.ok ? plain : { ok: false, problem: schemaProblem(sealed.error) };
  }
  const opened = await openManifest(crypto, sealed.data, secret, topic);
  if (!opened.ok) return opened;
  const plain = validateManifest(opened.manifest);
  if (!plain.ok) return plain;
  return { ok: true, manifest: plain.manifest, chunkKey: opened.key };
}
