import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import type { CryptoProvider } from '../protocol/crypto.js';

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
