/**
 * Prints the test vectors of PROTOCOL.md (sections 11 to 13), computed by the code that sends and receives:
 * `npx tsx scripts/protocol-vectors.ts`. test/protocol/protocol-doc.test.ts checks that the document quotes them,
 * and scripts/check-protocol-vectors.py recomputes them from the document's rules alone.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import {
  chunkDigests,
  chunkHashes,
  nodeCrypto,
  proofAccumulatorOf,
  receiptVerifier,
} from '../src/platform/node-crypto.js';
import { rawPublicKey } from '../src/platform/node-keys.js';
import { HASH_BYTES } from '../src/protocol/manifest/chunk-hashes.js';
import { encodeManifest } from '../src/protocol/manifest/manifest.js';
import { Reassembly } from '../src/protocol/receive/reassembly.js';
import { RepairRequests } from '../src/protocol/receive/repair-requests.js';
import type { CryptoProvider } from '../src/protocol/security/crypto.js';
import {
  sealChunk,
  sealManifest,
  sealPage,
  secretKeyId,
  transferKey,
} from '../src/protocol/security/encryption.js';
import { chunkTagInput, fileAccumulator, receiptProof } from '../src/protocol/security/receipt.js';
import {
  namedReceiverId,
  namedStatusKey,
  X25519_BASE_POINT,
  x25519PublicFromEd25519,
} from '../src/protocol/security/recipient.js';
import { publicKeyId, signingText, signManifest } from '../src/protocol/security/signature.js';
import { receiverWindow } from '../src/protocol/status/ack-policy.js';
import { encodeStatus } from '../src/protocol/status/status.js';
import { sealStatus, statusKey } from '../src/protocol/status/status-seal.js';
import { fromHex, fromUtf8, toBase64, toHex } from '../src/protocol/wire/bytes.js';
import { chunkView } from '../src/protocol/wire/chunking.js';
import { MAX_STATUS_RANGES } from '../src/protocol/wire/constants.js';
import { prepareTransfer } from '../src/session/send/send-session.js';

/** The file of section 11: bytes 0x00..0xc7. */
export const VECTOR_BYTES = Buffer.from(Array.from({ length: 200 }, (_, i) => i));
/** The two-page example of section 11: 300 bytes, byte i = i mod 256. */
export const TWO_PAGE_BYTES = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
export const VECTOR_TOPIC = 'cam/1';
export const VECTOR_CHUNK_BYTES = 64;
export const VECTOR_CREATED_MS = 1767225600000;
/** The fixed transfer id and nonce of the vectors (a real sender draws new random ones for every send). */
export const VECTOR_ID = '0123456789abcdef';
export const VECTOR_NONCE = Buffer.from(Array.from({ length: 16 }, (_, i) => 0x40 + i)).toString('hex');
/** The receiver id of the status examples and of the proof of receipt. */
export const VECTOR_RX = 'rx-1a2b3c4d';
/** Ed25519 seed 0x00..0x1f, wrapped as PKCS#8. */
export const VECTOR_SEED = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
/** Shared secret: 32 bytes 0x20..0x3f. Salt: 16 bytes 0xa0..0xaf. */
export const VECTOR_SECRET = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x20 + i));
export const VECTOR_SALT = Buffer.from(Array.from({ length: 16 }, (_, i) => 0xa0 + i));
/** The nonce of the sealed status examples: 12 bytes 0xb0..0xbb (a real receiver draws a new one each time). */
export const VECTOR_STATUS_NONCE = Buffer.from(Array.from({ length: 12 }, (_, i) => 0xb0 + i));
/** The named receiver's Ed25519 seed: 0x60..0x7f. The sender's ephemeral X25519 private key: 0x80..0x9f. */
export const VECTOR_RECEIVER_SEED = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x60 + i));
export const VECTOR_EPHEMERAL = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x80 + i));

const image = { bytes: VECTOR_BYTES, name: 'vector.bin', mediaType: 'image/png', width: 10, height: 5 };
const fixed = { id: VECTOR_ID, nonce: VECTOR_NONCE };

