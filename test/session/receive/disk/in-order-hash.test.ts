import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../../src/platform/node-crypto.js';
import { receiptProof } from '../../../../src/protocol/security/receipt.js';
import { chunkCount, chunkView } from '../../../../src/protocol/wire/chunking.js';
import { HELD_BACK_BYTES, InOrderHash } from '../../../../src/session/receive/disk/in-order-hash.js';

/**
 * The Node receiver's running hash: SHA-256 and the proof of receipt (PROTOCOL.md 11: HMAC-SHA256 keyed by the
 * nonce's 16 bytes, over the file then the receiver id) fed with chunks as they arrive, holding back early ones.
 */

const NONCE = '404142434445464748494a4b4c4d4e4f';
const RX = 'rx-1a2b3c4d';

/** A file cut in chunks of `chunkBytes`. */
function fileOf(size: number, chunkBytes: number) {
  const bytes = randomBytes(size);
  const chunks = chunkCount(size, chunkBytes);
  return { bytes, chunks, chunk: (i: number) => chunkView(bytes, i, chunkBytes) };
}

/** The digests computed in one pass over the whole file, as PROTOCOL.md defines them. */
function oneShot(bytes: Uint8Array, nonceHex = NONCE, rx = RX) {
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    proof: createHmac('sha256', Buffer.from(nonceHex, 'hex')).update(bytes).update(rx, 'utf8').digest('hex'),
  };
}

describe('InOrderHash', () => {
  it('gives PROTOCOL.md 11’s SHA-256 and proof of receipt for the vector file fed in order', () => {
    const bytes = Uint8Array.from({ length: 200 }, (_, i) => i);
    const hash = new InOrderHash(4, NONCE, RX);
    for (let i = 0; i < 4; i++) hash.add(i, chunkView(bytes, i, 64));
    expect(hash.digest()).toEqual({
      sha256: '1901da1c9f699b48f6b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f',
      proof: '5d3c61c4adf168ed04e160a4196bb90b42dccb177fee07ee8f72513fabe277e3',
    });
  });

  it('equals a one-shot SHA-256 and HMAC of the file, and the proof protocol/receipt.ts computes', async () => {
    const f = fileOf(10_000, 1024);
    const hash = new InOrderHash(f.chunks, NONCE, RX);
    for (let i = 0; i < f.chunks; i++) hash.add(i, f.chunk(i));
    const digests = hash.digest();
    expect(digests).toEqual(oneShot(f.bytes));
    expect(digests?.proof).toBe(await receiptProof(nodeCrypto, NONCE, f.bytes, RX));
  });

  it('binds the proof to the receiver id and the nonce', () => {
    const f = fileOf(3000, 1024);
    const a = new InOrderHash(f.chunks, NONCE, 'rx-a');
    const b = new InOrderHash(f.chunks, '00'.repeat(16), 'rx-a');
    for (let i = 0; i < f.chunks; i++) {
      a.add(i, f.chunk(i));
      b.add(i, f.chunk(i));
    }
    const [da, db] = [a.digest(), b.digest()];
    expect(da?.sha256).toBe(db?.sha256);
    expect(da?.proof).toBe(oneShot(f.bytes, NONCE, 'rx-a').proof);
    expect(db?.proof).toBe(oneShot(f.bytes, '00'.repeat(16), 'rx-a').proof);
    expect(da?.proof).not.toBe(oneShot(f.bytes, NONCE, 'rx-b').proof);
  });

  it('holds back chunks that come early, within the limit, and still gets the one-shot digests', () => {
    const f = fileOf(20 * 100 - 30, 100); // 20 chunks, the last 70 bytes
    // Reversed order: every chunk but the last to come (chunk 0) is held back: 19 chunks, 1,870 bytes.
    const hash = new InOrderHash(f.chunks, NONCE, RX, 1870);
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
    const hash = new InOrderHash(f.chunks, NONCE, RX);
    for (const i of order) hash.add(i, f.chunk(i));
    expect(hash.digest()).toEqual(oneShot(f.bytes));
  });

  it('gives up past the limit: digest is undefined, even once the rest comes in order', () => {
    const f = fileOf(20 * 100 - 30, 100);
    // Reversed order needs 1,870 bytes held back; one byte less is past the limit.
    const hash = new InOrderHash(f.chunks, NONCE, RX, 1869);
    for (let i = f.chunks - 1; i >= 0; i--) hash.add(i, f.chunk(i));
    expect(hash.digest()).toBeUndefined();
  });

  it('counts what is held back now: chunks hashed from the hold free its room', () => {
    const f = fileOf(10 * 100, 100);
    const hash = new InOrderHash(f.chunks, NONCE, RX, 200);
    // Two early chunks (200 bytes, at the limit), then the gap fills and frees them; then two early ones again.
    for (const i of [1, 2, 0, 4, 5, 3, 6, 7, 8, 9]) hash.add(i, f.chunk(i));
    expect(hash.digest()).toEqual(oneShot(f.bytes));
  });

  it('says nothing before every chunk came', () => {
    const f = fileOf(1000, 100);
    const hash = new InOrderHash(f.chunks, NONCE, RX);
    for (let i = 0; i < f.chunks - 1; i++) hash.add(i, f.chunk(i));
    expect(hash.digest()).toBeUndefined();
  });

  it('abandoned() has given up from the start (a resumed transfer)', () => {
    const f = fileOf(1000, 100);
    const hash = InOrderHash.abandoned(f.chunks, NONCE, RX);
    for (let i = 0; i < f.chunks; i++) hash.add(i, f.chunk(i));
    expect(hash.digest()).toBeUndefined();
  });

  it('holds back at most 4 MiB by default', () => {
    expect(HELD_BACK_BYTES).toBe(4 * 1024 * 1024);
    const chunkBytes = 512 * 1024;
    const chunks = 10;
    const payload = new Uint8Array(chunkBytes);
    // Chunks 1..8 early: 8 x 512 KiB = 4 MiB, at the limit, then chunk 0 lets them all through.
    const within = new InOrderHash(chunks, NONCE, RX);
    for (const i of [1, 2, 3, 4, 5, 6, 7, 8, 0, 9]) within.add(i, payload);
    expect(within.digest()?.sha256).toBe(
      createHash('sha256')
        .update(new Uint8Array(chunks * chunkBytes))
        .digest('hex'),
    );
    // Chunks 1..9 early: 4.5 MiB, past it.
    const past = new InOrderHash(chunks, NONCE, RX);
    for (const i of [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]) past.add(i, payload);
    expect(past.digest()).toBeUndefined();
  });
});
