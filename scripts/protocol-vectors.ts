/**
 * Prints the signing and encryption test vectors of PROTOCOL.md (sections 12 and 13), computed by the code.
 * `npx tsx scripts/protocol-vectors.ts`; test/protocol/protocol-doc.test.ts checks that the document quotes them.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { nodeCrypto } from '../src/platform/node-crypto.js';
import { rawPublicKey } from '../src/platform/node-keys.js';
import { fromUtf8, toHex } from '../src/protocol/bytes.js';
import { chunkView } from '../src/protocol/chunking.js';
import type { CryptoProvider } from '../src/protocol/crypto.js';
import {
  sealChunk,
  sealedTransferId,
  sealManifest,
  secretKeyId,
  transferKey,
} from '../src/protocol/encryption.js';
import { encodeManifest } from '../src/protocol/manifest.js';
import { publicKeyId, signingText, signManifest } from '../src/protocol/signature.js';
import { buildManifest } from '../src/session/send-session.js';

/** The file of section 11: bytes 0x00..0xc7. */
export const VECTOR_BYTES = Buffer.from(Array.from({ length: 200 }, (_, i) => i));
const image = { bytes: VECTOR_BYTES, name: 'vector.bin', mediaType: 'image/png', width: 10, height: 5 };
/** Ed25519 seed 0x00..0x1f, wrapped as PKCS#8. */
export const VECTOR_SEED = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
/** Shared secret: 32 bytes 0x20..0x3f. Salt: 16 bytes 0xa0..0xaf. */
export const VECTOR_SECRET = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x20 + i));
export const VECTOR_SALT = Buffer.from(Array.from({ length: 16 }, (_, i) => 0xa0 + i));

/** The vectors, computed with `crypto` (node:crypto by default; the tests also run them through WebCrypto). */
export async function protocolVectors(crypto: CryptoProvider = nodeCrypto) {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), VECTOR_SEED]);
  const publicKey = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  const raw = rawPublicKey(publicKey);
  const kid = await publicKeyId(crypto, raw);
  const plain = buildManifest(image, 'cam/1', 64, 1767225600000);
  const signed = await signManifest(crypto, plain, 'cam/1', pkcs8, kid);
  const text = fromUtf8(signingText(plain, 'cam/1', kid) ?? new Uint8Array(0));
  const encryptedPlain = buildManifest(image, 'cam/1', 64, 1767225600000, false, VECTOR_SECRET);
  const { sealed, key } = await sealManifest(crypto, encryptedPlain, VECTOR_SECRET, VECTOR_SALT);
  return {
    publicKeyHex: toHex(raw),
    kid,
    signingText: text,
    signature: signed.sig.value,
    signedManifest: fromUtf8(encodeManifest(signed)),
    secretKid: await secretKeyId(crypto, VECTOR_SECRET),
    sealedId: await sealedTransferId(crypto, VECTOR_SECRET, plain.sha256, 64, 'cam/1'),
    transferKeyHex: toHex(await transferKey(crypto, VECTOR_SECRET, VECTOR_SALT, encryptedPlain.id)),
    sealedManifest: JSON.stringify(sealed),
    sealedChunks: await Promise.all(
      Array.from({ length: encryptedPlain.chunks }, async (_, i) =>
        toHex(await sealChunk(crypto, key, encryptedPlain.id, i, chunkView(VECTOR_BYTES, i, 64))),
      ),
    ),
  };
}

if (process.argv[1]?.endsWith('protocol-vectors.ts')) {
  console.log(JSON.stringify(await protocolVectors(), null, 2));
}
