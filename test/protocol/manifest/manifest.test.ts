import { describe, expect, it } from 'vitest';
import { MAX_HASH_PAGES, maxChunksFor } from '../../../src/protocol/manifest/chunk-hashes.js';
import { encodeManifest, type Manifest, parseManifest } from '../../../src/protocol/manifest/manifest.js';
import { manifestVerdict } from '../../../src/protocol/manifest/manifest-checks.js';
import { toBase64 } from '../../../src/protocol/wire/bytes.js';

/** Base64 of `n` page hashes (16 bytes each): what `pages` holds for n hash pages. */
const pagesOf = (n: number) => toBase64(new Uint8Array(16 * n).fill(0x5a));

const valid: Manifest = {
  mqimg: 3,
  id: '0123456789abcdef',
  nonce: '00112233445566778899aabbccddeeff',
  name: 'photo.jpg',
  type: 'image/jpeg',
  size: 100_000,
  chunkBytes: 32_768,
  chunks: 4,
  sha256: 'a'.repeat(64),
  // 4 chunks of 32 KiB: 2,048 hashes fit a page, so one page.
  pages: pagesOf(1),
  width: 640,
  height: 480,
  createdMs: 1_700_000_000_000,
};
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const problemOf = (value: unknown) => {
  const result = parseManifest(bytes(value));
  return result.ok ? undefined : result.problem;
};

