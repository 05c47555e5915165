import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkHashes, pageHashes, sha256Digest, sha256Hex } from '../../../src/platform/node-crypto.js';
import { cutPages, pageCount } from '../../../src/protocol/manifest/chunk-hashes.js';
import { type Manifest, manifestSchema } from '../../../src/protocol/manifest/manifest.js';
import { composeManifest } from '../../../src/protocol/manifest/manifest-builder.js';
import { Reassembly } from '../../../src/protocol/receive/reassembly.js';
import {
  chunkMismatch,
  TransferIntake,
  WAITING_BYTES,
} from '../../../src/protocol/receive/transfer-intake.js';
import { MAX_WANT_PAGES } from '../../../src/protocol/status/status.js';
import { fromHex, toBase64 } from '../../../src/protocol/wire/bytes.js';
import { chunkCount, chunkView } from '../../../src/protocol/wire/chunking.js';

/** The first 16 bytes of SHA-256: what hash pages carry. */
const shortHash = (bytes: Uint8Array) => sha256Digest(bytes).subarray(0, 16);

/**
 * TransferIntake: the receiver's rules for one transfer (PROTOCOL.md 6.3 and 7.2), shared by the Node receiver and
 * the display page. Driven here with real manifests, pages and chunks built as the sender builds them, and with
 * time handed in (it is pure).
 */

interface Fixture {
  manifest: Manifest;
  bytes: Uint8Array;
  pages: Uint8Array[];
  chunk(index: number): Uint8Array;
  page(index: number): Uint8Array;
}

const STARTED_MS = 10_000;

/** A transfer of `bytes` in chunks of `chunkBytes`, built as a sender builds it (the manifest must parse). */
function transferOf(bytes: Uint8Array, chunkBytes: number, name = 'picture.bin'): Fixture {
  const chunks = chunkCount(bytes.length, chunkBytes);
  const pages = cutPages(chunkHashes(bytes, chunkBytes), chunks, chunkBytes);
  const manifest = composeManifest(
    { bytes, name, mediaType: 'image/png', width: 10, height: 5 },
    {
      id: '0123456789abcdef',
      nonce: '404142434445464748494a4b4c4d4e4f',
      sha256: sha256Hex(bytes),
      pages: toBase64(pageHashes(pages)),
      chunkBytes,
      createdMs: 1767225600000,
    },
  );
  expect(manifestSchema.safeParse(manifest).success).toBe(true);
  return {
    manifest,
    bytes,
    pages,
    chunk: (i) => chunkView(bytes, i, chunkBytes),
    page: (j) => pages[j] ?? new Uint8Array(0),
  };
}

/** PROTOCOL.md 11: 200 bytes 0x00..0xc7 in chunks of 64: 4 chunks, one hash page. */
function vector(): Fixture {
  return transferOf(
    Uint8Array.from({ length: 200 }, (_, i) => i),
    64,
    'vector.bin',
  );
}

/** PROTOCOL.md 11, two pages: 300 bytes i mod 256 in chunks of 64: 5 chunks, pages of 4 and 1 hashes. */
function twoPages(): Fixture {
  return transferOf(
    Uint8Array.from({ length: 300 }, (_, i) => i % 256),
    64,
    'two-pages.bin',
  );
}

/** `chunks` chunks of 64 bytes (4 hashes per page), the last one 40 bytes. */
function ofChunks(chunks: number): Fixture {
  return transferOf(randomBytes(64 * (chunks - 1) + 40), 64);
}

/** Stores every page of `f` in `intake`. */
function storeAllPages(intake: TransferIntake, f: Fixture): void {
  for (let j = 0; j < f.pages.length; j++) {
    const page = f.page(j);
    expect(intake.storePage(j, page, shortHash(page)).kind).toBe('stored');
  }
}

/** Checks chunk `index` and commits it after checking its hash as a receiver does; returns what commit said. */
function take(intake: TransferIntake, f: Fixture, index: number, nowMs: number, win = 768) {
  const check = intake.check(index, f.chunk(index));
  if (check.kind !== 'verify') throw new Error(`chunk ${index}: ${check.kind}, not verify`);
  expect(Buffer.from(check.expected)).toEqual(Buffer.from(shortHash(f.chunk(index))));
  return intake.commit(index, nowMs, win);
}

