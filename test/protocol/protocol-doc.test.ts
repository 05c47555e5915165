import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { protocolVectors, VECTOR_SECRET } from '../../scripts/protocol-vectors.js';
import { nodeCrypto } from '../../src/platform/node-crypto.js';
import { webCrypto } from '../../src/platform/web-crypto.js';
import { fromUtf8, utf8 } from '../../src/protocol/bytes.js';
import { chunkView } from '../../src/protocol/chunking.js';
import { FAILURE_CODES, REJECTION_CODES } from '../../src/protocol/codes.js';
import { wireJsonSchemas } from '../../src/protocol/json-schemas.js';
import { encodeManifest, parseManifest } from '../../src/protocol/manifest.js';
import { checkSignature } from '../../src/protocol/signature.js';
import { statusSchema } from '../../src/protocol/status.js';
import { chunkTopic, manifestTopic, statusTopic } from '../../src/protocol/topics.js';
import { readManifest, readSealedManifest } from '../../src/protocol/wire-manifest.js';
import { buildManifest } from '../../src/session/send-session.js';

/** PROTOCOL.md is the wire contract: these tests fail when the code and the document disagree. */
const doc = readFileSync(new URL('../../PROTOCOL.md', import.meta.url), 'utf8');
const jsonBlocks = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? '');

describe('PROTOCOL.md', () => {
  it('quotes the JSON Schemas generated from the zod schemas the code validates with', () => {
    const { manifest, sealedManifest, status } = wireJsonSchemas();
    expect(jsonBlocks).toContain(JSON.stringify(manifest, null, 2));
    expect(jsonBlocks).toContain(JSON.stringify(sealedManifest, null, 2));
    expect(jsonBlocks).toContain(JSON.stringify(status, null, 2));
  });

  it('gives a test vector that the code reproduces byte for byte', () => {
    const bytes = Buffer.from(Array.from({ length: 200 }, (_, i) => i));
    const manifest = buildManifest(
      { bytes, name: 'vector.bin', mediaType: 'image/png', width: 10, height: 5 },
      'cam/1',
      64,
      1767225600000,
    );
    expect(manifest.id).toBe('7fc8b68764028de3');
    expect(jsonBlocks).toContain(fromUtf8(encodeManifest(manifest)));
    expect(doc).toContain(`\`sha256\` = \`${manifest.sha256}\``);
    expect(doc).toContain(manifestTopic('cam/1', manifest.id));
    expect(doc).toContain(`\`${chunkTopic('cam/1', manifest.id, 0)}\``);
    expect(doc).toContain(statusTopic('cam/1', manifest.id));
    for (let i = 0; i < manifest.chunks; i++) {
      const chunk = Buffer.from(chunkView(bytes, i, 64));
      expect(doc).toContain(`| ${i} | ${chunk.length} | \`${chunk.toString('hex')}\` |`);
    }
    expect(parseManifest(encodeManifest(manifest)).ok).toBe(true);
  });

  it('lists exactly the failure and rejection codes the receiver uses, and the README documents each', () => {
    const table = doc.slice(
      doc.indexOf('Codes a receiver uses as `reason`'),
      doc.indexOf('## 11. Test vector'),
    );
    const documented = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]).sort();
    // Event-only codes never travel in a status: they are in the README, not in the wire contract.
    const eventOnly = ['internal', 'republish_failed'];
    const wire = [...Object.keys(FAILURE_CODES), ...Object.keys(REJECTION_CODES)].filter(
      (c) => !eventOnly.includes(c),
    );
    expect(documented).toEqual(wire.sort());
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const code of [...Object.keys(FAILURE_CODES), ...Object.keys(REJECTION_CODES)])
      expect(readme, code).toContain(`\`${code}\``);
  });

  it('shows only status examples that the code accepts', () => {
    const examples = [...doc.matchAll(/\{"rx":"[^\n`]*\}/g)].map((m) => JSON.parse(m[0]));
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const example of examples)
      expect(statusSchema.safeParse(example).success, JSON.stringify(example)).toBe(true);
  });

  it.each([
    ['node:crypto', nodeCrypto],
    ['WebCrypto', webCrypto()],
  ])('gives signing and encryption test vectors that %s reproduces and accepts', async (_, crypto) => {
    const v = await protocolVectors(crypto);
    expect(doc).toContain(`\`${v.publicKeyHex}\`; key id \`${v.kid}\``);
    expect(doc).toContain(
      v.signingText
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    );
    expect(jsonBlocks).toContain(v.signedManifest);
    expect(jsonBlocks).toContain(v.sealedManifest);
    expect(doc).toContain(`secret id \`${v.secretKid}\``);
    expect(doc).toContain(`\`ID\` = \`${v.sealedId}\`, transfer key =\n\`${v.transferKeyHex}\``);
    v.sealedChunks.forEach((hex, i) => {
      expect(doc).toContain(`| ${i} | \`${hex}\` |`);
    });
    // The quoted messages are accepted by the receiver's own code paths.
    const signed = readManifest(utf8(v.signedManifest));
    expect(signed.ok).toBe(true);
    if (!signed.ok) return;
    const trusted = new Map([[v.kid, Buffer.from(v.publicKeyHex, 'hex')]]);
    expect(await checkSignature(crypto, signed.manifest, 'cam/1', trusted)).toBeUndefined();
    expect((await checkSignature(crypto, signed.manifest, 'cam/2', trusted))?.code).toBe('bad_signature');
    const sealed = await readSealedManifest(crypto, utf8(v.sealedManifest), VECTOR_SECRET);
    expect(sealed.ok && sealed.manifest.sha256).toBe(
      '1901da1c9f699b48f6b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f',
    );
  });
});
