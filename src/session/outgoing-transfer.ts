import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { chunkView } from '../protocol/chunking.js';
import { SALT_BYTES, sealChunk, sealManifest } from '../protocol/encryption.js';
import { encodeManifest, type Manifest } from '../protocol/manifest.js';
import { signManifest } from '../protocol/signature.js';

/** An Ed25519 private key and the id of its public key (`mqimg keygen` writes both halves). */
export interface SigningKey {
  privateKey: KeyObject;
  kid: string;
}

/** How a sender protects its transfers. Both are optional and independent. */
export interface SendSecurity {
  /** Sign every manifest with this key (`--sign`). */
  signWith?: SigningKey;
  /** Encrypt every manifest and chunk with this 32-byte shared secret (`--encrypt`). */
  secret?: Buffer;
}

/** A transfer as it goes on the wire: the manifest bytes, and each chunk's payload. */
export interface OutgoingTransfer {
  /** The plain manifest (what receivers see once they opened it). */
  manifest: Manifest;
  /** The payload of the manifest message: plain, signed, and/or sealed. */
  manifestBytes: Buffer;
  /** The payload of chunk `index`: a view of the image bytes, or its sealed form. */
  chunk(index: number): Uint8Array;
}

/**
 * Signs (if asked) and then seals (if asked) `manifest`, and returns what to publish. Sealing draws a fresh random
 * salt, so every call gives a new transfer key: chunk nonces (the chunk index) never repeat under one key, except
 * for resends of the same chunk, which repeat its exact bytes.
 */
export function outgoingTransfer(
  manifest: Manifest,
  bytes: Buffer,
  topic: string,
  security: SendSecurity = {},
): OutgoingTransfer {
  const signed = security.signWith
    ? signManifest(manifest, topic, security.signWith.privateKey, security.signWith.kid)
    : manifest;
  const plainChunk = (index: number) => chunkView(bytes, index, manifest.chunkBytes);
  if (!security.secret) return { manifest: signed, manifestBytes: encodeManifest(signed), chunk: plainChunk };
  const { sealed, key } = sealManifest(signed, security.secret, randomBytes(SALT_BYTES));
  return {
    manifest: signed,
    manifestBytes: Buffer.from(JSON.stringify(sealed), 'utf8'),
    chunk: (index) => sealChunk(key, manifest.id, index, plainChunk(index)),
  };
}
