import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  protocolVectors,
  TWO_PAGE_BYTES,
  VECTOR_BYTES,
  VECTOR_CHUNK_BYTES,
  VECTOR_CREATED_MS,
  VECTOR_ID,
  VECTOR_NONCE,
  VECTOR_RX,
  VECTOR_SECRET,
  VECTOR_TOPIC,
} from '../../scripts/protocol-vectors.js';
import { nodeCrypto } from '../../src/platform/node-crypto.js';
import { webCrypto } from '../../src/platform/web-crypto.js';
import {
  HASH_BYTES,
  hashesPerPage,
  MAX_HASH_PAGES,
  maxChunksFor,
} from '../../src/protocol/manifest/chunk-hashes.js';
import { wireJsonSchemas } from '../../src/protocol/manifest/json-schemas.js';
import { encodeManifest, parseManifest } from '../../src/protocol/manifest/manifest.js';
import { readManifest, readSealedManifest } from '../../src/protocol/manifest/wire-manifest.js';
import { RECLAIM_IDLE_MS } from '../../src/protocol/receive/admission.js';
import type { CryptoProvider } from '../../src/protocol/security/crypto.js';
import { openChunk, openPage } from '../../src/protocol/security/encryption.js';
import { chunkTagInput, fileAccumulator, receiptProof } from '../../src/protocol/security/receipt.js';
import {
  namedStatusKey,
  X25519_BASE_POINT,
  x25519PublicFromEd25519,
} from '../../src/protocol/security/recipient.js';
import { checkSignature } from '../../src/protocol/security/signature.js';
import {
  MAX_RECEIVERS,
  RESEND_ALLOWANCE,
  RESEND_BUDGET_PER_RECEIVER,
  RESEND_BUDGET_TOTAL,
} from '../../src/protocol/send/send-planner.js';
import {
  HEARTBEAT_MS,
  MAX_ACK_EVERY,
  receiverWindow,
  STATUS_FLUSH_MS,
  WINDOW_BUDGET_CHUNKS,
} from '../../src/protocol/status/ack-policy.js';
import { encodeStatus, MAX_WANT_PAGES, statusSchema } from '../../src/protocol/status/status.js';
import { openStatus, sealedStatusSchema } from '../../src/protocol/status/status-seal.js';
import { fromBase64, fromHex, fromUtf8, toHex, utf8 } from '../../src/protocol/wire/bytes.js';
import { chunkView } from '../../src/protocol/wire/chunking.js';
import { FAILURE_CODES, REJECTION_CODES } from '../../src/protocol/wire/codes.js';
import { MAX_STATUS_RANGES, maxWindowFor, PROTOCOL_VERSION } from '../../src/protocol/wire/constants.js';
import {
  chunkTopic,
  manifestTopic,
  pageTopic,
  receiverSubscriptions,
  statusTopic,
} from '../../src/protocol/wire/topics.js';
import { FINAL_REPEAT_MS, WANT_MANIFEST_MS } from '../../src/receiver-core/sender-answers.js';
import { prepareTransfer } from '../../src/session/send/send-session.js';

/** PROTOCOL.md is the wire contract: these tests fail when the code and the document disagree. */
const doc = readFileSync(new URL('../../PROTOCOL.md', import.meta.url), 'utf8');
const jsonBlocks = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? '');
/** Every line of every JSON block, for blocks that hold one message per line (the status examples). */
const jsonLines = jsonBlocks.flatMap((b) => b.split('\n'));