describe('TransferIntake: the vectors of PROTOCOL.md 11', () => {
  it('the vector transfer has the page and chunk hashes PROTOCOL.md lists', () => {
    const f = vector();
    expect(f.manifest.pages).toBe('l+fci+tipV4nTO1v5HgaRg==');
    expect(f.manifest.sha256).toBe('1901da1c9f699b48f6b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f');
    const two = twoPages();
    expect(two.manifest.pages).toBe('40TtARS9yu/xLqCUzSBx9n0zK2+2WkI20xUoWGZxYjU=');
    expect(Buffer.from(two.page(1)).toString('hex')).toBe('17619ec4250ef65f083e2314ef30af79');
  });

  it('holding chunks 0 and 2, publishes exactly the status of the vector', () => {
    const f = vector();
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    expect(intake.pageCount).toBe(1);
    storeAllPages(intake, f);
    take(intake, f, 0, STARTED_MS + 1);
    take(intake, f, 2, STARTED_MS + 2);
    const status = intake.status('rx-1a2b3c4d', 768, STARTED_MS + 3);
    expect(JSON.stringify(status)).toBe(
      '{"rx":"rx-1a2b3c4d","state":"receiving","next":1,"high":2,"win":768,"missing":[[1,1]]}',
    );
  });

  it('expects each chunk to hash to the value PROTOCOL.md lists for it', () => {
    const f = vector();
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    storeAllPages(intake, f);
    const listed = [
      'fdeab9acf3710362bd2658cdc9a29e8f',
      '9afaeef005e286957ee9a18a2481a75c',
      'c39e13bbb05726a3c0747d3ca54c27e3',
      '2d16485c5853ff9f54e013685aff6c7a',
    ];
    for (const [i, hex] of listed.entries()) {
      const check = intake.check(i, f.chunk(i));
      expect(check).toEqual({ kind: 'verify', expected: fromHex(hex) });
    }
  });
});

describe('TransferIntake: hash pages (PROTOCOL.md 6.3)', () => {
  it('takes a page that matches the manifest once, and ignores later copies', () => {
    const f = twoPages();
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    expect(intake.pageCount).toBe(2);
    expect(intake.storePage(1, f.page(1), shortHash(f.page(1)))).toEqual({ kind: 'stored', waiting: [] });
    expect(intake.received).toBe(1);
    // A second copy, even a wrong one, is ignored: the first page that passed is kept.
    const forged = new Uint8Array(16);
    expect(intake.storePage(1, forged, shortHash(forged))).toEqual({ kind: 'stored', waiting: [] });
    expect(intake.received).toBe(1);
    expect(take(intake, f, 4, STARTED_MS)).toEqual({ complete: false, reportNow: true });
  });

  it('refuses a page beyond the manifest, of the wrong length, or whose hash is not the listed one', () => {
    const f = twoPages();
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    const page0 = f.page(0);
    expect(intake.storePage(2, page0, shortHash(page0))).toEqual({
      kind: 'rejected',
      message: 'hash page 2 is beyond the manifest',
    });
    // Page 0's bytes offered as page 1: the right hash for other bytes, the wrong length (64, not 16).
    expect(intake.storePage(1, page0, shortHash(page0))).toEqual({
      kind: 'rejected',
      message: 'hash page 1 does not match the manifest; dropped',
    });
    // Right length, one bit changed: the hash no longer matches the manifest's.
    const tampered = Uint8Array.from(page0);
    tampered[5] = (tampered[5] ?? 0) ^ 1;
    expect(intake.storePage(0, tampered, shortHash(tampered)).kind).toBe('rejected');
    // Right bytes, but a hash handed in that is not theirs (the caller's hashing is trusted, not recomputed).
    expect(intake.storePage(0, page0, new Uint8Array(16)).kind).toBe('rejected');
    expect(intake.received).toBe(0);
    // Then the real page is still taken.
    expect(intake.storePage(0, page0, shortHash(page0)).kind).toBe('stored');
    expect(intake.received).toBe(1);
  });

  it('the rejection of a chunk that does not match its hash names the chunk', () => {
    expect(chunkMismatch(7)).toEqual({
      kind: 'rejected',
      code: 'chunk_hash_mismatch',
      message:
        'chunk 7 does not match its hash in the manifest (changed in transit or forged); dropped, the next copy is taken',
    });
  });
});

