import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeManifest } from '../../../src/protocol/manifest/manifest.js';
import { chunkView } from '../../../src/protocol/wire/chunking.js';
import { chunkTopic, manifestTopic, pageTopic } from '../../../src/protocol/wire/topics.js';
import { type ReceiveEvent, Receiver } from '../../../src/session/receive/receiver.js';
import { prepareTransfer } from '../../../src/session/send/send-session.js';
import type { MessageHandler, MessageTransport } from '../../../src/transport/message-transport.js';
import { sha256 } from '../../helpers/files.js';

/**
 * An in-memory transport: the test injects messages synchronously, as mqtt.js hands them over; what the receiver
 * publishes is counted and dropped.
 */
class InjectingTransport implements MessageTransport {
  private handler: MessageHandler | undefined;
  published = 0;
  readonly hasSlot = true;
  readonly connected = true;
  readonly url = 'inject://';
  readonly limits = { maxPacketBytes: undefined, maxInflight: 64 };
  onMessage(handler: MessageHandler) {
    this.handler = handler;
    return () => {
      this.handler = undefined;
    };
  }
  async subscribe() {}
  async unsubscribe() {}
  async waitForSlot() {}
  nudge() {}
  async publish() {
    this.published++;
  }
  inject(topic: string, payload: Uint8Array) {
    this.handler?.(topic, payload);
  }
}

/** One message an attacker, a broken sender or a flaky network could deliver. */
const message = (genuine: {
  topic: string;
  id: string;
  manifest: Uint8Array;
  pages: Buffer[];
  chunks: Buffer[];
}) =>
  fc.oneof(
    fc.constant({ topic: manifestTopic(genuine.topic, genuine.id), payload: genuine.manifest }),
    fc.nat({ max: genuine.chunks.length - 1 }).map((i) => ({
      topic: chunkTopic(genuine.topic, genuine.id, i),
      payload: genuine.chunks[i] ?? Buffer.alloc(0),
    })),
    // A genuine chunk with one byte flipped, or cut short, or sent under another index.
    fc
      .tuple(fc.nat({ max: genuine.chunks.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 255 }))
      .map(([i, at, x]) => {
        const copy = Buffer.from(genuine.chunks[i] ?? Buffer.alloc(1));
        copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ x;
        return { topic: chunkTopic(genuine.topic, genuine.id, i), payload: copy };
      }),
    fc.tuple(fc.nat({ max: genuine.chunks.length - 1 }), fc.nat({ max: 5000 })).map(([i, j]) => ({
      topic: chunkTopic(genuine.topic, genuine.id, j),
      payload: genuine.chunks[i] ?? Buffer.alloc(0),
    })),
    // Manifests with random and hostile fields, for this transfer's id or another.
    fc
      .record({
        name: fc.oneof(
          fc.string(),
          fc.constantFrom('../../x.png', '/etc/passwd', 'CON', 'a\u0000b', '.', '..', 'x'.repeat(400)),
        ),
        size: fc.oneof(fc.integer(), fc.constant(2 ** 40)),
        chunkBytes: fc.integer({ min: -5, max: 600_000 }),
        sha256: fc.oneof(fc.string(), fc.constant('0'.repeat(64))),
        extra: fc.jsonValue(),
        sameId: fc.boolean(),
      })
      .map((m) => {
        const id = m.sameId ? genuine.id : 'f'.repeat(16);
        const manifest = {
          mqimg: 1,
          id,
          name: m.name,
          type: 'image/png',
          size: m.size,
          chunkBytes: m.chunkBytes,
          chunks: 1,
          sha256: m.sha256,
          width: 1,
          height: 1,
          createdMs: 0,
          extra: m.extra,
        };
        return { topic: manifestTopic(genuine.topic, id), payload: Buffer.from(JSON.stringify(manifest)) };
      }),
    // Arbitrary bytes on arbitrary mqimg-looking and other topics.
    fc
      .tuple(fc.string(), fc.uint8Array({ maxLength: 300 }))
      .map(([topic, bytes]) => ({ topic, payload: Buffer.from(bytes) })),
    fc
      .uint8Array({ maxLength: 300 })
      .map((bytes) => ({ topic: manifestTopic('fuzz', genuine.id), payload: Buffer.from(bytes) })),
  );

