import { chunkCount } from '../wire/chunking.js';

/**
 * Chunk hashes (protocol 2): the manifest commits to every chunk, so that a receiver refuses a wrong chunk when
 * it arrives and takes the next copy instead. Each chunk's hash is the first HASH_BYTES bytes of SHA-256 over its
 * plain bytes. The hashes, in chunk order, are cut into hash pages of `hashesPerPage(chunkBytes)` hashes each
 * (a page is never larger than a chunk, so it fits wherever a chunk does); page j is published on
 * `T/mqimg/ID/h/j`, and the manifest's `pages` field is the base64 of the HASH_BYTES-byte hash of every page.
 */

/** Bytes of a chunk hash and of a page hash: 16 (128 bits: second preimages stay out of reach). */
export const HASH_BYTES = 16;
/** Most hash pages a transfer may have: the manifest carries 16 bytes each (2,732 base64 characters at most). */
export const MAX_HASH_PAGES = 128;

/** Chunk hashes per hash page for chunks of `chunkBytes`: floor(chunkBytes / 16), at least 1. */
export function hashesPerPage(chunkBytes: number): number {
  return Math.max(1, Math.floor(chunkBytes / HASH_BYTES));
}

/** Number of hash pages of a transfer of `chunks` chunks of `chunkBytes`. */
export function pageCount(chunks: number, chunkBytes: number): number {
  return chunkCount(chunks, hashesPerPage(chunkBytes));
}

/** Most chunks a transfer with chunks of `chunkBytes` may have: MAX_HASH_PAGES full pages. */
export function maxChunksFor(chunkBytes: number): number {
  return MAX_HASH_PAGES * hashesPerPage(chunkBytes);
}

/** The smallest chunk size, in bytes (a multiple of 1 KiB), whose limit lets a file of `sizeBytes` through. */
export function minChunkBytesFor(sizeBytes: number): number {
  let chunkBytes = 1024;
  while (Math.ceil(sizeBytes / chunkBytes) > maxChunksFor(chunkBytes)) chunkBytes += 1024;
  return chunkBytes;
}

/** The hash page that holds chunk `index`'s hash. */
export function pageOf(index: number, chunkBytes: number): number {
  return Math.floor(index / hashesPerPage(chunkBytes));
}

/** Length in bytes of hash page `page` of a transfer of `chunks` chunks. */
export function pageLength(page: number, chunks: number, chunkBytes: number): number {
  const per = hashesPerPage(chunkBytes);
  return HASH_BYTES * Math.max(0, Math.min(per, chunks - page * per));
}

/** Chunk `index`'s hash inside its hash page `pageBytes` (a view, not a copy). */
export function hashInPage(pageBytes: Uint8Array, index: number, chunkBytes: number): Uint8Array {
  const at = (index % hashesPerPage(chunkBytes)) * HASH_BYTES;
  return pageBytes.subarray(at, at + HASH_BYTES);
}

/** Page `page`'s hash as the manifest lists it (a view into the decoded `pages` field). */
export function listedPageHash(pages: Uint8Array, page: number): Uint8Array {
  return pages.subarray(page * HASH_BYTES, (page + 1) * HASH_BYTES);
}

/**
 * Cuts the chunk hashes (each HASH_BYTES, in chunk order, concatenated in `hashes`) into hash pages. Pure: the
 * hashing is the caller's.
 */
export function cutPages(hashes: Uint8Array, chunks: number, chunkBytes: number): Uint8Array[] {
  const per = hashesPerPage(chunkBytes) * HASH_BYTES;
  return Array.from({ length: pageCount(chunks, chunkBytes) }, (_, j) =>
    hashes.subarray(j * per, Math.min(hashes.length, (j + 1) * per)),
  );
}

/** True when the first HASH_BYTES of `digest` equal `expected` (both may be longer views). */
export function hashMatches(digest: Uint8Array, expected: Uint8Array): boolean {
  if (expected.length !== HASH_BYTES || digest.length < HASH_BYTES) return false;
  let diff = 0;
  for (let i = 0; i < HASH_BYTES; i++) diff |= (digest[i] ?? 0) ^ (expected[i] ?? 0);
  return diff === 0;
}