describe('TransferIntake: chunks (PROTOCOL.md 6.3)', () => {
  it('refuses an index out of range and a wrong length, with the reassembly codes', () => {
    const f = twoPages();
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    storeAllPages(intake, f);
    expect(intake.check(5, f.chunk(4))).toEqual({
      kind: 'rejected',
      code: 'index_out_of_range',
      message: 'chunk index 5 is outside 0..4',
    });
    expect(intake.check(-1, f.chunk(0))).toMatchObject({ kind: 'rejected', code: 'index_out_of_range' });
    expect(intake.check(1.5, f.chunk(0))).toMatchObject({ kind: 'rejected', code: 'index_out_of_range' });
    // Chunk 4 is the last one: 300 - 4 x 64 = 44 bytes, so a full 64-byte payload is wrong, and so is 43.
    expect(intake.check(4, f.chunk(0))).toEqual({
      kind: 'rejected',
      code: 'wrong_length',
      message: 'chunk 4 has 64 bytes; the manifest says it has 44',
    });
    expect(intake.check(0, f.chunk(0).subarray(0, 63))).toMatchObject({ code: 'wrong_length' });
    // Refused even while its page is missing: length and index come first.
    const early = new TransferIntake(f.manifest, STARTED_MS);
    expect(early.check(0, new Uint8Array(10))).toMatchObject({ kind: 'rejected', code: 'wrong_length' });
    expect(early.received).toBe(0);
  });

  it('calls a chunk a duplicate once it is committed, not before (a mismatching copy is not held)', () => {
    const f = vector();
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    storeAllPages(intake, f);
    // Checked but never committed (say its hash did not match): the next copy is checked again.
    expect(intake.check(1, f.chunk(1)).kind).toBe('verify');
    expect(intake.check(1, f.chunk(1)).kind).toBe('verify');
    expect(intake.reassembly.received).toBe(0);
    take(intake, f, 1, STARTED_MS);
    expect(intake.check(1, f.chunk(1))).toEqual({ kind: 'duplicate' });
    expect(intake.reassembly.received).toBe(1);
  });

  it('keeps chunks aside until their page comes, then hands them over with the page', () => {
    const f = ofChunks(10); // pages: chunks 0-3, 4-7, 8-9
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    expect(intake.pageCount).toBe(3);
    expect(intake.check(5, f.chunk(5))).toEqual({ kind: 'waiting', held: true });
    expect(intake.check(9, f.chunk(9))).toEqual({ kind: 'waiting', held: true });
    expect(intake.check(6, f.chunk(6))).toEqual({ kind: 'waiting', held: true });
    // A second copy of a waiting chunk is not counted twice.
    expect(intake.check(5, f.chunk(5))).toEqual({ kind: 'waiting', held: true });
    expect(intake.received).toBe(3);
    expect(intake.reassembly.received).toBe(0);

    const stored = intake.storePage(1, f.page(1), shortHash(f.page(1)));
    if (stored.kind !== 'stored') throw new Error(stored.message);
    expect(stored.waiting.map(([i]) => i).sort()).toEqual([5, 6]);
    for (const [i, payload] of stored.waiting) expect(Buffer.from(payload)).toEqual(Buffer.from(f.chunk(i)));
    // Page 1 plus chunk 9 still waiting; 5 and 6 are the caller's to verify and commit now.
    expect(intake.received).toBe(2);
    expect(intake.check(5, f.chunk(5)).kind).toBe('verify');
    expect(intake.check(9, f.chunk(9))).toEqual({ kind: 'waiting', held: true });
  });

  it('keeps a copy of a waiting chunk, not a view of the caller’s buffer', () => {
    const f = ofChunks(10);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    const buffer = Uint8Array.from(f.chunk(2));
    intake.check(2, buffer);
    buffer.fill(0);
    const stored = intake.storePage(0, f.page(0), shortHash(f.page(0)));
    if (stored.kind !== 'stored') throw new Error(stored.message);
    expect(stored.waiting).toHaveLength(1);
    expect(Buffer.from(stored.waiting[0]?.[1] ?? [])).toEqual(Buffer.from(f.chunk(2)));
  });

  it(`keeps at most WAITING_BYTES (1 MiB) of chunks waiting, and takes more once the page frees them`, () => {
    expect(WAITING_BYTES).toBe(1024 * 1024);
    const chunkBytes = 8192; // 512 hashes per page: all 130 chunks wait for page 0
    const f = transferOf(randomBytes(130 * chunkBytes), chunkBytes);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    expect(intake.pageCount).toBe(1);
    const fits = WAITING_BYTES / chunkBytes; // 128: exactly 1 MiB is still within the bound
    for (let i = 0; i < fits; i++)
      expect(intake.check(i, f.chunk(i))).toEqual({ kind: 'waiting', held: true });
    expect(intake.check(fits, f.chunk(fits))).toEqual({ kind: 'waiting', held: false });
    expect(intake.check(fits + 1, f.chunk(fits + 1))).toEqual({ kind: 'waiting', held: false });
    // A chunk dropped for the bound is not received; one already held aside is still reported as held.
    expect(intake.received).toBe(fits);
    expect(intake.check(0, f.chunk(0))).toEqual({ kind: 'waiting', held: true });
    // Nor for the last chunk.
    expect(intake.check(129, f.chunk(129))).toEqual({ kind: 'waiting', held: false });

    const stored = intake.storePage(0, f.page(0), shortHash(f.page(0)));
    if (stored.kind !== 'stored') throw new Error(stored.message);
    expect(stored.waiting.map(([i]) => i)).toEqual(Array.from({ length: fits }, (_, i) => i));
    expect(intake.check(fits, f.chunk(fits)).kind).toBe('verify');
  });

  it('frees the waiting bytes it hands over: the bound counts what waits now, not what ever waited', () => {
    const chunkBytes = 8192; // 512 hashes per page
    const f = transferOf(randomBytes((512 + 130) * chunkBytes), chunkBytes); // page 1: chunks 512 on
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    expect(intake.pageCount).toBe(2);
    for (let i = 0; i < 128; i++)
      expect(intake.check(i, f.chunk(i))).toEqual({ kind: 'waiting', held: true });
    expect(intake.check(128, f.chunk(128))).toEqual({ kind: 'waiting', held: false });
    intake.storePage(0, f.page(0), shortHash(f.page(0)));
    // 1 MiB waited for page 0 and was handed over: 1 MiB may wait for page 1 now, and no more.
    for (let i = 512; i < 512 + 128; i++)
      expect(intake.check(i, f.chunk(i))).toEqual({ kind: 'waiting', held: true });
    expect(intake.check(640, f.chunk(640))).toEqual({ kind: 'waiting', held: false });
  });

  it('reports completion with the last chunk, and a status at once for a gap or a repair', () => {
    const f = ofChunks(10);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    storeAllPages(intake, f);
    // win 768: a status every 16 chunks, so in-order chunks do not report at once.
    expect(take(intake, f, 0, STARTED_MS + 1)).toEqual({ complete: false, reportNow: false });
    expect(intake.lastActivityMs).toBe(STARTED_MS + 1);
    // Chunk 3 beyond missing 1 and 2: a gap.
    expect(take(intake, f, 3, STARTED_MS + 2)).toEqual({ complete: false, reportNow: true });
    // Chunk 4 right after 3: no new gap.
    expect(take(intake, f, 4, STARTED_MS + 3)).toEqual({ complete: false, reportNow: false });
    // The status asks for [1, 2]; chunk 2 then answers the request: a repair, reported at once.
    expect(intake.status('rx-1', 768, STARTED_MS + 4).missing).toEqual([[1, 2]]);
    expect(take(intake, f, 2, STARTED_MS + 50)).toEqual({ complete: false, reportNow: true });
    // win 8: a status every single chunk.
    expect(take(intake, f, 5, STARTED_MS + 51, 8)).toEqual({ complete: false, reportNow: true });
    for (const i of [1, 6, 7, 8]) take(intake, f, i, STARTED_MS + 60);
    // The last chunk completes the transfer; in order and 7 chunks after the last status, it asks for no status
    // of its own (the caller finishes the transfer and sends `complete`).
    expect(take(intake, f, 9, STARTED_MS + 70)).toEqual({ complete: true, reportNow: false });
    expect(intake.reassembly.complete).toBe(true);
    expect(intake.received).toBe(10 + 3);
  });
});

