import { concatBytes, fromHex, toHex, utf8 } from '../wire/bytes.js';
import type { CryptoProvider } from './crypto.js';

/** A transfer nonce: 16 random bytes as 32 lowercase hex digits, new for every send. */
export const NONCE_PATTERN = /^[0-9a-f]{32}$/;
/** A proof of receipt: 32 bytes as 64 lowercase hex digits. */
export const PROOF_PATTERN = /^[0-9a-f]{64}$/;
/** Bytes of a chunk tag and of the accumulator they are folded into. */
export const TAG_BYTES = 32;
/** What the final HMAC of the proof starts with (PROTOCOL.md 7.1). */
const PROOF_LABEL = 'mqimg-proof-v3';

/**
 * The input of chunk `index`'s tag (protocol 3, PROTOCOL.md 7.1): the 16 nonce bytes, the index as 4 bytes big
 * endian, and the chunk's whole SHA-256 (32 bytes): 52 bytes, one SHA-256 block. `tag = SHA-256(this)`.
 */
export function chunkTagInput(nonce: Uint8Array, index: number, chunkSha256: Uint8Array): Uint8Array {
  const input = new Uint8Array(16 + 4 + TAG_BYTES);
  input.set(nonce.subarray(0, 16), 0);
  new DataView(input.buffer).setUint32(16, index >>> 0, false);
  input.set(chunkSha256.subarray(0, TAG_BYTES), 20);
  return input;
}

/**
 * The proof of receipt as it grows (protocol 3): the XOR of every chunk's tag, in any order, in 32 bytes. Built
 * from the chunk hashes a receiver computes anyway to check each chunk against its hash page, so the proof needs
 * no pass over the file of its own, and no call does more than one chunk's worth of hashing for it.
 */
export class ProofAccumulator {
  readonly bytes: Uint8Array;

  constructor(saved?: Uint8Array) {
    this.bytes = new Uint8Array(TAG_BYTES);
    if (saved?.length === TAG_BYTES) this.bytes.set(saved);
  }

  /** Folds in one chunk's tag; each chunk exactly once. */
  add(tag: Uint8Array): void {
    for (let i = 0; i < TAG_BYTES; i++) this.bytes[i] = (this.bytes[i] ?? 0) ^ (tag[i] ?? 0);
  }
}

/** The message of the final HMAC: `mqimg-proof-v3` || the accumulator || the receiver id in UTF-8. */
export function proofMessage(accumulator: Uint8Array, receiverId: string): Uint8Array {
  return concatBytes(utf8(PROOF_LABEL), accumulator, utf8(receiverId));
}

/**
 * The proof of receipt receiver `receiverId` puts in its `complete` status: HMAC-SHA256 keyed by the 16 nonce
 * bytes over `proofMessage`, as 64 hex digits. Only someone who held every chunk (every whole SHA-256, of which the
 * hash pages carry only half) can compute it; the nonce is new for every send, and the receiver id binds it to one
 * receiver.
 */
export async function receiptProof(
  crypto: CryptoProvider,
  nonceHex: string,
  accumulator: Uint8Array,
  receiverId: string,
): Promise<string> {
  return toHex(await crypto.hmacSha256(fromHex(nonceHex), proofMessage(accumulator, receiverId)));
}

/**
 * The accumulator of a whole file cut into `chunkBytes` chunks, from each chunk's SHA-256 (`sha256`, synchronous
 * or not): what the sender compares proofs with, and what a test vector is made of.
 */
export async function fileAccumulator(
  sha256: (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>,
  nonceHex: string,
  file: Uint8Array,
  chunkBytes: number,
): Promise<Uint8Array> {
  const nonce = fromHex(nonceHex);
  const proof = new ProofAccumulator();
  const chunks = Math.max(1, Math.ceil(file.length / chunkBytes));
  for (let i = 0; i < chunks; i++) {
    const chunk = file.subarray(i * chunkBytes, Math.min(file.length, (i + 1) * chunkBytes));
    proof.add(await sha256(chunkTagInput(nonce, i, await sha256(chunk))));
  }
  return proof.bytes;
}
