import { openManifest, sealedManifestSchema } from './encryption.js';
import {
  type Manifest,
  type ManifestProblem,
  parseJson,
  parseManifest,
  schemaProblem,
  validateManifest,
} from './manifest.js';

/**
 * Reads a manifest payload as a receiver does. Without `secret`, plain manifests only (an encrypted one is
 * refused as `encrypted`). With `secret`, encrypted ones only (a plain one is refused as `not_encrypted`, so that
 * nobody can slip a cleartext transfer past a receiver that expects encryption); it returns the transfer key
 * the chunks are opened with. Never throws.
 */
export function readManifest(
  payload: Uint8Array,
  secret?: Buffer,
): { ok: true; manifest: Manifest; chunkKey?: Buffer } | { ok: false; problem: ManifestProblem } {
  if (!secret) return parseManifest(payload);
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
    if (version !== 1) return validateManifest(value);
    return { ok: false, problem: schemaProblem(sealed.error) };
  }
  const opened = openManifest(sealed.data, secret);
  if (!opened.ok) return opened;
  const plain = validateManifest(opened.manifest);
  if (!plain.ok) return plain;
  return { ok: true, manifest: plain.manifest, chunkKey: opened.key };
}