describe('manifest', () => {
  it('round-trips through its wire encoding', () => {
    const result = parseManifest(encodeManifest(valid));
    expect(result).toEqual({ ok: true, manifest: valid });
  });

  it('keeps unknown fields so later versions can add them without breaking this receiver', () => {
    const result = parseManifest(bytes({ ...valid, thumbnail: 'xyz', hdr: { gain: 2 } }));
    expect(result.ok).toBe(true);
    if (result.ok) expect((result.manifest as Record<string, unknown>).thumbnail).toBe('xyz');
  });

  it('refuses an encrypted manifest with a code that says so, and a malformed signature field', () => {
    const encrypted = parseManifest(bytes({ ...valid, enc: { alg: 'aes-256-gcm' } }));
    expect(encrypted.ok ? undefined : encrypted.problem.code).toBe('encrypted');
    const badSig = parseManifest(bytes({ ...valid, sig: 'xyz' }));
    expect(badSig.ok ? undefined : badSig.problem.code).toBe('invalid_manifest');
  });

  it('accepts raw pixels only with a known pixel format and a stride that accounts for the size', () => {
    const raw = {
      ...valid,
      type: 'application/octet-stream',
      width: 100,
      height: 100,
      size: 20_000,
      chunks: 1,
      chunkBytes: 32_768,
    };
    expect(parseManifest(bytes({ ...raw, pixelFormat: 'rgb565le', stride: 200 })).ok).toBe(true);
    expect(parseManifest(bytes({ ...raw, pixelFormat: 'rgb565le', stride: 199 })).ok).toBe(false);
    expect(parseManifest(bytes({ ...raw, pixelFormat: 'rgb565le' })).ok).toBe(false);
    expect(parseManifest(bytes({ ...raw, pixelFormat: 'yuv420', stride: 200 })).ok).toBe(false);
  });

  it('a raw image whose stride is not the bytes of one row is a final not_an_image (as the C receiver has it)', () => {
    const raw = { ...valid, type: 'application/octet-stream', width: 100, height: 100, chunks: 1 };
    const verdict = (pixelFormat: string, stride: number) => {
      const read = parseManifest(bytes({ ...raw, pixelFormat, stride, size: stride * 100 }));
      expect(read.ok).toBe(true); // the schema only checks size = stride x height
      return manifestVerdict(read, valid.id);
    };
    expect(verdict('rgb565le', 200).kind).toBe('take');
    expect(verdict('mono1', 13).kind).toBe('take'); // 100 pixels: 12.5 bytes, padded to 13
    expect(verdict('gray4', 50).kind).toBe('take');
    for (const [format, stride] of [
      ['rgb565le', 100], // a row shorter than its pixels
      ['rgb565be', 256], // padded beyond the byte
      ['mono1', 12],
      ['gray8', 101],
    ] as const) {
      expect(verdict(format, stride)).toMatchObject({
        kind: 'fail',
        code: 'not_an_image',
        message: expect.stringContaining(`stride ${stride}`),
      });
    }
  });

  it('counts the length of a name in Unicode code points, as PROTOCOL.md says, not in bytes', () => {
    const japanese = '\u65e5'.repeat(84); // 84 characters, 252 bytes of UTF-8
    expect(Buffer.byteLength(japanese)).toBe(252);
    expect(parseManifest(bytes({ ...valid, name: japanese })).ok).toBe(true);
    expect(parseManifest(bytes({ ...valid, name: '\u65e5'.repeat(255) })).ok).toBe(true);
    expect(problemOf({ ...valid, name: '\u65e5'.repeat(256) })?.code).toBe('invalid_manifest');
    // A character beyond the Basic Multilingual Plane (an emoji, 2 UTF-16 code units, 4 bytes) counts 1.
    expect(parseManifest(bytes({ ...valid, name: '\u{1f4f7}'.repeat(255) })).ok).toBe(true);
    expect(problemOf({ ...valid, name: '\u{1f4f7}'.repeat(256) })?.code).toBe('invalid_manifest');
    // A letter and a combining accent count 2.
    expect(problemOf({ ...valid, name: 'e\u0301'.repeat(128) })?.code).toBe('invalid_manifest');
  });

  it('refuses a payload that is not JSON', () => {
    expect(parseManifest(Buffer.from('{not json'))).toMatchObject({
      ok: false,
      problem: { code: 'not_json' },
    });
  });

  it('refuses version 1 and 2 manifests with a message naming both versions', () => {
    // The test vector of PROTOCOL.md version 1, as a version 1 sender published it.
    const v1 = {
      mqimg: 1,
      id: '7fc8b68764028de3',
      name: 'vector.bin',
      type: 'image/png',
      size: 200,
      chunkBytes: 64,
      chunks: 4,
      sha256: '1901da1c9f699b48f6b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f',
      width: 10,
      height: 5,
      createdMs: 1767225600000,
    };
    const problem = problemOf(v1);
    expect(problem?.code).toBe('unsupported_version');
    expect(problem?.message).toMatch(/version 1.*version 3/);
    // A version 2 sender (whose proof of receipt a version 3 receiver cannot give) is told so, not left waiting.
    expect(problemOf({ ...valid, mqimg: 2 })).toMatchObject({ code: 'unsupported_version' });
    expect(problemOf({ ...valid, mqimg: 2 })?.message).toMatch(/version 2.*version 3/);
    expect(problemOf({ ...valid, mqimg: 4 })?.message).toMatch(/version 4.*version 3/);
  });

  it('refuses pages of the wrong length for the chunk count', () => {
    expect(problemOf({ ...valid, pages: pagesOf(2) })?.code).toBe('invalid_manifest');
    expect(problemOf({ ...valid, pages: '' })?.code).toBe('invalid_manifest');
    expect(problemOf({ ...valid, pages: toBase64(new Uint8Array(15)) })?.code).toBe('invalid_manifest');
    expect(problemOf({ ...valid, pages: 'not base64!' })?.code).toBe('invalid_manifest');
    // 64-byte chunks: 4 hashes a page, so 5 chunks need 2 pages.
    const small = { ...valid, size: 300, chunkBytes: 64, chunks: 5 };
    expect(parseManifest(bytes({ ...small, pages: pagesOf(2) })).ok).toBe(true);
    expect(problemOf({ ...small, pages: pagesOf(1) })?.message).toMatch(/pages/);
  });

  it('refuses more chunks than 128 hash pages hold at its chunk size', () => {
    // 64-byte chunks: at most 128 pages of 4 hashes, 512 chunks, 32 KiB.
    expect(maxChunksFor(64)).toBe(512);
    const most = { ...valid, size: 512 * 64, chunkBytes: 64, chunks: 512, pages: pagesOf(MAX_HASH_PAGES) };
    expect(parseManifest(bytes(most)).ok).toBe(true);
    const tooMany = { ...most, size: 512 * 64 + 1, chunks: 513, pages: pagesOf(MAX_HASH_PAGES + 1) };
    const problem = problemOf(tooMany);
    expect(problem?.code).toBe('invalid_manifest');
    expect(problem?.message).toMatch(/too many chunks/);
  });

  it('refuses a manifest without a nonce, or with a malformed one', () => {
    const { nonce: _, ...withoutNonce } = valid;
    expect(problemOf(withoutNonce)?.code).toBe('invalid_manifest');
    expect(problemOf(withoutNonce)?.message).toMatch(/nonce/);
    expect(problemOf({ ...valid, nonce: 'ab'.repeat(8) })?.code).toBe('invalid_manifest');
    expect(problemOf({ ...valid, nonce: 'AB'.repeat(16) })?.code).toBe('invalid_manifest');
  });

  it.each([
    ['a chunk count that does not match size and chunk size', { chunks: 5 }],
    ['a negative size', { size: -1 }],
    ['an absurd size', { size: 2 ** 40 }],
    ['a chunk size below the minimum', { chunkBytes: 10, chunks: 10_000 }],
    ['a malformed id', { id: '../../etc' }],
    ['a malformed sha256', { sha256: 'xyz' }],
    ['an empty name', { name: '' }],
    ['a fractional width', { width: 1.5 }],
    ['a missing field', { height: undefined }],
    ['a missing pages field', { pages: undefined }],
  ])('refuses %s', (_label, change) => {
    const result = parseManifest(bytes({ ...valid, ...change }));
    expect(result).toMatchObject({ ok: false, problem: { code: 'invalid_manifest' } });
  });

  it('refuses JSON that is not an object', () => {
    for (const value of [null, 42, 'x', []]) {
      expect(parseManifest(bytes(value)).ok).toBe(false);
    }
  });
});
