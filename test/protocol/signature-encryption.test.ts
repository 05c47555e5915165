import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  openChunk,
  SALT_BYTES,
  sealChunk,
  sealManifest,
  TAG_BYTES,
  transferKey,
} from '../../src/protocol/encryption.js';
import { encodeManifest, type Manifest } from '../../src/protocol/manifest.js';
import { checkSignature, publicKeyId, signManifest } from '../../src/protocol/signature.js';
import { readManifest } from '../../src/protocol/wire-manifest.js';
import { buildManifest } from '../../src/session/send-session.js';

const bytes = randomBytes(5000);
const plain = buildManifest(
  { bytes, name: 'door.jpg', mediaType: 'image/jpeg', width: 64, height: 48 },
  'cam/door',
  1024,
  1_767_225_600_000,
);
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const kid = publicKeyId(publicKey);
const trusted = new Map([[kid, publicKey]]);

describe('manifest signatures', () => {
  const signed = signManifest(plain, 'cam/door', privateKey, kid);

  it('verify for the topic they were made for, and only with a trusted key', () => {
    expect(checkSignature(signed, 'cam/door', trusted)).toBeUndefined();
    expect(checkSignature(signed, 'cam/garage', trusted)?.code).toBe('bad_signature');
    expect(checkSignature(plain, 'cam/door', trusted)?.code).toBe('unsigned');
    const stranger = generateKeyPairSync('ed25519');
    const other = signManifest(plain, 'cam/door', stranger.privateKey, publicKeyId(stranger.publicKey));
    expect(checkSignature(other, 'cam/door', trusted)?.code).toBe('untrusted_key');
  });

  it.each<[keyof Manifest, unknown]>([
    ['id', '0000000000000000'],
    ['name', 'door2.jpg'],
    ['type', 'image/png'],
    ['size', 5001],
    ['chunkBytes', 2048],
    ['chunks', 6],
    ['sha256', '0'.repeat(64)],
    ['width', 65],
    ['height', 47],
    ['createdMs', 1_767_225_600_001],
    ['pixelFormat', 'gray8'],
    ['stride', 64],
    ['supersede', true],
  ])('fail when %s is changed after signing', (field, value) => {
    expect(checkSignature({ ...signed, [field]: value }, 'cam/door', trusted)?.code).toBe('bad_signature');
  });

  it('fail when the signature claims another trusted key', () => {
    const second = generateKeyPairSync('ed25519');
    const both = new Map([...trusted, [publicKeyId(second.publicKey), second.publicKey]]);
    const relabelled = { ...signed, sig: { ...signed.sig, kid: publicKeyId(second.publicKey) } };
    expect(checkSignature(relabelled, 'cam/door', both)?.code).toBe('bad_signature');
  });
});

describe('sealed chunks and manifests', () => {
  const secret = randomBytes(32);

  it('round-trip, and refuse a changed byte, another index, another transfer or another key', () => {
    const key = transferKey(secret, randomBytes(SALT_BYTES), plain.id);
    const chunk = bytes.subarray(0, 1024);
    const sealed = sealChunk(key, plain.id, 3, chunk);
    expect(sealed.length).toBe(chunk.length + TAG_BYTES);
    expect(openChunk(key, plain.id, 3, sealed)?.equals(chunk)).toBe(true);
    const flipped = Buffer.from(sealed);
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    expect(openChunk(key, plain.id, 3, flipped)).toBeUndefined();
    expect(openChunk(key, plain.id, 4, sealed)).toBeUndefined();
    expect(openChunk(key, '0123456789abcdef', 3, sealed)).toBeUndefined();
    expect(
      openChunk(transferKey(secret, randomBytes(SALT_BYTES), plain.id), plain.id, 3, sealed),
    ).toBeUndefined();
    expect(openChunk(key, plain.id, 3, sealed.subarray(0, 10))).toBeUndefined();
  });

  it('use a new transfer key for every salt, so chunk nonces never repeat under one key', () => {
    const a = sealChunk(
      transferKey(secret, randomBytes(SALT_BYTES), plain.id),
      plain.id,
      0,
      bytes.subarray(0, 64),
    );
    const b = sealChunk(
      transferKey(secret, randomBytes(SALT_BYTES), plain.id),
      plain.id,
      0,
      bytes.subarray(0, 64),
    );
    expect(a.equals(b)).toBe(false);
  });

  it('hide the name, type, checksum, dimensions and signature, and open only with the same secret', () => {
    const signed = signManifest(plain, 'cam/door', privateKey, kid);
    const { sealed } = sealManifest(signed, secret, randomBytes(SALT_BYTES));
    const wire = Buffer.from(JSON.stringify(sealed));
    for (const field of ['name', 'type', 'sha256', 'width', 'height', 'sig'])
      expect(sealed).not.toHaveProperty(field);
    expect(wire.toString()).not.toContain('door.jpg');
    const opened = readManifest(wire, secret);
    expect(opened.ok && opened.manifest).toEqual(signed);
    const wrong = readManifest(wire, randomBytes(32));
    expect(wrong.ok ? undefined : wrong.problem.code).toBe('wrong_key');
    const none = readManifest(wire);
    expect(none.ok ? undefined : none.problem.code).toBe('encrypted');
    const cleartext = readManifest(encodeManifest(plain), secret);
    expect(cleartext.ok ? undefined : cleartext.problem.code).toBe('not_encrypted');
    // The readable copies are not what counts: changing them changes nothing, or breaks authentication (the id
    // is in the key derivation and the additional data).
    const resized = readManifest(
      Buffer.from(JSON.stringify({ ...sealed, size: 1, chunks: 1, supersede: true })),
      secret,
    );
    expect(resized.ok && resized.manifest).toEqual(signed);
    const moved = readManifest(Buffer.from(JSON.stringify({ ...sealed, id: '0123456789abcdef' })), secret);
    expect(moved.ok ? undefined : moved.problem.code).toBe('wrong_key');
  });
});
