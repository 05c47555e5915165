import * as z from 'zod';
import { TRANSFER_ID_PATTERN } from '../manifest/manifest.js';
import { fromBase64, fromUtf8, toBase64, toHex, utf8 } from '../wire/bytes.js';
import { MAX_CHUNK_BYTES, MAX_IMAGE_BYTES, MIN_CHUNK_BYTES, PROTOCOL_VERSION } from '../wire/constants.js';
import type { CryptoProvider } from './crypto.js';

/** Encryption algorithm named in a sealed manifest's `enc.alg`. */
export const ENCRYPTION_ALG = 'aes-256-gcm';
/** Shared secrets are 32 bytes. */
export const SECRET_BYTES = 32;
/** Per-transfer random salt, in bytes. */
export const SALT_BYTES = 16;
/** GCM authentication tag appended to every sealed chunk and to `enc.meta`, in bytes. */
export const TAG_BYTES = 16;
/**
 * Manifest fields a sealed manifest shows only inside `enc.meta`: what the broker cannot infer from traffic anyway
 * (name, media type, checksum, dimensions, pixel layout, signature). The others stay readable, for routing and flow
 * control, and are repeated inside `meta`, whose copies (authenticated) are the ones a receiver uses.
 */
export const HIDDEN_FIELDS = [
  'name',
  'type',
  'sha256',
  'width',
  'height',
  'pixelFormat',
  'stride',
  'sig',
  'nonce',
  'pages',
] as const;

const base64 = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]*={0,2}$/)
    .refine((s) => fromBase64(s)?.length === bytes, `must be ${bytes} bytes in base64`);

/** A sealed (encrypted) manifest as published: only what routing and flow control need stays readable. */
export const sealedManifestSchema = z.looseObject({
  mqimg: z.literal(PROTOCOL_VERSION),
  id: z.string().regex(TRANSFER_ID_PATTERN),
  size: z.number().int().min(1).max(MAX_IMAGE_BYTES),
  chunkBytes: z.number().int().min(MIN_CHUNK_BYTES).max(MAX_CHUNK_BYTES),
  chunks: z.number().int().min(1),
  createdMs: z.number().int().min(0),
  supersede: z.boolean().optional(),
  enc: z.strictObject({
    /** Always `aes-256-gcm`. */
    alg: z.literal(ENCRYPTION_ALG),
    /** Id of the shared secret (`secretKeyId`), so that a receiver with another secret says so. */
    kid: z.string().regex(/^[0-9a-f]{16}$/),
    /** 16 random bytes, new for every manifest the sender builds, base64. */
    salt: base64(SALT_BYTES),
    /** The whole plain manifest as compact JSON, AES-256-GCM sealed (ciphertext then 16-byte tag), base64. */
    meta: z
      .string()
      .max(8192)
      .regex(/^[A-Za-z0-9+/]*={0,2}$/),
  }),
});
export type SealedManifest = z.infer<typeof sealedManifestSchema>;

/** A shared secret's id: the first 16 hex digits of SHA-256 over `mqimg-secret-id` + NUL + the 32 secret bytes. */
export async function secretKeyId(crypto: CryptoProvider, secret: Uint8Array): Promise<string> {
  const prefix = utf8('mqimg-secret-id\0');
  const input = new Uint8Array(prefix.length + secret.length);
  input.set(prefix);
  input.set(secret, prefix.length);
  return toHex(await crypto.sha256(input)).slice(0, 16);
}

/**
 * The transfer key: HKDF-SHA256(secret, salt, info `mqimg-enc-v2 <id> <topic>`), 32 bytes. `topic` is the
 * transfer's topic `T` (as in `T/mqimg/ID/m`): a transfer republished under another topic does not open there, so
 * that nobody without the secret can move one camera's images to another's topic.
 */
export function transferKey(
  crypto: CryptoProvider,
  secret: Uint8Array,
  salt: Uint8Array,
  id: string,
  topic: string,
): Promise<Uint8Array> {
  return crypto.hkdfSha256(secret, salt, utf8(`mqimg-enc-v2 ${id} ${topic}`), 32);
}

/**
 * The 12-byte GCM nonce: 4-byte big-endian kind (0 chunk, 1 meta, 2 hash page) then the 8-byte big-endian chunk
 * or page index.
 */
function nonceFor(kind: 0 | 1 | 2, index: number): Uint8Array {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  view.setUint32(0, kind);
  view.setBigUint64(4, BigInt(index));
  return nonce;
}

/** Chunk `index` as published: AES-256-GCM(transfer key, nonce(0, index), aad = id) ciphertext, then the tag. */
export function sealChunk(
  crypto: CryptoProvider,
  key: Uint8Array,
  id: string,
  index: number,
  plain: Uint8Array,
): Promise<Uint8Array> {
  return crypto.aesGcmSeal(key, nonceFor(0, index), utf8(id), plain);
}