/** Section `n` of the document, from its heading to the next section's. */
function section(n: number): string {
  const start = doc.indexOf(`\n## ${n}. `);
  const end = doc.indexOf(`\n## ${n + 1}. `);
  expect(start, `section ${n}`).toBeGreaterThan(0);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** The first 16 bytes of SHA-256 of each piece, through `crypto`, as hex. */
async function shortHashes(crypto: CryptoProvider, pieces: Uint8Array[]): Promise<string[]> {
  return Promise.all(pieces.map(async (p) => toHex((await crypto.sha256(p)).subarray(0, HASH_BYTES))));
}

describe('PROTOCOL.md', () => {
  it('says which version it is, as the code does', () => {
    expect(doc.split('\n')[0]).toBe(`# The mqimg protocol, version ${PROTOCOL_VERSION}`);
    expect(doc).toContain(`| \`mqimg\` | integer | protocol major version: \`${PROTOCOL_VERSION}\` |`);
  });

  it('quotes the JSON Schemas generated from the zod schemas the code validates with', () => {
    const { manifest, sealedManifest, status } = wireJsonSchemas();
    expect(jsonBlocks).toContain(JSON.stringify(manifest, null, 2));
    expect(jsonBlocks).toContain(JSON.stringify(sealedManifest, null, 2));
    expect(jsonBlocks).toContain(JSON.stringify(status, null, 2));
  });

  it('gives a test vector that the code reproduces byte for byte: manifest, chunks, hashes, pages', () => {
    const { manifest, pages } = prepareTransfer(
      { bytes: VECTOR_BYTES, name: 'vector.bin', mediaType: 'image/png', width: 10, height: 5 },
      VECTOR_CHUNK_BYTES,
      VECTOR_CREATED_MS,
      { id: VECTOR_ID, nonce: VECTOR_NONCE },
    );
    const v11 = section(11);
    expect(v11).toContain(`\`ID\` = \`${VECTOR_ID}\`, \`nonce\` = \`${VECTOR_NONCE}\``);
    expect(jsonBlocks).toContain(fromUtf8(encodeManifest(manifest)));
    expect(v11).toContain(`\`sha256\` = \`${manifest.sha256}\``);
    expect(v11).toContain(`\`${manifestTopic(VECTOR_TOPIC, manifest.id)}\``);
    expect(v11).toContain(`\`${chunkTopic(VECTOR_TOPIC, manifest.id, 0)}\``);
    expect(v11).toContain(`\`${pageTopic(VECTOR_TOPIC, manifest.id, 0)}\``);
    expect(v11).toContain(`\`${statusTopic(VECTOR_TOPIC, manifest.id)}\``);
    expect(pages).toHaveLength(1);
    for (let i = 0; i < manifest.chunks; i++) {
      const chunk = Buffer.from(chunkView(VECTOR_BYTES, i, VECTOR_CHUNK_BYTES));
      const hash = toHex(pages[0]?.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES) ?? new Uint8Array(0));
      expect(v11).toContain(`| ${i} | ${chunk.length} | \`${chunk.toString('hex')}\` | \`${hash}\` |`);
    }
    expect(v11).toContain(`\`${toHex(pages[0] ?? new Uint8Array(0))}\``);
    expect(v11).toContain(
      `\`pages\` = base64 of the first 16 bytes of SHA-256 of that page = \`${manifest.pages}\``,
    );
    expect(parseManifest(encodeManifest(manifest)).ok).toBe(true);
  });

  it('gives a two-page example that the code reproduces', () => {
    const { manifest, pages } = prepareTransfer(
      { bytes: TWO_PAGE_BYTES, name: 'two-pages.bin', mediaType: 'image/png', width: 10, height: 5 },
      VECTOR_CHUNK_BYTES,
      VECTOR_CREATED_MS,
      { id: VECTOR_ID, nonce: VECTOR_NONCE },
    );
    expect(pages.map((p) => p.length)).toEqual([64, 16]);
    const v11 = section(11);
    expect(v11).toContain(`- page 0: \`${toHex(pages[0] ?? new Uint8Array(0))}\``);
    expect(v11).toContain(`- page 1: \`${toHex(pages[1] ?? new Uint8Array(0))}\``);
    expect(v11).toContain(`- \`pages\` = \`${manifest.pages}\``);
    expect(jsonBlocks).toContain(fromUtf8(encodeManifest(manifest)));
    expect(parseManifest(encodeManifest(manifest)).ok).toBe(true);
  });

  it('gives status examples built by the receiver code, with the proof of receipt the sender accepts', async () => {
    const v = await protocolVectors();
    for (const example of Object.values(v.statuses)) expect(jsonLines).toContain(example);
    expect(v.statuses.gap).toContain(`"win":${receiverWindow(1, VECTOR_CHUNK_BYTES)}`);
    expect(v.senderProof).toBe(v.proof);
    expect(section(11)).toContain(`\`rx-1a2b3c4d\`) = \`${v.proof}\``);
    expect(section(11)).toContain(`\`${v.statuses.complete}\``);
    expect(VECTOR_RX).toBe('rx-1a2b3c4d');
  });

  it('lists exactly the failure and rejection codes the receiver uses, with their finality', () => {
    const s10 = section(10);
    const failures = [...s10.matchAll(/^\| `([a-z_]+)` \| (yes|no) \|/gm)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(failures)).toEqual(
      Object.fromEntries(Object.entries(FAILURE_CODES).map(([code, c]) => [code, c.final ? 'yes' : 'no'])),
    );
    const rejections = [...s10.matchAll(/^\| `([a-z_]+)` \| (?!yes|no)/gm)].map((m) => m[1]).sort();
    // Event-only codes never concern a sender or a message on the wire: they are in the README only.
    const eventOnly = ['internal', 'republish_failed'];
    expect(rejections).toEqual(
      Object.keys(REJECTION_CODES)
        .filter((c) => !eventOnly.includes(c))
        .sort(),
    );
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const code of [...Object.keys(FAILURE_CODES), ...Object.keys(REJECTION_CODES)])
      expect(readme, code).toContain(`\`${code}\``);
  });

  it('shows only status examples that the code accepts', () => {
    const examples = [...doc.matchAll(/\{"rx":"[^\n`]*\}/g)].map((m) => JSON.parse(m[0]));
    expect(examples.length).toBeGreaterThanOrEqual(8);
    for (const example of examples)
      expect(
        statusSchema.safeParse(example).success || sealedStatusSchema.safeParse(example).success,
        JSON.stringify(example),
      ).toBe(true);
  });

  it("states the code's constants and rules", () => {
    const s7 = section(7);
    expect(s7).toContain(`clamp(floor(\`win\` / 8), 1, ${MAX_ACK_EVERY})`);
    expect(s7).toContain(`**within ${STATUS_FLUSH_MS} ms** of storing any chunk not yet reported`);
    expect(s7).toContain(`at least every **${HEARTBEAT_MS} ms**`);
    expect(s7).toContain(`at most ${MAX_STATUS_RANGES} ranges`);
    expect(s7).toContain(`(at most ${MAX_WANT_PAGES}) hash pages`);
    expect(s7).toContain(`at most every ${FINAL_REPEAT_MS} ms`);
    expect(WANT_MANIFEST_MS).toBe(1000);
    expect(s7).toContain('at most once a second per `ID`');
    const s8 = section(8);
    expect(s8).toContain(`at most ${MAX_RECEIVERS} receivers per transfer`);
    expect(s8).toContain(
      `at most ${RESEND_BUDGET_PER_RECEIVER} x \`chunks\` + ${RESEND_ALLOWANCE}; the\n  resends of all receivers together at most ${RESEND_BUDGET_TOTAL} x \`chunks\` + ${2 * RESEND_ALLOWANCE}`,
    );
    expect(s8).toContain(
      `at most ${1 + RESEND_BUDGET_TOTAL} x \`chunks\` + ${2 * RESEND_ALLOWANCE} chunk messages`,
    );
    expect(s8).toContain(`stored no chunk for ${RECLAIM_IDLE_MS / 1000} s`);
    expect(s8).toContain(`min(floor(${WINDOW_BUDGET_CHUNKS} /`);
    expect(maxWindowFor(64)).toBe(256);
    expect(maxWindowFor(128 * 1024)).toBe(128);
    // The table of the largest files per chunk size.
    for (const chunkBytes of [64, 256, 1024, 4096]) {
      const chunks = maxChunksFor(chunkBytes).toLocaleString('en-US');
      expect(section(5)).toContain(`| ${chunkBytes.toLocaleString('en-US')} | ${chunks} |`);
    }
    expect(MAX_HASH_PAGES).toBe(128);
    expect(hashesPerPage(64)).toBe(4);
    // The subscriptions of section 3 for `#`.
    const all = receiverSubscriptions('#');
    expect(all.manifests).toHaveLength(8);
    expect(all.manifests[0]).toBe('+/mqimg/+/m');
    expect(all.chunks).toEqual(expect.arrayContaining(['+/mqimg/+/h/+', '+/mqimg/+/c/+']));
    expect(all.manifests.length + all.chunks.length).toBe(24);
    expect(section(3)).toContain('(24 subscriptions in all)');
    const site = receiverSubscriptions('site/#');
    expect(site.manifests.at(-1)).toBe('site/+/+/+/+/+/+/+/mqimg/+/m');
  });

  it.each([
    ['node:crypto', nodeCrypto],
    ['WebCrypto', webCrypto()],
  ])(
    'gives hashing, proof, signing and encryption vectors that %s reproduces and accepts',
    async (_, crypto) => {
      const v = await protocolVectors(crypto);
      // Chunk hashes, pages and the proof computed again through this crypto provider.
      const chunks = Array.from({ length: 4 }, (_, i) => chunkView(VECTOR_BYTES, i, VECTOR_CHUNK_BYTES));
      expect(await shortHashes(crypto, chunks)).toEqual(v.chunkHashes);
      const page = Buffer.from(v.pagesHex[0] ?? '', 'hex');
      expect(await shortHashes(crypto, [page])).toEqual([toHex(fromBase64(v.pages) ?? new Uint8Array(0))]);
      // The proof of receipt (7.1): each chunk's tag from its whole SHA-256, their XOR, the final HMAC.
      const sha256 = (bytes: Uint8Array) => crypto.sha256(bytes);
      for (const [i, chunk] of chunks.entries()) {
        const digest = await crypto.sha256(chunk);
        expect(toHex(digest)).toBe(v.chunkDigests[i]);
        expect(toHex(await crypto.sha256(chunkTagInput(fromHex(VECTOR_NONCE), i, digest)))).toBe(
          v.chunkTags[i],
        );
      }
      const accumulator = await fileAccumulator(sha256, VECTOR_NONCE, VECTOR_BYTES, VECTOR_CHUNK_BYTES);
      expect(toHex(accumulator)).toBe(v.accumulator);
      expect(section(11)).toContain(`The accumulator, the XOR of the four tags: \`${v.accumulator}\``);
      for (const [i, tag] of v.chunkTags.entries())
        expect(section(11)).toContain(`| ${i} | \`${v.chunkDigests[i]}\` | \`${tag}\` |`);
      expect(await receiptProof(crypto, VECTOR_NONCE, accumulator, VECTOR_RX)).toBe(v.proof);

      // Sealed statuses (13.1): the quoted one opens under the status key to the join status.
      expect(doc).toContain(`status key \`${v.statusKeyHex}\``);
      expect(jsonBlocks).toContain(v.sealedJoin);
      const opened = await openStatus(crypto, fromHex(v.statusKeyHex), VECTOR_ID, utf8(v.sealedJoin));
      expect(opened && fromUtf8(encodeStatus(opened))).toBe(v.statuses.join);

      // Named receivers (12.1): keys, epk, shared secret, status key, and the sealed complete status.
      const n = v.namedReceiver;
      expect(toHex(x25519PublicFromEd25519(fromHex(n.publicKeyHex)) ?? new Uint8Array(0))).toBe(
        n.x25519PublicHex,
      );
      expect(toHex(await crypto.x25519(fromHex(n.x25519PrivateHex), X25519_BASE_POINT))).toBe(
        n.x25519PublicHex,
      );
      expect(toHex(await crypto.x25519(fromHex(n.x25519PrivateHex), fromHex(n.epkHex)))).toBe(n.sharedHex);
      const named = await namedStatusKey(crypto, fromHex(n.sharedHex), VECTOR_NONCE, VECTOR_ID, n.rx);
      expect(toHex(named)).toBe(n.statusKeyHex);
      for (const value of [
        n.publicKeyHex,
        n.kid,
        n.rx,
        n.x25519PrivateHex,
        n.x25519PublicHex,
        n.epkHex,
        n.sharedHex,
      ])
        expect(section(12), value).toContain(value);
      expect(section(12)).toContain(`status key \`K\` = \`${n.statusKeyHex}\``);
      expect(jsonBlocks).toContain(n.manifest);
      expect(jsonBlocks).toContain(n.sealedComplete);
      const complete = await openStatus(crypto, named, VECTOR_ID, utf8(n.sealedComplete));
      expect(complete && fromUtf8(encodeStatus(complete))).toBe(n.complete);
      expect(complete?.proof).toBe(await receiptProof(crypto, VECTOR_NONCE, accumulator, n.rx));
      // The same status does not open under the transfer's status key: keys are per receiver.
      expect(
        await openStatus(crypto, fromHex(v.statusKeyHex), VECTOR_ID, utf8(n.sealedComplete)),
      ).toBeUndefined();

      expect(doc).toContain(`\`${v.publicKeyHex}\`; key id \`${v.kid}\``);
      expect(doc).toContain(
        v.signingText
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n'),
      );
      expect(doc).toContain(`\`sig.value\` is \`${v.signature}\``);
      expect(jsonBlocks).toContain(v.signedManifest);
      expect(jsonBlocks).toContain(v.sealedManifest);
      expect(doc).toContain(`secret id \`${v.secretKid}\``);
      expect(doc).toContain(`transfer key =\n\`${v.transferKeyHex}\``);
      const s13 = section(13);
      v.sealedPages.forEach((hex, j) => {
        expect(s13).toContain(`| ${j} | \`${hex}\` |`);
      });
      v.sealedChunks.forEach((hex, i) => {
        expect(s13).toContain(`| ${i} | \`${hex}\` |`);
      });

      // The quoted messages are accepted by the receiver's own code paths.
      const signed = readManifest(utf8(v.signedManifest));
      expect(signed.ok).toBe(true);
      if (!signed.ok) return;
      const trusted = new Map([[v.kid, Buffer.from(v.publicKeyHex, 'hex')]]);
      expect(await checkSignature(crypto, signed.manifest, VECTOR_TOPIC, trusted)).toBeUndefined();
      expect((await checkSignature(crypto, signed.manifest, 'cam/2', trusted))?.code).toBe('bad_signature');
      const sealed = await readSealedManifest(crypto, utf8(v.sealedManifest), VECTOR_SECRET, VECTOR_TOPIC);
      expect(sealed.ok).toBe(true);
      const elsewhere = await readSealedManifest(crypto, utf8(v.sealedManifest), VECTOR_SECRET, 'cam/2');
      expect(elsewhere.ok ? undefined : elsewhere.problem.code).toBe('wrong_key');
      if (!sealed.ok) return;
      expect(fromUtf8(encodeManifest(sealed.manifest))).toBe(v.manifest);
      const openedPage = await openPage(
        crypto,
        sealed.chunkKey,
        VECTOR_ID,
        0,
        Buffer.from(v.sealedPages[0] ?? '', 'hex'),
      );
      expect(toHex(openedPage ?? new Uint8Array(0))).toBe(v.pagesHex[0]);
      for (const [i, hex] of v.sealedChunks.entries()) {
        const opened = await openChunk(crypto, sealed.chunkKey, VECTOR_ID, i, Buffer.from(hex, 'hex'));
        expect(toHex(opened ?? new Uint8Array(0))).toBe(toHex(chunks[i] ?? new Uint8Array(0)));
      }
      // A sealed page is not a sealed chunk: the kinds of the GCM nonce differ.
      expect(
        await openChunk(crypto, sealed.chunkKey, VECTOR_ID, 0, Buffer.from(v.sealedPages[0] ?? '', 'hex')),
      ).toBe(undefined);
    },
  );
});
