import type { CryptoProvider } from '../security/crypto.js';
import { toHex } from './bytes.js';

/**
 * A new transfer id: 8 random bytes as 16 lowercase hex digits. Protocol 2 makes every send a transfer of its
 * own, so that a repeat, a retained copy or a replay never collides with an earlier transfer of the same image
 * (version 1 derived the id from the content). A receiver resumes an interrupted transfer by content instead:
 * see `sameContent`.
 */
export function newTransferId(crypto: CryptoProvider): string {
  return toHex(crypto.randomBytes(8));
}

/** A new nonce for the proof of receipt: 16 random bytes as 32 lowercase hex digits. */
export function newNonce(crypto: CryptoProvider): string {
  return toHex(crypto.randomBytes(16));
}

/**
 * True when two manifests announce the same bytes cut the same way (same topic, SHA-256, size, chunk size and
 * chunk hashes): a receiver that holds part of one may use it for the other (a sender that restarted).
 */
export function sameContent(
  a: { sha256: string; size: number; chunkBytes: number; pages: string },
  b: { sha256: string; size: number; chunkBytes: number; pages: string },
): boolean {
  return a.sha256 === b.sha256 && a.size === b.size && a.chunkBytes === b.chunkBytes && a.pages === b.pages;
}