/** Opens a sealed chunk; undefined when it fails authentication (wrong key, changed bytes, wrong index). */
export function openChunk(
  crypto: CryptoProvider,
  key: Uint8Array,
  id: string,
  index: number,
  sealed: Uint8Array,
): Promise<Uint8Array | undefined> {
  if (sealed.length < TAG_BYTES) return Promise.resolve(undefined);
  return crypto.aesGcmOpen(key, nonceFor(0, index), utf8(id), sealed);
}

/** Hash page `page` as published: AES-256-GCM(transfer key, nonce(2, page), aad = id) ciphertext, then the tag. */
export function sealPage(
  crypto: CryptoProvider,
  key: Uint8Array,
  id: string,
  page: number,
  plain: Uint8Array,
): Promise<Uint8Array> {
  return crypto.aesGcmSeal(key, nonceFor(2, page), utf8(id), plain);
}

/** Opens a sealed hash page; undefined when it fails authentication. */
export function openPage(
  crypto: CryptoProvider,
  key: Uint8Array,
  id: string,
  page: number,
  sealed: Uint8Array,
): Promise<Uint8Array | undefined> {
  if (sealed.length < TAG_BYTES) return Promise.resolve(undefined);
  return crypto.aesGcmOpen(key, nonceFor(2, page), utf8(id), sealed);
}

/**
 * Seals a manifest of a transfer on `topic`: `enc.meta` holds all of it, encrypted; outside it only the fields not
 * in HIDDEN_FIELDS remain. `salt` must be SALT_BYTES fresh random bytes.
 */
export async function sealManifest(
  crypto: CryptoProvider,
  manifest: Record<string, unknown> & { id: string },
  secret: Uint8Array,
  salt: Uint8Array,
  topic: string,
): Promise<{ sealed: SealedManifest; key: Uint8Array }> {
  const key = await transferKey(crypto, secret, salt, manifest.id, topic);
  const visible: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(manifest)) {
    if (!(HIDDEN_FIELDS as readonly string[]).includes(field)) visible[field] = value;
  }
  const meta = await crypto.aesGcmSeal(
    key,
    nonceFor(1, 0),
    utf8(manifest.id),
    utf8(JSON.stringify(manifest)),
  );
  const sealed = {
    ...visible,
    enc: {
      alg: ENCRYPTION_ALG,
      kid: await secretKeyId(crypto, secret),
      salt: toBase64(salt),
      meta: toBase64(meta),
    },
  } as SealedManifest;
  return { sealed, key };
}

/** Why a sealed manifest could not be opened. */
export interface OpenProblem {
  code: 'wrong_key' | 'invalid_manifest';
  message: string;
}

/**
 * Opens a sealed manifest with `secret`: returns the plain manifest object decrypted from `enc.meta` (still to be
 * validated with the manifest schema; the readable copies outside are not authenticated and are ignored) and the
 * transfer key for its chunks. `topic` is the topic `T` it arrived on (`T/mqimg/ID/m`): one sealed for another
 * topic fails authentication (`wrong_key`).
 */
export async function openManifest(
  crypto: CryptoProvider,
  sealed: SealedManifest,
  secret: Uint8Array,
  topic: string,
): Promise<
  { ok: true; manifest: Record<string, unknown>; key: Uint8Array } | { ok: false; problem: OpenProblem }
> {
  const kid = await secretKeyId(crypto, secret);
  if (sealed.enc.kid !== kid) {
    return {
      ok: false,
      problem: {
        code: 'wrong_key',
        message: `transfer ${sealed.id} is encrypted with secret ${sealed.enc.kid}; this receiver's --encrypt secret is ${kid}`,
      },
    };
  }
  const salt = fromBase64(sealed.enc.salt) ?? new Uint8Array(0);
  const key = await transferKey(crypto, secret, salt, sealed.id, topic);
  const meta = fromBase64(sealed.enc.meta) ?? new Uint8Array(0);
  const plain =
    meta.length < TAG_BYTES ? undefined : await crypto.aesGcmOpen(key, nonceFor(1, 0), utf8(sealed.id), meta);
  if (!plain) {
    return {
      ok: false,
      problem: {
        code: 'wrong_key',
        message: `transfer ${sealed.id}: its encrypted manifest fails authentication with this receiver's secret on topic ${topic} (changed in transit, sealed for another topic, or a different secret with the same id)`,
      },
    };
  }
  let inner: unknown;
  try {
    inner = JSON.parse(fromUtf8(plain));
  } catch {
    inner = undefined;
  }
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    return {
      ok: false,
      problem: {
        code: 'invalid_manifest',
        message: `transfer ${sealed.id}: its encrypted fields are not a JSON object`,
      },
    };
  }
  return { ok: true, manifest: inner as Record<string, unknown>, key };
}