/** Splits concatenated 16-byte hashes into hex strings. */
function hashList(hashes: Uint8Array): string[] {
  return Array.from({ length: hashes.length / HASH_BYTES }, (_, i) =>
    toHex(hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)),
  );
}

/**
 * The status a receiver with one transfer in progress publishes when it holds chunks 0 and 2 of the section 11
 * transfer: built by the receiver's own bookkeeping (Reassembly, RepairRequests, receiverWindow).
 */
function gapStatus(): string {
  const reassembly = new Reassembly(4, VECTOR_BYTES.length, VECTOR_CHUNK_BYTES);
  reassembly.commit(0);
  reassembly.commit(2);
  const missing = new RepairRequests().due(reassembly.missing(MAX_STATUS_RANGES), 0);
  return fromUtf8(
    encodeStatus({
      rx: VECTOR_RX,
      state: 'receiving',
      next: reassembly.next,
      high: reassembly.high,
      win: receiverWindow(1, VECTOR_CHUNK_BYTES),
      missing,
    }),
  );
}

/** The vectors, computed with `crypto` (node:crypto by default; the tests also run them through WebCrypto). */
export async function protocolVectors(crypto: CryptoProvider = nodeCrypto) {
  const prepared = prepareTransfer(image, VECTOR_CHUNK_BYTES, VECTOR_CREATED_MS, fixed);
  const plain = prepared.manifest;
  const twoPages = prepareTransfer(
    { ...image, bytes: TWO_PAGE_BYTES, name: 'two-pages.bin' },
    VECTOR_CHUNK_BYTES,
    VECTOR_CREATED_MS,
    fixed,
  );
  const sha256 = (bytes: Uint8Array) => crypto.sha256(bytes);
  const nonceBytes = fromHex(plain.nonce);
  const digests = chunkDigests(VECTOR_BYTES, VECTOR_CHUNK_BYTES);
  const tags = await Promise.all(
    Array.from({ length: plain.chunks }, async (_, i) =>
      toHex(await crypto.sha256(chunkTagInput(nonceBytes, i, digests.subarray(i * 32, (i + 1) * 32)))),
    ),
  );
  const accumulator = await fileAccumulator(sha256, plain.nonce, VECTOR_BYTES, VECTOR_CHUNK_BYTES);
  const proof = await receiptProof(crypto, plain.nonce, accumulator, VECTOR_RX);

  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), VECTOR_SEED]);
  const publicKey = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  const raw = rawPublicKey(publicKey);
  const kid = await publicKeyId(crypto, raw);
  const signed = await signManifest(crypto, plain, VECTOR_TOPIC, pkcs8, kid);
  const text = fromUtf8(signingText(plain, VECTOR_TOPIC, kid) ?? new Uint8Array(0));

  const { sealed, key } = await sealManifest(crypto, plain, VECTOR_SECRET, VECTOR_SALT, VECTOR_TOPIC);
  const encryptedStatusKey = await statusKey(crypto, key);
  const joinStatus = {
    rx: VECTOR_RX,
    state: 'receiving' as const,
    next: 0,
    high: -1,
    win: receiverWindow(1, VECTOR_CHUNK_BYTES),
  };

  // A named receiver (section 12.1): its key, the sender's ephemeral key, the status key both derive.
  const receiverPkcs8 = Buffer.concat([
    Buffer.from('302e020100300506032b657004220420', 'hex'),
    VECTOR_RECEIVER_SEED,
  ]);
  const receiverPublic = rawPublicKey(
    createPublicKey(createPrivateKey({ key: receiverPkcs8, format: 'der', type: 'pkcs8' })),
  );
  const receiverKid = await publicKeyId(crypto, receiverPublic);
  const receiverX25519 = x25519PublicFromEd25519(receiverPublic) ?? new Uint8Array(0);
  const receiverX25519Private = (await import('node:crypto'))
    .createHash('sha512')
    .update(VECTOR_RECEIVER_SEED)
    .digest()
    .subarray(0, 32);
  const epk = await crypto.x25519(VECTOR_EPHEMERAL, X25519_BASE_POINT);
  const named = { ...plain, epk: toBase64(epk) };
  const namedRx = namedReceiverId(receiverKid);
  const namedShared = await crypto.x25519(VECTOR_EPHEMERAL, receiverX25519);
  const namedKey = await namedStatusKey(crypto, namedShared, plain.nonce, plain.id, namedRx);
  const namedProof = await receiptProof(crypto, plain.nonce, accumulator, namedRx);
  const namedComplete = { rx: namedRx, state: 'complete' as const, next: plain.chunks, proof: namedProof };
  return {
    manifest: fromUtf8(encodeManifest(plain)),
    sha256: plain.sha256,
    id: plain.id,
    nonce: plain.nonce,
    chunkHashes: hashList(chunkHashes(VECTOR_BYTES, VECTOR_CHUNK_BYTES)),
    pagesHex: prepared.pages.map((p) => toHex(p)),
    pages: plain.pages,
    twoPage: {
      manifest: fromUtf8(encodeManifest(twoPages.manifest)),
      chunkHashes: hashList(chunkHashes(TWO_PAGE_BYTES, VECTOR_CHUNK_BYTES)),
      pagesHex: twoPages.pages.map((p) => toHex(p)),
      pages: twoPages.manifest.pages,
    },
    chunkDigests: Array.from({ length: plain.chunks }, (_, i) =>
      toHex(digests.subarray(i * 32, (i + 1) * 32)),
    ),
    chunkTags: tags,
    accumulator: toHex(accumulator),
    proof,
    /** The same proof through the sender's verifier (node:crypto): must be equal. */
    senderProof: receiptVerifier(plain.nonce, proofAccumulatorOf(plain.nonce, digests))(VECTOR_RX),
    statuses: {
      join: fromUtf8(
        encodeStatus({
          rx: VECTOR_RX,
          state: 'receiving',
          next: 0,
          high: -1,
          win: receiverWindow(1, VECTOR_CHUNK_BYTES),
        }),
      ),
      gap: gapStatus(),
      wantManifest: fromUtf8(encodeStatus({ rx: VECTOR_RX, state: 'want-manifest' })),
      complete: fromUtf8(encodeStatus({ rx: VECTOR_RX, state: 'complete', next: plain.chunks, proof })),
    },
    publicKeyHex: toHex(raw),
    kid,
    signingText: text,
    signature: signed.sig.value,
    signedManifest: fromUtf8(encodeManifest(signed)),
    secretKid: await secretKeyId(crypto, VECTOR_SECRET),
    transferKeyHex: toHex(await transferKey(crypto, VECTOR_SECRET, VECTOR_SALT, plain.id, VECTOR_TOPIC)),
    sealedManifest: JSON.stringify(sealed),
    sealedPages: await Promise.all(
      prepared.pages.map(async (page, j) => toHex(await sealPage(crypto, key, plain.id, j, page))),
    ),
    statusKeyHex: toHex(encryptedStatusKey),
    sealedJoin: fromUtf8(
      await sealStatus(crypto, encryptedStatusKey, plain.id, joinStatus, VECTOR_STATUS_NONCE),
    ),
    namedReceiver: {
      publicKeyHex: toHex(receiverPublic),
      kid: receiverKid,
      rx: namedRx,
      x25519PublicHex: toHex(receiverX25519),
      x25519PrivateHex: toHex(receiverX25519Private),
      epkHex: toHex(epk),
      manifest: fromUtf8(encodeManifest(named)),
      sharedHex: toHex(namedShared),
      statusKeyHex: toHex(namedKey),
      proof: namedProof,
      complete: fromUtf8(encodeStatus(namedComplete)),
      sealedComplete: fromUtf8(
        await sealStatus(crypto, namedKey, plain.id, namedComplete, VECTOR_STATUS_NONCE),
      ),
    },
    sealedChunks: await Promise.all(
      Array.from({ length: plain.chunks }, async (_, i) =>
        toHex(await sealChunk(crypto, key, plain.id, i, chunkView(VECTOR_BYTES, i, VECTOR_CHUNK_BYTES))),
      ),
    ),
  };
}

if (process.argv[1]?.endsWith('protocol-vectors.ts')) {
  console.log(JSON.stringify(await protocolVectors(), null, 2));
}
