import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha256Js, Sha256 } from '../../src/platform/js-sha256.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('SHA-256 and HMAC-SHA256 in JavaScript (the page without WebCrypto)', () => {
  it('matches the FIPS 180-4 examples and every padding boundary', () => {
    expect(hex(new Sha256().update(new Uint8Array(0)).digest())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(hex(new Sha256().update(Buffer.from('abc')).digest())).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    for (let n = 50; n <= 130; n++) {
      const data = Buffer.alloc(n, n);
      expect(hex(new Sha256().update(data).digest()), `${n} bytes`).toBe(
        createHash('sha256').update(data).digest('hex'),
      );
    }
  });

  it('gives what Node gives for any bytes fed in any pieces', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat(300), { maxLength: 8 }),
        (data, cuts) => {
          const hash = new Sha256();
          let at = 0;
          for (const cut of cuts) {
            hash.update(data.subarray(at, at + cut));
            at += cut;
          }
          hash.update(data.subarray(at));
          expect(hex(hash.digest())).toBe(createHash('sha256').update(data).digest('hex'));
        },
      ),
    );
  });

  it('computes HMAC-SHA256 as Node does, short and long keys alike', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 500 }), (key, data) => {
        expect(hex(hmacSha256Js(key, data))).toBe(createHmac('sha256', key).update(data).digest('hex'));
      }),
    );
  });
});
