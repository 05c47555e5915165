import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../src/platform/node-crypto.js';
import { webCrypto } from '../../../src/platform/web-crypto.js';
import type { CryptoProvider } from '../../../src/protocol/security/crypto.js';
import type { Status } from '../../../src/protocol/status/status.js';
import { openStatus, sealStatus, statusKey } from '../../../src/protocol/status/status-seal.js';
import { fromBase64, fromUtf8, toBase64, utf8 } from '../../../src/protocol/wire/bytes.js';

/**
 * Sealed statuses of encrypted transfers (PROTOCOL.md 13): `{"rx":…,"sealed":base64(nonce || AES-256-GCM ciphertext
 * || tag)}` with the additional data `<id>\n<rx>`. Run on both crypto providers: a page (WebCrypto) seals what a Node
 * sender opens, and the other way round.
 */

const ID = '0123456789abcdef';
const OTHER_ID = 'fedcba9876543210';
const receiving: Status = {
  rx: 'rx-1a2b3c4d',
  state: 'receiving',
  next: 3,
  high: 9,
  win: 256,
  missing: [[4, 5]],
  wantPages: [1],
};

/** Parses a sealed payload's outer JSON. */
function outer(payload: Uint8Array): { rx: string; sealed: string } {
  return JSON.parse(fromUtf8(payload)) as { rx: string; sealed: string };
}

/** Seals `inner` with Node's AES-GCM directly, with the additional data `<id>\n<aadRx>`, under outer `rx`. */
function sealByHand(key: Uint8Array, id: string, rx: string, aadRx: string, inner: unknown): Uint8Array {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(utf8(`${id}\n${aadRx}`));
  const body = Buffer.concat([
    cipher.update(JSON.stringify(inner), 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return utf8(JSON.stringify({ rx, sealed: toBase64(Buffer.concat([nonce, body])) }));
}

const providers: Array<[string, CryptoProvider]> = [
  ['node', nodeCrypto],
  ['web', webCrypto()],
];

describe('statusKey', () => {
  it('is HMAC-SHA256(transfer key, "mqimg-status-v2"), the same on both providers', async () => {
    const transferKey = randomBytes(32);
    const expected = createHmac('sha256', transferKey).update('mqimg-status-v2').digest();
    for (const [, crypto] of providers)
      expect(Buffer.from(await statusKey(crypto, transferKey))).toEqual(expected);
  });
});

describe.each(providers)('sealStatus / openStatus (%s seals)', (_name, sealer) => {
  for (const [openerName, opener] of providers) {
    it(`round-trips a status, opened by ${openerName}`, async () => {
      const key = randomBytes(32);
      const payload = await sealStatus(sealer, key, ID, receiving);
      expect(await openStatus(opener, key, ID, payload)).toEqual(receiving);
    });
  }

  it('publishes rx in clear and nothing else: the status is inside, 12 + plain + 16 bytes', async () => {
    const key = randomBytes(32);
    const payload = await sealStatus(sealer, key, ID, receiving);
    const o = outer(payload);
    expect(Object.keys(o)).toEqual(['rx', 'sealed']);
    expect(o.rx).toBe('rx-1a2b3c4d');
    expect(fromBase64(o.sealed)?.length).toBe(12 + JSON.stringify(receiving).length + 16);
    expect(fromUtf8(payload)).not.toContain('missing');
  });

  it('draws a new nonce for every seal', async () => {
    const key = randomBytes(32);
    const a = outer(await sealStatus(sealer, key, ID, receiving)).sealed;
    const b = outer(await sealStatus(sealer, key, ID, receiving)).sealed;
    expect(a).not.toBe(b);
    expect(fromBase64(a)?.subarray(0, 12)).not.toEqual(fromBase64(b)?.subarray(0, 12));
  });

  it('opens nothing under another key or for another transfer id', async () => {
    const key = randomBytes(32);
    const payload = await sealStatus(sealer, key, ID, receiving);
    expect(await openStatus(sealer, randomBytes(32), ID, payload)).toBeUndefined();
    expect(await openStatus(sealer, key, OTHER_ID, payload)).toBeUndefined();
    expect(await openStatus(sealer, key, ID, payload)).toEqual(receiving);
  });

  it('opens nothing when the outer rx is changed (it is bound by the additional data)', async () => {
    const key = randomBytes(32);
    const o = outer(await sealStatus(sealer, key, ID, receiving));
    const moved = utf8(JSON.stringify({ rx: 'rx-other', sealed: o.sealed }));
    expect(await openStatus(sealer, key, ID, moved)).toBeUndefined();
  });

  it('opens nothing when any byte of nonce, ciphertext or tag is changed', async () => {
    const key = randomBytes(32);
    const o = outer(await sealStatus(sealer, key, ID, receiving));
    const sealed = fromBase64(o.sealed) ?? new Uint8Array(0);
    // The first nonce byte, a ciphertext byte, the last tag byte.
    for (const at of [0, 12 + 5, sealed.length - 1]) {
      const tampered = Uint8Array.from(sealed);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      const payload = utf8(JSON.stringify({ rx: o.rx, sealed: toBase64(tampered) }));
      expect(await openStatus(sealer, key, ID, payload)).toBeUndefined();
    }
    // Cut short: fewer bytes than a nonce and a tag.
    const short = utf8(JSON.stringify({ rx: o.rx, sealed: toBase64(sealed.subarray(0, 27)) }));
    expect(await openStatus(sealer, key, ID, short)).toBeUndefined();
  });
});

describe('openStatus refuses what is not a sealed status of this receiver', () => {
  const key = randomBytes(32);

  it('refuses an authentic seal whose inner rx differs from the outer one', async () => {
    // The additional data names the outer rx, so the tag verifies: only the inner/outer check refuses it.
    const inner = { ...receiving, rx: 'rx-impostor' };
    const payload = sealByHand(key, ID, 'rx-1a2b3c4d', 'rx-1a2b3c4d', inner);
    expect(await openStatus(nodeCrypto, key, ID, payload)).toBeUndefined();
    // The same seal with matching rx opens: the check above is the rx check, not a broken seal.
    const good = sealByHand(key, ID, 'rx-1a2b3c4d', 'rx-1a2b3c4d', receiving);
    expect(await openStatus(nodeCrypto, key, ID, good)).toEqual(receiving);
  });

  it('refuses an authentic seal whose contents are not a valid status', async () => {
    const payload = sealByHand(key, ID, 'rx-1', 'rx-1', { rx: 'rx-1', state: 'dancing' });
    expect(await openStatus(nodeCrypto, key, ID, payload)).toBeUndefined();
  });

  it('refuses a clear status, JSON with other fields, a bad rx and bytes that are not JSON, without throwing', async () => {
    const sealed = outer(await sealStatus(nodeCrypto, key, ID, receiving)).sealed;
    const payloads = [
      utf8(JSON.stringify(receiving)),
      utf8(JSON.stringify({ rx: 'rx-1a2b3c4d', sealed, extra: 1 })),
      utf8(JSON.stringify({ rx: 'rx 1a2b3c4d', sealed })),
      utf8(JSON.stringify({ rx: 'rx-1a2b3c4d', sealed: `${sealed}!` })),
      utf8('{"rx":'),
      Uint8Array.from([0xff, 0xfe, 0x00]),
    ];
    for (const payload of payloads) expect(await openStatus(nodeCrypto, key, ID, payload)).toBeUndefined();
  });
});
