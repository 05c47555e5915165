import type { KeyObject } from 'node:crypto';
import { pkcs8Of } from '../../platform/node-keys.js';
import { encodeManifest, type Manifest } from '../../protocol/manifest/manifest.js';
import type { CryptoProvider } from '../../protocol/security/crypto.js';
import { SALT_BYTES, sealChunk, sealManifest, sealPage } from '../../protocol/security/encryption.js';
import { namedReceiverId, namedStatusKey, X25519_BASE_POINT } from '../../protocol/security/recipient.js';
import { signManifest } from '../../protocol/security/signature.js';
import { statusKey } from '../../protocol/status/status-seal.js';
import { toBase64, utf8 } from '../../protocol/wire/bytes.js';
import { chunkView } from '../../protocol/wire/chunking.js';

/** An Ed25519 private key and the id of its public key (`mqimg keygen` writes both halves). */
export interface SigningKey {
  privateKey: KeyObject;
  kid: string;
}

/** A named receiver (`--recipient`): the key id of its Ed25519 public key and that key as X25519 (32 bytes). */
export interface NamedRecipient {
  keyId: string;
  x25519: Uint8Array;
}

/** How a sender protects its transfers. Each is optional and independent. */
export interface SendSecurity {
  /**
   * Count only these receivers (`--recipient`): the send is delivered when each proved receipt in statuses only
   * its key can seal (PROTOCOL.md 12.1); every other status is ignored.
   */
  recipients?: readonly NamedRecipient[];
  /** Sign every manifest with this key (`--sign`). */
  signWith?: SigningKey;
  /** Encrypt every manifest and chunk with this 32-byte shared secret (`--encrypt`). */
  secret?: Uint8Array;
}

/** A transfer as it goes on the wire: the manifest bytes, each hash page's and each chunk's payload. */
export interface OutgoingTransfer {
  /** The plain manifest (what receivers see once they opened it). */
  manifest: Manifest;
  /** The payload of the manifest message: plain, signed, and/or sealed. */
  manifestBytes: Uint8Array;
  /** The payloads of the hash pages, in order: plain, or sealed. */
  pages: Uint8Array[];
  /** The payload of chunk `index`: a view of the image bytes, or its sealed form. */
  chunk(index: number): Uint8Array;
  /** Encrypted transfers: the key receivers seal their statuses with (protocol/status-seal.ts). */
  statusKey?: Uint8Array;
  /** Named receivers: the key each seals its statuses with, by receiver id. */
  recipientKeys?: ReadonlyMap<string, Uint8Array>;
}

/**
 * Signs (if asked) and then seals (if asked) `manifest`, and returns what to publish. Sealing draws a fresh random
 * salt, so every call gives a new transfer key: chunk nonces (the chunk index) never repeat under one key, except
 * for resends of the same chunk, which repeat its exact bytes. An encrypted transfer's chunks are all sealed here,
 * before the first is published (the crypto interface is asynchronous and the publishing loop is not): it holds
 * the file twice in memory, plus 16 bytes a chunk.
 */
export async function outgoingTransfer(
  crypto: CryptoProvider,
  prepared: { manifest: Manifest; pages: Uint8Array[] },
  bytes: Uint8Array,
  topic: string,
  security: SendSecurity = {},
): Promise<OutgoingTransfer> {
  const named = security.recipients?.length
    ? await nameRecipients(crypto, prepared.manifest, security.recipients)
    : undefined;
  const manifest = named ? { ...prepared.manifest, epk: named.epk } : prepared.manifest;
  const signed = security.signWith
    ? await signManifest(
        crypto,
        manifest,
        topic,
        pkcs8Of(security.signWith.privateKey),
        security.signWith.kid,
      )
    : manifest;
  const plainChunk = (index: number) => chunkView(bytes, index, manifest.chunkBytes);
  if (!security.secret) {
    return {
      manifest: signed,
      manifestBytes: encodeManifest(signed),
      pages: prepared.pages,
      chunk: plainChunk,
      ...(named ? { recipientKeys: named.keys } : {}),
    };
  }
  const salt = crypto.randomBytes(SALT_BYTES);
  const { sealed, key } = await sealManifest(crypto, signed, security.secret, salt, topic);
  const chunks = await Promise.all(
    Array.from({ length: manifest.chunks }, (_, index) =>
      sealChunk(crypto, key, manifest.id, index, plainChunk(index)),
    ),
  );
  const pages = await Promise.all(
    prepared.pages.map((page, j) => sealPage(crypto, key, manifest.id, j, page)),
  );
  return {
    manifest: signed,
    manifestBytes: utf8(JSON.stringify(sealed)),
    statusKey: await statusKey(crypto, key),
    ...(named ? { recipientKeys: named.keys } : {}),
    pages,
    chunk: (index) => {
      const sealedChunk = chunks[index];
      if (!sealedChunk) throw new RangeError(`transfer ${manifest.id} has no chunk ${index}`);
      return sealedChunk;
    },
  };
}

/**
 * Names `recipients` in a send (PROTOCOL.md 12.1): draws an ephemeral X25519 key for it, whose public half goes in
 * the manifest as `epk`, and derives each recipient's status key from the shared secret with it.
 */
async function nameRecipients(
  crypto: CryptoProvider,
  manifest: Manifest,
  recipients: readonly NamedRecipient[],
): Promise<{ epk: string; keys: Map<string, Uint8Array> }> {
  const ephemeral = crypto.randomBytes(32);
  const epk = toBase64(await crypto.x25519(ephemeral, X25519_BASE_POINT));
  const keys = new Map<string, Uint8Array>();
  for (const r of recipients) {
    const rx = namedReceiverId(r.keyId);
    const shared = await crypto.x25519(ephemeral, r.x25519);
    keys.set(rx, await namedStatusKey(crypto, shared, manifest.nonce, manifest.id, rx));
  }
  return { epk, keys };
}
