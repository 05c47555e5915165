/** Byte layout of chunks: chunk `i` holds bytes [i * chunkBytes, min(size, (i + 1) * chunkBytes)). */

/** Number of chunks for `sizeBytes` split into `chunkBytes` pieces (0 for an empty payload). */
export function chunkCount(sizeBytes: number, chunkBytes: number): number {
  return Math.ceil(sizeBytes / chunkBytes);
}

/** Byte offset of chunk `index` in the file. */
export function chunkOffset(index: number, chunkBytes: number): number {
  return index * chunkBytes;
}

/** Exact payload length, in bytes, that chunk `index` must have; every chunk is full except possibly the last. */
export function chunkLength(index: number, sizeBytes: number, chunkBytes: number): number {
  const start = index * chunkBytes;
  return Math.max(0, Math.min(chunkBytes, sizeBytes - start));
}

/** The bytes of chunk `index`: a view into `bytes`, not a copy. */
export function chunkView(bytes: Uint8Array, index: number, chunkBytes: number): Uint8Array {
  const start = index * chunkBytes;
  return bytes.subarray(start, Math.min(bytes.length, start + chunkBytes));
}
