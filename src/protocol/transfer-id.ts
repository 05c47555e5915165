import { createHash } from 'node:crypto';

/**
 * The transfer id: the first 16 hex digits of SHA-256 over `"<sha256 of file>:<chunkBytes>:<topic>"`.
 * Deriving it from content (rather than at random) means the same image sent again to the same topic with the
 * same chunk size is the same transfer, so a receiver that already holds it confirms at once instead of
 * receiving it again.
 */
export function transferIdFor(fileSha256Hex: string, chunkBytes: number, topic: string): string {
  return createHash('sha256').update(`${fileSha256Hex}:${chunkBytes}:${topic}`).digest('hex').slice(0, 16);
}

/** SHA-256 of `bytes` as 64 lowercase hex digits. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
