import { describe, expect, it } from 'vitest';
import { encodeManifest, type Manifest, parseManifest } from '../../src/protocol/manifest.js';

const valid: Manifest = {
  mqimg: 1,
  id: '0123456789abcdef',
  name: 'photo.jpg',
  type: 'image/jpeg',
  size: 100_000,
  chunkBytes: 32_768,
  chunks: 4,
  sha256: 'a'.repeat(64),
  width: 640,
  height: 480,
  createdMs: 1_700_000_000_000,
};
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

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

  it('refuses a payload that is not JSON', () => {
    expect(parseManifest(Buffer.from('{not json'))).toMatchObject({
      ok: false,
      problem: { code: 'not_json' },
    });
  });

  it('refuses another major version with a message naming both versions', () => {
    const result = parseManifest(bytes({ ...valid, mqimg: 2 }));
    expect(result).toMatchObject({ ok: false, problem: { code: 'unsupported_version' } });
    if (!result.ok) expect(result.problem.message).toMatch(/version 2.*version 1/);
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
