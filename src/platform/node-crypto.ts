import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { HASH_BYTES } from '../protocol/manifest/chunk-hashes.js';
import type { CryptoProvider } from '../protocol/security/crypto.js';
import {
  chunkTagInput,
  TAG_BYTES as DIGEST_BYTES,
  ProofAccumulator,
  proofMessage,
} from '../protocol/security/receipt.js';

const TAG_BYTES = 16;
/** DER in front of a raw 32-byte X25519 private key (PKCS#8) and public key (SPKI), RFC 8410. */
const X25519_PKCS8_PREFIX = '302e020100300506032b656e04220420';
const X25519_SPKI_PREFIX = '302a300506032b656e032100';

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
  x25519: async (privateKey, publicKey) => {
    const key = (prefix: string, raw: Uint8Array) =>
      Buffer.concat([Buffer.from(prefix, 'hex'), toBuffer(raw)]);
    const shared = diffieHellman({
      privateKey: createPrivateKey({
        key: key(X25519_PKCS8_PREFIX, privateKey),
        format: 'der',
        type: 'pkcs8',
      }),
      publicKey: createPublicKey({ key: key(X25519_SPKI_PREFIX, publicKey), format: 'der', type: 'spki' }),
    });
    if (shared.every((b: number) => b === 0))
      throw new Error('X25519 gave all zeros: a low-order public key');
    return shared;
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
  return truncatedHashes(chunkDigests(bytes, chunkBytes));
}

/** The whole SHA-256 (32 bytes) of each chunk of `bytes` cut at `chunkBytes`, concatenated. */
export function chunkDigests(bytes: Uint8Array, chunkBytes: number): Uint8Array {
  const chunks = Math.max(1, Math.ceil(bytes.length / chunkBytes));
  const out = new Uint8Array(chunks * DIGEST_BYTES);
  for (let i = 0; i < chunks; i++) {
    const chunk = bytes.subarray(i * chunkBytes, Math.min(bytes.length, (i + 1) * chunkBytes));
    out.set(createHash('sha256').update(chunk).digest(), i * DIGEST_BYTES);
  }
  return out;
}

/** The first 16 bytes of each 32-byte digest in `digests`: what hash pages carry. */
export function truncatedHashes(digests: Uint8Array): Uint8Array {
  const n = digests.length / DIGEST_BYTES;
  const out = new Uint8Array(n * HASH_BYTES);
  for (let i = 0; i < n; i++)
    out.set(digests.subarray(i * DIGEST_BYTES, i * DIGEST_BYTES + HASH_BYTES), i * HASH_BYTES);
  return out;
}

/** The proof accumulator of a whole file (protocol/security/receipt.ts) from its chunk digests, synchronously. */
export function proofAccumulatorOf(nonceHex: string, digests: Uint8Array): Uint8Array {
  const nonce = Buffer.from(nonceHex, 'hex');
  const proof = new ProofAccumulator();
  for (let i = 0; i < digests.length / DIGEST_BYTES; i++) {
    const input = chunkTagInput(nonce, i, digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES));
    proof.add(createHash('sha256').update(input).digest());
  }
  return proof.bytes;
}

/** The first 16 bytes of SHA-256 of each page, concatenated: what a manifest's `pages` field encodes. */
export function pageHashes(pages: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pages.length * HASH_BYTES);
  pages.forEach((page, j) => {
    out.set(createHash('sha256').update(page).digest().subarray(0, HASH_BYTES), j * HASH_BYTES);
  });
  return out;
}

/** SHA-256 of `bytes`, 32 bytes, synchronously (Node only). */
export function sha256Digest(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

/**
 * A function that gives the proof of receipt (protocol/security/receipt.ts) expected from receiver `rx` for the file
 * whose proof accumulator is `accumulator`, under `nonceHex`: one small HMAC per receiver, no pass over the file.
 */
export function receiptVerifier(nonceHex: string, accumulator: Uint8Array): (rx: string) => string {
  const key = Buffer.from(nonceHex, 'hex');
  return (rx) => createHmac('sha256', key).update(proofMessage(accumulator, rx)).digest('hex');
}