describe('TransferIntake: asking for pages (wantPages, PROTOCOL.md 7.2 item 4)', () => {
  it('asks for missing pages 100 ms after the start, then each again every 300 ms, never more often', () => {
    const f = ofChunks(10);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    expect(intake.wantPages(STARTED_MS)).toEqual([]);
    expect(intake.wantPages(STARTED_MS + 99)).toEqual([]);
    expect(intake.wantPages(STARTED_MS + 100)).toEqual([0, 1, 2]);
    expect(intake.wantPages(STARTED_MS + 101)).toEqual([]);
    expect(intake.wantPages(STARTED_MS + 399)).toEqual([]);
    intake.storePage(1, f.page(1), shortHash(f.page(1)));
    expect(intake.wantPages(STARTED_MS + 400)).toEqual([0, 2]);
    expect(intake.wantPages(STARTED_MS + 699)).toEqual([]);
    intake.storePage(0, f.page(0), shortHash(f.page(0)));
    expect(intake.wantPages(STARTED_MS + 700)).toEqual([2]);
    intake.storePage(2, f.page(2), shortHash(f.page(2)));
    expect(intake.wantPages(STARTED_MS + 10_000)).toEqual([]);
  });

  it('asks at once, before the 100 ms, when a chunk waits for a page; however many chunks then wait', () => {
    const f = ofChunks(10);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    intake.check(9, f.chunk(9));
    // Chunk 9 waits for page 2, and the grace is then over for every page (transfer-intake.ts: "unless a chunk is
    // already waiting for one"); PROTOCOL.md 7.2 item 4 words it per page ("as soon as a chunk is waiting for it").
    expect(intake.wantPages(STARTED_MS + 1)).toEqual([0, 1, 2]);
    intake.check(8, f.chunk(8));
    intake.check(4, f.chunk(4));
    expect(intake.wantPages(STARTED_MS + 2)).toEqual([]);
    expect(intake.wantPages(STARTED_MS + 301)).toEqual([0, 1, 2]);
  });

  it(`asks for at most MAX_WANT_PAGES (16) pages in one go, the rest next`, () => {
    expect(MAX_WANT_PAGES).toBe(16);
    const f = ofChunks(4 * 20); // 20 pages
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    expect(intake.pageCount).toBe(20);
    const now = STARTED_MS + 100;
    expect(intake.wantPages(now)).toEqual(Array.from({ length: 16 }, (_, j) => j));
    expect(intake.wantPages(now)).toEqual([16, 17, 18, 19]);
    expect(intake.wantPages(now)).toEqual([]);
  });
});

