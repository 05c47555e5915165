import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto, receiptVerifier } from '../../../src/platform/node-crypto.js';
import { webCrypto } from '../../../src/platform/web-crypto.js';
import { receiptProof } from '../../../src/protocol/security/receipt.js';
import { toHex } from '../../../src/protocol/wire/bytes.js';

describe('proof of receipt', () => {
  const file = randomBytes(100_000);
  const nonce = toHex(randomBytes(16));

  it.each([
    ['node:crypto', nodeCrypto],
    ['WebCrypto', webCrypto()],
  ])(
    'is the same HMAC whether computed at once (%s) or from the shared inner state the sender keeps',
    async (_, crypto) => {
      const expected = receiptVerifier(nonce, file);
      for (const rx of ['rx-1a2b3c4d', 'display', 'rx-ünïcode']) {
        expect(await receiptProof(crypto, nonce, file, rx)).toBe(expected(rx));
      }
    },
  );

  it('changes with the receiver, the nonce and any byte of the file', async () => {
    const proof = await receiptProof(nodeCrypto, nonce, file, 'rx-1');
    expect(await receiptProof(nodeCrypto, nonce, file, 'rx-2')).not.toBe(proof);
    expect(await receiptProof(nodeCrypto, toHex(randomBytes(16)), file, 'rx-1')).not.toBe(proof);
    const changed = Buffer.from(file);
    changed[50_000] = (changed[50_000] ?? 0) ^ 1;
    expect(await receiptProof(nodeCrypto, nonce, changed, 'rx-1')).not.toBe(proof);
  });
});
