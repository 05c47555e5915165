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

/** A named receiver's identity (`--identity`): its key id and its private X25519 key (32 bytes). */
export interface ReceiverIdentity {
  keyId: string;
  x25519Private: Uint8Array;
}

/**
 * The X25519 private key of an Ed25519 private key: the first 32 bytes of SHA-512 of its seed (RFC 8032's secret
 * scalar before clamping; X25519 clamps it the same way), as libsodium's `crypto_sign_ed25519_sk_to_curve25519`.
 * Its public key is `x25519PublicFromEd25519` of the Ed25519 public key.
 */
export function x25519PrivateFromEd25519(privateKey: KeyObject): Uint8Array {
  const seed = pkcs8Of(privateKey).subarray(-32);
  return new Uint8Array(createHash('sha512').update(seed).digest().subarray(0, 32));
}
