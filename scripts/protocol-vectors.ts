/**
 * Prints the signing and encryption test vectors of PROTOCOL.md (sections 12 and 13), computed by the code.
 * `npx tsx scripts/protocol-vectors.ts`; test/protocol/protocol-doc.test.ts checks that the document quotes them.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chunkView } from '../src/protocol/chunking.js';
import {
  sealChunk,
  sealedTransferId,
  sealManifest,
  secretKeyId,
  transferKey,
} from '../src/protocol/encryption.js';
import { encodeManifest } from '../src/protocol/manifest.js';
import { publicKeyId, rawPublicKey, signingText, signManifest } from '../src/protocol/signature.js';
import { buildManifest } from '../src/session/send-session.js';

/** The file of section 11: bytes 0x00..0xc7. */
export const VECTOR_BYTES = Buffer.from(Array.from({ length: 200 }, (_, i) => i));
const image = { bytes: VECTOR_BYTES, name: 'vector.bin', mediaType: 'image/png', width: 10, height: 5 };
/** Ed25519 seed 0x00..0x1f, wrapped as PKCS#8. */
export const VECTOR_SEED = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
/** Shared secret: 32 bytes 0x20..0x3f. Salt: 16 bytes 0xa0..0xaf. */
export const VECTOR_SECRET = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x20 + i));
export const VECTOR_SALT = Buffer.from(Array.from({ length: 16 }, (_, i) => 0xa0 + i));

export function protocolVectors() {
  const privateKey = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), VECTOR_SEED]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  const kid = publicKeyId(publicKey);
  const plain = buildManifest(image, 'cam/1', 64, 1767225600000);
  const signed = signManifest(plain, 'cam/1', privateKey, kid);
  const text = signingText(plain, 'cam/1', kid)?.toString('utf8') ?? '';
  const encryptedPlain = buildManifest(image, 'cam/1', 64, 1767225600000, false, VECTOR_SECRET);
  const { sealed, key } = sealManifest(encryptedPlain, VECTOR_SECRET, VECTOR_SALT);
  return {
    publicKeyHex: rawPublicKey(publicKey).toString('hex'),
    kid,
    signingText: text,
    signature: signed.sig.value,
    signedManifest: encodeManifest(signed).toString('utf8'),
    secretKid: secretKeyId(VECTOR_SECRET),
    sealedId: sealedTransferId(VECTOR_SECRET, plain.sha256, 64, 'cam/1'),
    transferKeyHex: transferKey(VECTOR_SECRET, VECTOR_SALT, encryptedPlain.id).toString('hex'),
    sealedManifest: JSON.stringify(sealed),
    sealedChunks: Array.from({ length: encryptedPlain.chunks }, (_, i) =>
      sealChunk(key, encryptedPlain.id, i, chunkView(VECTOR_BYTES, i, 64)).toString('hex'),
    ),
  };
}

if (process.argv[1]?.endsWith('protocol-vectors.ts')) console.log(JSON.stringify(protocolVectors(), null, 2));
