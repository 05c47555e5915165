import type { CryptoProvider } from '../protocol/security/crypto.js';

const TAG_BITS = 128;

/** WebCrypto's SubtleCrypto, named through the global so that no DOM library is needed. */
type Subtle = typeof globalThis.crypto.subtle;

/** A copy of `bytes` in its own ArrayBuffer: WebCrypto takes BufferSource, and a view may be of a larger buffer. */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * WebCrypto (`crypto.subtle`) behind the core's `CryptoProvider`: for the display page in a browser, and usable
 * in Node 20+, where the shared tests run it against the same vectors as `nodeCrypto`. Ed25519 needs Chromium 137+
 * or Node 20+.
 */
export function webCrypto(subtle: Subtle = globalThis.crypto.subtle): CryptoProvider {
  const hmacKey = (key: Uint8Array) =>
    subtle.importKey('raw', own(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const aesKey = (key: Uint8Array, usage: 'encrypt' | 'decrypt') =>
    subtle.importKey('raw', own(key), { name: 'AES-GCM' }, false, [usage]);
  return {
    sha256: async (data) => new Uint8Array(await subtle.digest('SHA-256', own(data))),
    hmacSha256: async (key, data) => new Uint8Array(await subtle.sign('HMAC', await hmacKey(key), own(data))),
    hkdfSha256: async (secret, salt, info, length) => {
      const base = await subtle.importKey('raw', own(secret), 'HKDF', false, ['deriveBits']);
      const bits = await subtle.deriveBits(
        { name: 'HKDF', hash: 'SHA-256', salt: own(salt), info: own(info) },
        base,
        length * 8,
      );
      return new Uint8Array(bits);
    },
    aesGcmSeal: async (key, nonce, aad, plain) =>
      new Uint8Array(
        await subtle.encrypt(
          { name: 'AES-GCM', iv: own(nonce), additionalData: own(aad), tagLength: TAG_BITS },
          await aesKey(key, 'encrypt'),
          own(plain),
        ),
      ),
    aesGcmOpen: async (key, nonce, aad, sealed) => {
      try {
        return new Uint8Array(
          await subtle.decrypt(
            { name: 'AES-GCM', iv: own(nonce), additionalData: own(aad), tagLength: TAG_BITS },
            await aesKey(key, 'decrypt'),
            own(sealed),
          ),
        );
      } catch {
        return undefined;
      }
    },
    ed25519Sign: async (privateKeyPkcs8, data) => {
      const key = await subtle.importKey('pkcs8', own(privateKeyPkcs8), { name: 'Ed25519' }, false, ['sign']);
      return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key, own(data)));
    },
    ed25519Verify: async (publicKeyRaw, data, signature) => {
      try {
        const key = await subtle.importKey('raw', own(publicKeyRaw), { name: 'Ed25519' }, false, ['verify']);
        return await subtle.verify({ name: 'Ed25519' }, key, own(signature), own(data));
      } catch {
        return false;
      }
    },
    x25519: async (privateKey, publicKey) => {
      const pkcs8 = new Uint8Array([...X25519_PKCS8_PREFIX, ...privateKey]);
      const own = await subtle.importKey('pkcs8', pkcs8, { name: 'X25519' }, false, ['deriveBits']);
      const other = await subtle.importKey('raw', new Uint8Array(publicKey), { name: 'X25519' }, false, []);
      return new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: other }, own, 256));
    },
    randomBytes: (length) => globalThis.crypto.getRandomValues(new Uint8Array(length)),
  };
}

/** DER in front of a raw 32-byte X25519 private key (PKCS#8, RFC 8410). */
const X25519_PKCS8_PREFIX = [
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
];
