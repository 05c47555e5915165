import * as z from 'zod';
import { fromBase64, toBase64, toHex, utf8 } from '../wire/bytes.js';
import type { CryptoProvider } from './crypto.js';

/** Signature algorithm named in a manifest's `sig.alg`. */
export const SIGNATURE_ALG = 'ed25519';
/** First line of the signed text; a later, different signing scheme changes it. */
export const SIGNING_CONTEXT = 'mqimg-sig-v3';
/** Key ids are 16 lowercase hex digits: the start of SHA-256 over the raw 32-byte Ed25519 public key. */
export const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

/** The `sig` field of a signed manifest. */
export const signatureSchema = z.strictObject({
  /** Always `ed25519`. */
  alg: z.literal(SIGNATURE_ALG),
  /** Id of the signing key (see `publicKeyId`), so that a receiver picks the right trusted key. */
  kid: z.string().regex(KEY_ID_PATTERN),
  /** The 64-byte Ed25519 signature of `signingText`, standard base64 with padding (88 characters). */
  value: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
});
export type ManifestSignature = z.infer<typeof signatureSchema>;

/** The fields of a manifest a signature covers (every field that decides what a receiver saves, and when). */
export interface SignedFields {
  id: string;
  name: string;
  type: string;
  size: number;
  chunkBytes: number;
  chunks: number;
  sha256: string;
  nonce: string;
  pages: string;
  width: number;
  height: number;
  createdMs: number;
  pixelFormat?: string | undefined;
  stride?: number | undefined;
  supersede?: boolean | undefined;
  /** Named receivers: the sender's ephemeral X25519 public key, base64. */
  epk?: string | undefined;
}

/**
 * The exact bytes an Ed25519 signature covers: UTF-8 lines joined by a line feed (no final one), in this order:
 * `mqimg-sig-v3`, the sender topic, id, name, type, size, chunkBytes, chunks, sha256, nonce, pages, width, height,
 * createdMs, pixelFormat (empty when absent), stride (empty when absent), supersede (`1` or `0`), epk (empty when
 * absent), the key id. Numbers are
 * decimal without leading zeros. Committing to the topic is what makes a manifest replayed to another topic fail.
 * Returns undefined when the topic or name contains a line feed (such a manifest cannot be signed).
 */
export function signingText(m: SignedFields, topic: string, kid: string): Uint8Array | undefined {
  if (topic.includes('\n') || m.name.includes('\n')) return undefined;
  const lines = [
    SIGNING_CONTEXT,
    topic,
    m.id,
    m.name,
    m.type,
    String(m.size),
    String(m.chunkBytes),
    String(m.chunks),
    m.sha256,
    m.nonce,
    m.pages,
    String(m.width),
    String(m.height),
    String(m.createdMs),
    m.pixelFormat ?? '',
    m.stride === undefined ? '' : String(m.stride),
    m.supersede ? '1' : '0',
    m.epk ?? '',
    kid,
  ];
  return utf8(lines.join('\n'));
}

/** A public key's id: the first 16 hex digits of SHA-256 over its raw 32 bytes. */
export async function publicKeyId(crypto: CryptoProvider, publicKeyRaw: Uint8Array): Promise<string> {
  return toHex(await crypto.sha256(publicKeyRaw)).slice(0, 16);
}

/**
 * Returns `manifest` with a `sig` field: an Ed25519 signature by the private key (PKCS#8 DER) whose public key has
 * id `kid`.
 */
export async function signManifest<M extends SignedFields>(
  crypto: CryptoProvider,
  manifest: M,
  topic: string,
  privateKeyPkcs8: Uint8Array,
  kid: string,
): Promise<M & { sig: ManifestSignature }> {
  const text = signingText(manifest, topic, kid);
  if (!text) throw new Error('a manifest whose topic or name contains a line feed cannot be signed');
  const value = toBase64(await crypto.ed25519Sign(privateKeyPkcs8, text));
  return { ...manifest, sig: { alg: SIGNATURE_ALG, kid, value } };
}

/** Why a manifest's signature is not accepted. */
export interface SignatureProblem {
  code: 'unsigned' | 'untrusted_key' | 'bad_signature';
  message: string;
}

/**
 * Checks a manifest's signature against the trusted raw 32-byte public keys (by key id). Says `unsigned` when there is no
 * valid `sig` field, `untrusted_key` when its key is not trusted, `bad_signature` when the signature does not
 * match the manifest and topic (tampered with, or replayed to another topic).
 */
export async function checkSignature(
  crypto: CryptoProvider,
  manifest: SignedFields & { sig?: unknown },
  topic: string,
  trusted: ReadonlyMap<string, Uint8Array>,
): Promise<SignatureProblem | undefined> {
  const parsed = signatureSchema.safeParse(manifest.sig);
  if (!parsed.success) {
    return {
      code: 'unsigned',
      message:
        manifest.sig === undefined
          ? `${manifest.name} is not signed, and this receiver accepts only signed transfers (--trust): sign it with mqimg send --sign KEY`
          : `${manifest.name} has a malformed sig field`,
    };
  }
  const { kid, value } = parsed.data;
  const key = trusted.get(kid);
  if (!key) {
    return {
      code: 'untrusted_key',
      message: `${manifest.name} is signed by key ${kid}, which is not among the trusted keys (--trust); add its .pub file if you trust it`,
    };
  }
  const text = signingText(manifest, topic, kid);
  const signature = fromBase64(value);
  if (!text || !signature || !(await crypto.ed25519Verify(key, text, signature))) {
    return {
      code: 'bad_signature',
      message: `${manifest.name}: the signature by key ${kid} does not match this manifest on ${topic}: it was changed, or replayed from another topic`,
    };
  }
  return undefined;
}