describe('TransferIntake: the receiving status (PROTOCOL.md 7.1, 7.2)', () => {
  it('starts as the join status: next 0, high -1, nothing missing or wanted yet', () => {
    const f = ofChunks(10);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    expect(intake.status('rx-a', 256, STARTED_MS)).toEqual({
      rx: 'rx-a',
      state: 'receiving',
      next: 0,
      high: -1,
      win: 256,
    });
  });

  it('lists pages it lacks in wantPages, paced as wantPages() is', () => {
    const f = ofChunks(10);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    intake.storePage(1, f.page(1), shortHash(f.page(1)));
    expect(intake.status('rx-a', 256, STARTED_MS + 100)).toEqual({
      rx: 'rx-a',
      state: 'receiving',
      next: 0,
      high: -1,
      win: 256,
      wantPages: [0, 2],
    });
    expect(intake.status('rx-a', 256, STARTED_MS + 200).wantPages).toBeUndefined();
    expect(intake.status('rx-a', 256, STARTED_MS + 400).wantPages).toEqual([0, 2]);
  });

  it('lists the gaps below high as missing, and asks again only after the repeat interval (600 ms at first)', () => {
    const f = ofChunks(12);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    storeAllPages(intake, f);
    for (const i of [0, 1, 4, 5, 9]) take(intake, f, i, STARTED_MS + 10);
    expect(intake.status('rx-a', 64, STARTED_MS + 20)).toEqual({
      rx: 'rx-a',
      state: 'receiving',
      next: 2,
      high: 9,
      win: 64,
      missing: [
        [2, 3],
        [6, 8],
      ],
    });
    // Asked a moment ago: not due again yet. Chunks 10 and 11 beyond high are in flight, never missing.
    expect(intake.status('rx-a', 64, STARTED_MS + 21).missing).toBeUndefined();
    expect(intake.status('rx-a', 64, STARTED_MS + 619).missing).toBeUndefined();
    expect(intake.status('rx-a', 64, STARTED_MS + 620).missing).toEqual([
      [2, 3],
      [6, 8],
    ]);
  });

  it('does not list chunks set aside for their page as missing: they are held, unchecked', () => {
    const f = ofChunks(12); // pages: 0-3, 4-7, 8-11
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    intake.storePage(0, f.page(0), shortHash(f.page(0)));
    intake.storePage(2, f.page(2), shortHash(f.page(2)));
    take(intake, f, 0, STARTED_MS + 1);
    take(intake, f, 10, STARTED_MS + 2);
    expect(intake.check(5, f.chunk(5))).toEqual({ kind: 'waiting', held: true });
    expect(intake.check(7, f.chunk(7))).toEqual({ kind: 'waiting', held: true });
    const status = intake.status('rx-a', 64, STARTED_MS + 3);
    expect(status.next).toBe(1);
    expect(status.high).toBe(10);
    expect(status.missing).toEqual([
      [1, 4],
      [6, 6],
      [8, 9],
    ]);
    // A chunk waiting makes its page due at once.
    expect(status.wantPages).toEqual([1]);
  });

  it('lists a chunk dropped for the waiting bound as missing (the sender must resend it)', () => {
    const chunkBytes = 8192;
    const f = transferOf(randomBytes(140 * chunkBytes), chunkBytes);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    for (let i = 1; i <= 129; i++) intake.check(i, f.chunk(i)); // 1..128 wait (1 MiB), 129 is dropped
    const stored = intake.storePage(0, f.page(0), shortHash(f.page(0)));
    if (stored.kind !== 'stored') throw new Error(stored.message);
    expect(stored.waiting).toHaveLength(128);
    for (const [i] of stored.waiting) intake.commit(i, STARTED_MS + 1, 256);
    take(intake, f, 130, STARTED_MS + 2);
    const status = intake.status('rx-a', 256, STARTED_MS + 3);
    expect([status.next, status.high]).toEqual([0, 130]);
    expect(status.missing).toEqual([
      [0, 0],
      [129, 129],
    ]);
  });

  it('holds at most 64 ranges in missing, lowest first', () => {
    const f = ofChunks(300);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    storeAllPages(intake, f);
    for (let i = 1; i < 300; i += 2) take(intake, f, i, STARTED_MS + 1); // a gap at every even index
    const missing = intake.status('rx-a', 256, STARTED_MS + 2).missing;
    expect(missing).toHaveLength(64);
    expect(missing?.[0]).toEqual([0, 0]);
    expect(missing?.[63]).toEqual([126, 126]);
  });

  it('tells how long it has been idle and how many chunks it holds', () => {
    const f = ofChunks(10);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    storeAllPages(intake, f);
    take(intake, f, 0, STARTED_MS + 1000);
    take(intake, f, 1, STARTED_MS + 2000);
    expect(intake.heldSummary(STARTED_MS + 5400)).toBe('nothing received for 3 s with 2 of 10 chunks held');
    expect(intake.heldSummary(STARTED_MS + 5600)).toBe('nothing received for 4 s with 2 of 10 chunks held');
  });
});