describe('Receiver under random and mutated input (property)', () => {
  const root = mkdtempSync(join(tmpdir(), 'mqimg-fuzz-'));
  const unhandled: unknown[] = [];
  const onUnhandled = (error: unknown) => unhandled.push(error);
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('never throws, never writes outside --out, and never saves a file whose SHA-256 differs from its manifest', async () => {
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff));
    const { manifest, pages } = prepareTransfer(
      { bytes, name: 'genuine.png', mediaType: 'image/png', width: 10, height: 10 },
      256,
      0,
    );
    const genuine = {
      topic: 'fuzz',
      id: manifest.id,
      manifest: encodeManifest(manifest),
      pages: pages.map((page) => Buffer.from(page)),
      chunks: Array.from({ length: manifest.chunks }, (_, i) => Buffer.from(chunkView(bytes, i, 256))),
    };
    let run = 0;
    let completedRuns = 0;
    // Noise alone, or noise interleaved with the genuine transfer (manifest, hash pages, then every chunk once).
    const sequences = fc
      .tuple(
        fc.array(message(genuine), { maxLength: 40 }),
        fc.array(message(genuine), { maxLength: 80 }),
        fc.boolean(),
      )
      .map(([before, during, withGenuine]) => {
        if (!withGenuine) return [...before, ...during];
        const mixed = [
          ...before,
          { topic: manifestTopic(genuine.topic, genuine.id), payload: genuine.manifest },
          ...genuine.pages.map((payload, j) => ({ topic: pageTopic(genuine.topic, genuine.id, j), payload })),
        ];
        genuine.chunks.forEach((chunk, i) => {
          mixed.push(...during.slice(i * 6, i * 6 + 6), {
            topic: chunkTopic(genuine.topic, genuine.id, i),
            payload: chunk,
          });
        });
        return mixed;
      });
    await fc.assert(
      fc.asyncProperty(sequences, async (messages) => {
        const sandbox = join(root, `run-${run++}`);
        const out = join(sandbox, 'out');
        mkdirSync(out, { recursive: true });
        const transport = new InjectingTransport();
        const events: ReceiveEvent[] = [];
        const receiver = new Receiver(transport, {
          outDir: out,
          maxBytes: 1_000_000,
          onEvent: (e) => events.push(e),
        });
        await receiver.start();
        for (const m of messages) {
          expect(() => transport.inject(m.topic, m.payload)).not.toThrow();
        }
        // Every message handled, every completed transfer verified and saved (or refused).
        await receiver.idle();
        await receiver.stop();
        expect(events.filter((e) => 'code' in e && e.code === 'internal')).toEqual([]);
        // Nothing outside --out: the sandbox holds only the out folder.
        expect(readdirSync(sandbox)).toEqual(['out']);
        // Every visible file is one that completed, inside --out, with the manifest's SHA-256.
        const visible = readdirSync(out).filter((f) => !f.startsWith('.'));
        const completed = events.filter((e) => e.event === 'completed');
        expect(visible.length).toBe(completed.length);
        for (const e of completed) {
          expect(relative(out, e.path).includes('..')).toBe(false);
          expect(sha256(readFileSync(e.path))).toBe(e.sha256);
          expect(e.sha256).toBe(manifest.sha256);
        }
        expect(unhandled).toEqual([]);
        if (completed.length > 0) completedRuns++;
      }),
      { numRuns: 60 },
    );
    // The SHA-256 assertions above were exercised: some runs did save the genuine file.
    expect(completedRuns).toBeGreaterThan(0);
  }, 120_000);
});
