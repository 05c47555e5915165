import { toHex, utf8 } from './bytes.js';
import type { CryptoProvider } from './crypto.js';

/** What a plain transfer id is the hash of: `"<sha256 of file>:<chunkBytes>:<topic>"`. */
export function transferIdText(fileSha256Hex: string, chunkBytes: number, topic: string): string {
  return `${fileSha256Hex}:${chunkBytes}:${topic}`;
}

/**
 * The transfer id: the first 16 hex digits of SHA-256 over `transferIdText`. Deriving it from content (rather than
 * at random) means the same image sent again to the same topic with the same chunk size is the same transfer, so
 * a receiver that already holds it confirms at once instead of receiving it again.
 */
export async function transferIdFor(
  crypto: CryptoProvider,
  fileSha256Hex: string,
  chunkBytes: number,
  topic: string,
): Promise<string> {
  return toHex(await crypto.sha256(utf8(transferIdText(fileSha256Hex, chunkBytes, topic)))).slice(0, 16);
}
