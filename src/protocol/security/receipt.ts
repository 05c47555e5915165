import { concatBytes, fromHex, toHex, utf8 } from '../wire/bytes.js';
import type { CryptoProvider } from './crypto.js';

/** A transfer nonce: 16 random bytes as 32 lowercase hex digits, new for every send. */
export const NONCE_PATTERN = /^[0-9a-f]{32}$/;
/** A proof of receipt: 32 bytes as 64 lowercase hex digits. */
export const PROOF_PATTERN = /^[0-9a-f]{64}$/;

/**
 * The proof of receipt a receiver puts in its `complete` status (protocol 2): HMAC-SHA256 keyed by the 16 bytes
 * of the manifest's `nonce`, over the whole file's bytes followed by the receiver id in UTF-8, as 64 hex digits.
 * Only someone holding every byte of this file can compute it, and the nonce is new for every send, so an earlier
 * proof of the same image is worth nothing; the receiver id in it keeps one receiver's proof from vouching for
 * another. Computed at once here (a display page holds the file in memory); a Node receiver streams it.
 */
export async function receiptProof(
  crypto: CryptoProvider,
  nonceHex: string,
  file: Uint8Array,
  receiverId: string,
): Promise<string> {
  return toHex(await crypto.hmacSha256(fromHex(nonceHex), concatBytes(file, utf8(receiverId))));
}
