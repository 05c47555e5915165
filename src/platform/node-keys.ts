import { createHash, type KeyObject } from 'node:crypto';

/** The raw 32-byte Ed25519 public key (the last 32 bytes of its SPKI DER form). */
export function rawPublicKey(publicKey: KeyObject): Uint8Array {
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
}

/** A public key's id: the first 16 hex digits of SHA-256 over its raw 32 bytes (as protocol/signature.ts). */
export function publicKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);
}

/** A private key as PKCS#8 DER, the form the core's CryptoProvider signs with. */
export function pkcs8Of(privateKey: KeyObject): Uint8Array {
  return privateKey.export({ format: 'der', type: 'pkcs8' });
}

/**
 * A shared secret's id: the first 16 hex digits of SHA-256 over `mqimg-secret-id` + NUL + the 32 secret bytes
 * (as protocol/encryption.ts), synchronously, for key files.
 */
export function secretKeyId(secret: Uint8Array): string {
  return createHash('sha256').update('mqimg-secret-id\0').update(secret).digest('hex').slice(0, 16);
}
