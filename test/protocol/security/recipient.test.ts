import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../src/platform/node-crypto.js';
import { rawPublicKey, x25519PrivateFromEd25519 } from '../../../src/platform/node-keys.js';
import { webCrypto } from '../../../src/platform/web-crypto.js';
import {
  namedStatusKey,
  X25519_BASE_POINT,
  x25519PublicFromEd25519,
} from '../../../src/protocol/security/recipient.js';
import { toHex } from '../../../src/protocol/wire/bytes.js';

describe('named receivers: one Ed25519 key from mqimg keygen, used as X25519', () => {
  it('maps the public key to the X25519 public key of the private key it belongs to (10 random keys)', async () => {
    for (let n = 0; n < 10; n++) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const fromPublic = x25519PublicFromEd25519(rawPublicKey(publicKey));
      const fromPrivate = await nodeCrypto.x25519(x25519PrivateFromEd25519(privateKey), X25519_BASE_POINT);
      expect(fromPublic && toHex(fromPublic)).toBe(toHex(fromPrivate));
    }
  });

  it('refuses encodings that are no point (y >= p, y = 1) and keys of the wrong length', () => {
    expect(x25519PublicFromEd25519(new Uint8Array(31))).toBeUndefined();
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(x25519PublicFromEd25519(one)).toBeUndefined();
    expect(x25519PublicFromEd25519(new Uint8Array(32).fill(0xff))).toBeUndefined();
  });

  it('gives sender and receiver the same status key, on node:crypto and WebCrypto alike', async () => {
    const receiver = generateKeyPairSync('ed25519');
    const ephemeral = nodeCrypto.randomBytes(32);
    const epk = await nodeCrypto.x25519(ephemeral, X25519_BASE_POINT);
    const receiverPublic = x25519PublicFromEd25519(rawPublicKey(receiver.publicKey));
    if (!receiverPublic) throw new Error('no X25519 key');
    const nonce = '404142434445464748494a4b4c4d4e4f';
    const sender = await namedStatusKey(
      nodeCrypto,
      await nodeCrypto.x25519(ephemeral, receiverPublic),
      nonce,
      '0123456789abcdef',
      'k-1',
    );
    for (const crypto of [nodeCrypto, webCrypto()]) {
      const shared = await crypto.x25519(x25519PrivateFromEd25519(receiver.privateKey), epk);
      expect(toHex(await namedStatusKey(crypto, shared, nonce, '0123456789abcdef', 'k-1'))).toBe(
        toHex(sender),
      );
    }
    // Bound to the transfer and the receiver id.
    const shared = await nodeCrypto.x25519(ephemeral, receiverPublic);
    expect(toHex(await namedStatusKey(nodeCrypto, shared, nonce, '0123456789abcdee', 'k-1'))).not.toBe(
      toHex(sender),
    );
    expect(toHex(await namedStatusKey(nodeCrypto, shared, nonce, '0123456789abcdef', 'k-2'))).not.toBe(
      toHex(sender),
    );
  });
});
