import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkCount, chunkView } from '../../../../src/protocol/wire/chunking.js';
import { HELD_BACK_BYTES, InOrderHash } from '../../../../src/session/receive/disk/in-order-hash.js';

/**
 * The Node receiver's running SHA-256 of the file, fed with chunks as they arrive, holding back early ones (the
 * proof of receipt no longer needs the file in order: protocol 3 builds it from the chunk hashes, receipt.ts).
 */

/** A file cut in chunks of `chunkBytes`. */
function fileOf(size: number, chunkBytes: number) {
  const bytes = randomBytes(size);
  const chunks = chunkCount(size, chunkBytes);
  return { bytes, chunks, chunk: (i: number) => chunkView(bytes, i, chunkBytes) };
}

/** The SHA-256 computed in one pass over the whole file. */
function oneShot(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('InOrderHash', () => {
  it('gives PROTOCOL.md 11’s SHA-256 for the vector file fed in order', () => {
    const bytes = Uint8Array.from({ length: 200 }, (_, i) => i);
    const hash = new InOrderHash(4);
    for (let i = 0; i < 4; i++) hash.add(i, chunkView(bytes, i, 64));
    expect(hash.digest()).toBe('1901da1c9f699b48f6b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f');
  });

  it('equals a one-shot SHA-256 of the file', () => {
    const f = fileOf(10_000, 1024);
    const hash = new InOrderHash(f.chunks);
    for (let i = 0; i < f.chunks; i++) hash.add(i, f.chunk(i));
    expect(hash.digest()).toBe(oneShot(f.bytes));
  });

  it('holds back chunks that come early, within the limit, and still gets the one-shot digests', () => {
    const f = fileOf(20 * 100 - 30, 100); // 20 chunks, the last 70 bytes
    // Reversed order: every chunk but the last to come (chunk 0) is held back: 19 chunks, 1,870 bytes.
    const hash = new InOrderHash(f.chunks, 1870);
    for (let i = f.chunks - 1; i >= 0; i--) hash.add(i, f.chunk(i));
    expect(hash.digest()).toEqual(oneShot(f.bytes));
  });

  it('takes a shuffled order too', () => {
    const f = fileOf(64 * 50 + 1, 64);
    const order = [...Array(f.chunks).keys()];
    let seed = 7;
    for (let i = order.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const k = seed % (i + 1);
      [order[i], order[k]] = [order[k] as number, order[i] as number];
    }
    const hash = new InOrderHash(f.chunks);
    for (const i of order) hash.add(i, f.chunk(i));
    expect(hash.digest()).toEqual(oneShot(f.bytes));
  });

  it('gives up past the limit: digest is undefined, even once the rest comes in order', () => {
    const f = fileOf(20 * 100 - 30, 100);
    // Reversed order needs 1,870 bytes held back; one byte less is past the limit.
    const hash = new InOrderHash(f.chunks, 1869);
    for (let i = f.chunks - 1; i >= 0; i--) hash.add(i, f.chunk(i));
    expect(hash.digest()).toBeUndefined();
  });

  it('counts what is held back now: chunks hashed from the hold free its room', () => {
    const f = fileOf(10 * 100, 100);
    const hash = new InOrderHash(f.chunks, 200);
    // Two early chunks (200 bytes, at the limit), then the gap fills and frees them; then two early ones again.
    for (const i of [1, 2, 0, 4, 5, 3, 6, 7, 8, 9]) hash.add(i, f.chunk(i));
    expect(hash.digest()).toEqual(oneShot(f.bytes));
  });

  it('says nothing before every chunk came', () => {
    const f = fileOf(1000, 100);
    const hash = new InOrderHash(f.chunks);
    for (let i = 0; i < f.chunks - 1; i++) hash.add(i, f.chunk(i));
    expect(hash.digest()).toBeUndefined();
  });

  it('abandoned() has given up from the start (a resumed transfer)', () => {
    const f = fileOf(1000, 100);
    const hash = InOrderHash.abandoned(f.chunks);
    for (let i = 0; i < f.chunks; i++) hash.add(i, f.chunk(i));
    expect(hash.digest()).toBeUndefined();
  });

  it('holds back at most 4 MiB by default', () => {
    expect(HELD_BACK_BYTES).toBe(4 * 1024 * 1024);
    const chunkBytes = 512 * 1024;
    const chunks = 10;
    const payload = new Uint8Array(chunkBytes);
    // Chunks 1..8 early: 8 x 512 KiB = 4 MiB, at the limit, then chunk 0 lets them all through.
    const within = new InOrderHash(chunks);
    for (const i of [1, 2, 3, 4, 5, 6, 7, 8, 0, 9]) within.add(i, payload);
    expect(within.digest()).toBe(
      createHash('sha256')
        .update(new Uint8Array(chunks * chunkBytes))
        .digest('hex'),
    );
    // Chunks 1..9 early: 4.5 MiB, past it.
    const past = new InOrderHash(chunks);
    for (const i of [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]) past.add(i, payload);
    expect(past.digest()).toBeUndefined();
  });
});