describe('TransferIntake: resuming from a held-chunk bitmap', () => {
  it('starts from what the earlier run held: duplicates, next, high and missing follow it', () => {
    const f = ofChunks(12);
    const before = new Reassembly(12, f.manifest.size, 64);
    for (const i of [0, 1, 2, 5, 8]) before.commit(i);
    const intake = new TransferIntake(f.manifest, STARTED_MS, before.bitmap());
    expect(intake.reassembly.received).toBe(5);
    expect(intake.received).toBe(5); // no page yet: pages are not part of the saved state
    storeAllPages(intake, f);
    expect(intake.check(5, f.chunk(5))).toEqual({ kind: 'duplicate' });
    expect(intake.check(3, f.chunk(3)).kind).toBe('verify');
    expect(intake.status('rx-a', 64, STARTED_MS)).toEqual({
      rx: 'rx-a',
      state: 'receiving',
      next: 3,
      high: 8,
      win: 64,
      missing: [
        [3, 4],
        [6, 7],
      ],
    });
    for (const i of [3, 4, 6, 7, 9, 10]) take(intake, f, i, STARTED_MS + 1);
    expect(take(intake, f, 11, STARTED_MS + 2).complete).toBe(true);
  });

  it('ignores a bitmap of the wrong length (another transfer’s state) and starts empty', () => {
    const f = ofChunks(12);
    const intake = new TransferIntake(f.manifest, STARTED_MS, new Uint8Array([0xff, 0xff, 0xff]));
    expect(intake.reassembly.received).toBe(0);
    expect(intake.status('rx-a', 64, STARTED_MS)).toMatchObject({ next: 0, high: -1 });
  });
});

