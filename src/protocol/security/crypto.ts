/**
 * The cryptography the protocol core asks for, and nothing more. The core never imports an implementation:
 * `platform/node-crypto.ts` (Node's crypto module) serves the CLI and the library, `platform/web-crypto.ts` (WebCrypto)
 * serves a browser. Every operation but `randomBytes` is asynchronous because WebCrypto is. Keys are plain bytes,
 * so that the same values work on both and in the wire documents (PROTOCOL.md sections 12 and 13).
 */
export interface CryptoProvider {
  /** SHA-256 of `data`: 32 bytes. */
  sha256(data: Uint8Array): Promise<Uint8Array>;
  /** HMAC-SHA256 of `data` under `key`: 32 bytes. */
  hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  /** HKDF-SHA256 (RFC 5869) of `secret` with `salt` and `info`: `length` bytes. */
  hkdfSha256(secret: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array>;
  /** AES-256-GCM: the ciphertext followed by the 16-byte tag. `key` is 32 bytes, `nonce` 12. */
  aesGcmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Promise<Uint8Array>;
  /** Opens what `aesGcmSeal` made; undefined when authentication fails (wrong key, nonce, aad or bytes). */
  aesGcmOpen(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    sealed: Uint8Array,
  ): Promise<Uint8Array | undefined>;
  /** Ed25519 signature (64 bytes) of `data` by the private key given as PKCS#8 DER. */
  ed25519Sign(privateKeyPkcs8: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  /** True when `signature` is a valid Ed25519 signature of `data` by the raw 32-byte public key. Never throws. */
  ed25519Verify(publicKeyRaw: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /**
   * X25519 (RFC 7748) of the 32-byte private scalar `privateKey` (clamped as the RFC says) and the 32-byte
   * u-coordinate `publicKey`: the 32-byte shared secret. With the base point (u = 9) it gives a public key. Rejects
   * when the result is all zeros (a low-order point).
   */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array>;
  /** `length` cryptographically random bytes. */
  randomBytes(length: number): Uint8Array;
}
