import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type Hash,
  hkdfSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { HASH_BYTES } from '../protocol/manifest/chunk-hashes.js';
import type { CryptoProvider } from '../protocol/security/crypto.js';

const TAG_BYTES = 16;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** node:crypto behind the core's `CryptoProvider`: every result is computed at once and handed back resolved. */
export const nodeCrypto: CryptoProvider = {
  sha256: async (data) => createHash('sha256').update(data).digest(),
  hmacSha256: async (key, data) => createHmac('sha256', key).update(data).digest(),
  hkdfSha256: async (secret, salt, info, length) =>
    new Uint8Array(hkdfSync('sha256', secret, salt, info, length)),
  aesGcmSeal: async (key, nonce, aad, plain) => {
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad);
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  },
  aesGcmOpen: async (key, nonce, aad, sealed) => {
    if (sealed.length < TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      return undefined;
    }
  },
  ed25519Sign: async (privateKeyPkcs8, data) =>
    sign(null, data, createPrivateKey({ key: toBuffer(privateKeyPkcs8), format: 'der', type: 'pkcs8' })),
  ed25519Verify: async (publicKeyRaw, data, signature) => {
    if (publicKeyRaw.length !== 32) return false;
    try {
      const key = createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: toBuffer(publicKeyRaw).toString('base64url') },
        format: 'jwk',
      });
      return verify(null, data, key, signature);
    } catch {
      return false;
    }
  },
  randomBytes: (length) => randomBytes(length),
};

/** SHA-256 of `bytes` as 64 lowercase hex digits, synchronously (Node only: large files, the sender's hot path). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** HMAC-SHA256 of the UTF-8 `text` under `key`, as lowercase hex, synchronously (Node only). */
export function hmacSha256Hex(key: Uint8Array, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/**
 * The chunk hashes of `bytes` cut in chunks of `chunkBytes` (protocol/chunk-hashes.ts): the first 16 bytes of
 * SHA-256 of each chunk, concatenated in chunk order. Synchronous: the sender's start path.
 */
export function chunkHashes(bytes: Uint8Array, chunkBytes: number): Uint8Array {
  const chunks = Math.ceil(bytes.length / chunkBytes);
  const out = new Uint8Array(chunks * HASH_BYTES);
  for (let i = 0; i < chunks; i++) {
    const digest = createHash('sha256')
      .update(bytes.subarray(i * chunkBytes, Math.min(bytes.length, (i + 1) * chunkBytes)))
      .digest();
    out.set(digest.subarray(0, HASH_BYTES), i * HASH_BYTES);
  }
  return out;
}

/** The first 16 bytes of SHA-256 of each page, concatenated: what a manifest's `pages` field encodes. */
export function pageHashes(pages: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pages.length * HASH_BYTES);
  pages.forEach((page, j) => {
    out.set(createHash('sha256').update(page).digest().subarray(0, HASH_BYTES), j * HASH_BYTES);
  });
  return out;
}

/** The first 16 bytes of SHA-256 of `bytes`, synchronously: a receiver checks each chunk and page with it. */
export function shortHash(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest().subarray(0, HASH_BYTES);
}

/**
 * A function that gives the proof of receipt (protocol/receipt.ts) expected from receiver `rx` for `file` under
 * `nonceHex`. HMAC-SHA256 spelt out (RFC 2104) so that the pass over the file, the costly part, is made once and
 * shared by every receiver: the inner hash state after the key block and the file is copied for each one.
 */
export function receiptVerifier(nonceHex: string, file: Uint8Array): (rx: string) => string {
  const key = new Uint8Array(64);
  key.set(Buffer.from(nonceHex, 'hex'));
  const pad = (byte: number) => key.map((k) => k ^ byte);
  let inner: Hash | undefined;
  return (rx) => {
    inner ??= createHash('sha256').update(pad(0x36)).update(file);
    const innerDigest = inner.copy().update(rx, 'utf8').digest();
    return createHash('sha256').update(pad(0x5c)).update(innerDigest).digest('hex');
  };
}
