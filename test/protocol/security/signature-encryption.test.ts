import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../src/platform/node-crypto.js';
import { pkcs8Of, rawPublicKey } from '../../../src/platform/node-keys.js';
import { webCrypto } from '../../../src/platform/web-crypto.js';
import { encodeManifest, type Manifest } from '../../../src/protocol/manifest/manifest.js';
import { readManifest, readSealedManifest } from '../../../src/protocol/manifest/wire-manifest.js';
import type { CryptoProvider } from '../../../src/protocol/security/crypto.js';
import {
  openChunk,
  SALT_BYTES,
  sealChunk,
  sealManifest,
  TAG_BYTES,
  transferKey,
} from '../../../src/protocol/security/encryption.js';
import { checkSignature, publicKeyId, signManifest } from '../../../src/protocol/security/signature.js';
import { bytesEqual, fromUtf8, utf8 } from '../../../src/protocol/wire/bytes.js';
import { buildManifest } from '../../../src/session/send/send-session.js';

const bytes = randomBytes(5000);
const plain = buildManifest(
  { bytes, name: 'door.jpg', mediaType: 'image/jpeg', width: 64, height: 48 },
  1024,
  1_767_225_600_000,
);
const keyPair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { pkcs8: pkcs8Of(privateKey), raw: rawPublicKey(publicKey) };
};
const mine = keyPair();

// One suite, run on both implementations of the core's crypto interface: what the CLI uses and what a page uses.
describe.each<[string, CryptoProvider]>([
  ['node:crypto', nodeCrypto],
  ['WebCrypto', webCrypto()],
])('with %s', (_, crypto) => {
  describe('manifest signatures', async () => {
    const kid = await publicKeyId(crypto, mine.raw);
    const trusted = new Map([[kid, mine.raw]]);
    const signed = await signManifest(crypto, plain, 'cam/door', mine.pkcs8, kid);

    it('verify for the topic they were made for, and only with a trusted key', async () => {
      expect(await checkSignature(crypto, signed, 'cam/door', trusted)).toBeUndefined();
      expect((await checkSignature(crypto, signed, 'cam/garage', trusted))?.code).toBe('bad_signature');
      expect((await checkSignature(crypto, plain, 'cam/door', trusted))?.code).toBe('unsigned');
      const stranger = keyPair();
      const other = await signManifest(
        crypto,
        plain,
        'cam/door',
        stranger.pkcs8,
        await publicKeyId(crypto, stranger.raw),
      );
      expect((await checkSignature(crypto, other, 'cam/door', trusted))?.code).toBe('untrusted_key');
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
    ])('fail when %s is changed after signing', async (field, value) => {
      const changed = { ...signed, [field]: value };
      expect((await checkSignature(crypto, changed, 'cam/door', trusted))?.code).toBe('bad_signature');
    });

    it('fail when the signature claims another trusted key', async () => {
      const second = keyPair();
      const secondKid = await publicKeyId(crypto, second.raw);
      const both = new Map([...trusted, [secondKid, second.raw]]);
      const relabelled = { ...signed, sig: { ...signed.sig, kid: secondKid } };
      expect((await checkSignature(crypto, relabelled, 'cam/door', both))?.code).toBe('bad_signature');
    });
  });

  describe('sealed chunks and manifests', () => {
    const secret = randomBytes(32);
    const newKey = () => transferKey(crypto, secret, randomBytes(SALT_BYTES), plain.id, 'cam/door');

    it('round-trip, and refuse a changed byte, another index, another transfer or another key', async () => {
      const key = await newKey();
      const chunk = bytes.subarray(0, 1024);
      const sealed = await sealChunk(crypto, key, plain.id, 3, chunk);
      expect(sealed.length).toBe(chunk.length + TAG_BYTES);
      const opened = await openChunk(crypto, key, plain.id, 3, sealed);
      expect(opened && bytesEqual(opened, chunk)).toBe(true);
      const flipped = Uint8Array.from(sealed);
      flipped[10] = (flipped[10] ?? 0) ^ 1;
      expect(await openChunk(crypto, key, plain.id, 3, flipped)).toBeUndefined();
      expect(await openChunk(crypto, key, plain.id, 4, sealed)).toBeUndefined();
      expect(await openChunk(crypto, key, '0123456789abcdef', 3, sealed)).toBeUndefined();
      expect(await openChunk(crypto, await newKey(), plain.id, 3, sealed)).toBeUndefined();
      expect(await openChunk(crypto, key, plain.id, 3, sealed.subarray(0, 10))).toBeUndefined();
    });

    it('use a new transfer key for every salt, so chunk nonces never repeat under one key', async () => {
      const a = await sealChunk(crypto, await newKey(), plain.id, 0, bytes.subarray(0, 64));
      const b = await sealChunk(crypto, await newKey(), plain.id, 0, bytes.subarray(0, 64));
      expect(bytesEqual(a, b)).toBe(false);
    });

    it('hide the name, type, checksum, dimensions and signature, and open only with the same secret', async () => {
      const kid = await publicKeyId(crypto, mine.raw);
      const signed = await signManifest(crypto, plain, 'cam/door', mine.pkcs8, kid);
      const { sealed } = await sealManifest(crypto, signed, secret, randomBytes(SALT_BYTES), 'cam/door');
      const wire = utf8(JSON.stringify(sealed));
      for (const field of ['name', 'type', 'sha256', 'width', 'height', 'sig'])
        expect(sealed).not.toHaveProperty(field);
      expect(fromUtf8(wire)).not.toContain('door.jpg');
      const opened = await readSealedManifest(crypto, wire, secret, 'cam/door');
      expect(opened.ok && opened.manifest).toEqual(signed);
      const wrong = await readSealedManifest(crypto, wire, randomBytes(32), 'cam/door');
      expect(wrong.ok ? undefined : wrong.problem.code).toBe('wrong_key');
      const none = readManifest(wire);
      expect(none.ok ? undefined : none.problem.code).toBe('encrypted');
      const cleartext = await readSealedManifest(crypto, encodeManifest(plain), secret, 'cam/door');
      expect(cleartext.ok ? undefined : cleartext.problem.code).toBe('not_encrypted');
      // The readable copies are not what counts: changing them changes nothing, or breaks authentication (the id
      // is in the key derivation and the additional data).
      const resized = await readSealedManifest(
        crypto,
        utf8(JSON.stringify({ ...sealed, size: 1, chunks: 1, supersede: true })),
        secret,
        'cam/door',
      );
      expect(resized.ok && resized.manifest).toEqual(signed);
      const moved = await readSealedManifest(
        crypto,
        utf8(JSON.stringify({ ...sealed, id: '0123456789abcdef' })),
        secret,
        'cam/door',
      );
      expect(moved.ok ? undefined : moved.problem.code).toBe('wrong_key');
      // Republished under another topic by someone without the secret: the topic is in the key derivation.
      const redirected = await readSealedManifest(crypto, wire, secret, 'cam/garage');
      expect(redirected.ok ? undefined : redirected.problem.code).toBe('wrong_key');
      expect(redirected.ok ? undefined : redirected.problem.message).toContain('sealed for another topic');
    });
  });
});