describe('TransferIntake: end to end with the real hashes', () => {
  it('takes any arrival order of pages and chunks, with duplicates, to the exact file', () => {
    const f = ofChunks(40);
    const intake = new TransferIntake(f.manifest, STARTED_MS);
    const file = new Uint8Array(f.manifest.size);
    const arrivals: Array<['p' | 'c', number]> = [];
    for (let i = 0; i < 40; i++) arrivals.push(['c', i], ['c', i]);
    for (let j = 0; j < pageCount(40, 64); j++) arrivals.push(['p', j]);
    // A fixed shuffle (a seeded LCG): the test is the same every run.
    let seed = 12345;
    for (let i = arrivals.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const k = seed % (i + 1);
      [arrivals[i], arrivals[k]] = [arrivals[k] as ['p' | 'c', number], arrivals[i] as ['p' | 'c', number]];
    }
    let complete = false;
    const verifyAndCommit = (i: number, payload: Uint8Array, expected: Uint8Array) => {
      expect(Buffer.from(shortHash(payload))).toEqual(Buffer.from(expected));
      file.set(payload, i * 64);
      complete = intake.commit(i, STARTED_MS + 1, 64).complete || complete;
    };
    for (const [kind, n] of arrivals) {
      if (kind === 'p') {
        const stored = intake.storePage(n, f.page(n), shortHash(f.page(n)));
        if (stored.kind !== 'stored') throw new Error(stored.message);
        for (const [i, payload] of stored.waiting) {
          const again = intake.check(i, payload);
          if (again.kind !== 'verify') throw new Error(`chunk ${i}: ${again.kind}`);
          verifyAndCommit(i, payload, again.expected);
        }
        continue;
      }
      const check = intake.check(n, f.chunk(n));
      if (check.kind === 'verify') verifyAndCommit(n, f.chunk(n), check.expected);
    }
    expect(complete).toBe(true);
    expect(createHash('sha256').update(file).digest('hex')).toBe(f.manifest.sha256);
  });
});
