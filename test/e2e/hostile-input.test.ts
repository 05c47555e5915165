import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeManifest } from '../../src/protocol/manifest/manifest.js';
import { chunkTopic, manifestTopic, statusTopic } from '../../src/protocol/wire/topics.js';
import { buildManifest } from '../../src/session/send/send-session.js';
import { type CliProcess, SAMPLES, startReceiver, waitForEvent } from '../helpers/cli.js';
import { tempDir, visibleFiles } from '../helpers/files.js';
import { mosquittoRequired, useMosquitto } from '../helpers/mosquitto.js';
import {
  chunkOf,
  craftTransfer,
  publishChunks,
  publishManifest,
  publishPages,
  publishTransfer,
  type RawImage,
  type RawTransfer,
} from '../helpers/raw-sender.js';

/**
 * Anyone who can publish on the broker can send a receiver anything. Here a raw MQTT client plays the attacker:
 * every case must end in a clear event with a stable code, the receiver must keep serving, and nothing partial,
 * corrupt or outside --out may ever be written.
 */
describe.skipIf(!mosquittoRequired())('hostile and broken input on the receiver', () => {
  const broker = useMosquitto();
  let attacker: MqttClient;
  let out: string;
  let rx: CliProcess;
  const image: RawImage = {
    bytes: readFileSync(join(SAMPLES, 'badge-alpha.png')),
    name: 'badge.png',
    mediaType: 'image/png',
    width: 320,
    height: 240,
  };
  const publish = (topic: string, payload: Uint8Array | string) =>
    attacker.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload), { qos: 1 });
  /** A genuine-looking protocol 2 transfer of `bytes` (the sample image's by default) on `topic`. */
  const craft = (topic: string, chunkBytes: number, changes: Partial<RawImage> = {}): RawTransfer =>
    craftTransfer({ ...image, ...changes }, topic, chunkBytes, 0);

  /** A receiver with tight limits, as on a small device. */
  const startLimitedReceiver = (dir: string, topicFilter: string) =>
    startReceiver([
      '--out',
      dir,
      '--topic',
      topicFilter,
      '--json',
      '--max-bytes',
      '64K',
      '--max-transfers',
      '2',
      '--verify-image',
      '--url',
      broker.url,
    ]);

  // One receiver serves every case (it must keep serving whatever came before). Each case finishes or fails every
  // transfer it opens, so that none depends on what ran before it; the one that must leave transfers open has its
  // own receiver.
  beforeAll(async () => {
    out = join(tempDir('mqimg-hostile-'), 'inbox');
    rx = await startLimitedReceiver(out, 'h/#');
    attacker = await mqtt.connectAsync(broker.url, { clientId: 'attacker' });
  });
  afterAll(async () => {
    await attacker?.endAsync();
    rx?.child.kill('SIGINT');
    await rx?.done;
  });

  const id = (n: number) => n.toString(16).padStart(16, '0');

  it.each([
    ['not JSON', 'h/c1', id(1), '{oops', 'not_json'],
    [
      'an unknown protocol version',
      'h/c2',
      id(2),
      JSON.stringify({ mqimg: 4, id: id(2) }),
      'unsupported_version',
    ],
    [
      'a manifest that fails the schema',
      'h/c3',
      id(3),
      JSON.stringify({ mqimg: 3, id: id(3), name: 'x' }),
      'invalid_manifest',
    ],
    [
      'an id that differs from its topic',
      'h/c4',
      id(4),
      encodeManifest(buildManifest(image, 1024, 0)),
      'invalid_manifest',
    ],
  ])('refuses %s', async (_label, topic, topicId, payload, code) => {
    await publish(manifestTopic(topic, topicId), payload);
    const event = await waitForEvent(rx, { event: 'rejected', topic });
    expect(event.code).toBe(code);
  });

  it('refuses a version 1 manifest with a message that names both versions', async () => {
    // What a version 1 sender publishes: a content-derived id, no nonce, no hash pages.
    const v1 = { ...buildManifest(image, 1024, 0), mqimg: 1, id: id(5) } as Record<string, unknown>;
    delete v1.nonce;
    delete v1.pages;
    await publish(manifestTopic('h/c5', id(5)), JSON.stringify(v1));
    const event = await waitForEvent(rx, { event: 'rejected', topic: 'h/c5' });
    expect(event.code).toBe('unsupported_version');
    expect(String(event.message)).toMatch(/version 1\b.*version 3\b/);
  });

  it('drops chunks out of range, of the wrong length or forged (and takes the next copy), and never saves a file whose SHA-256 differs', async () => {
    const t = craft('h/tamper', 1024, { name: 'tampered.png' });
    const m = t.manifest;
    await publishManifest(attacker, t);
    await waitForEvent(rx, { event: 'started', id: m.id });
    await publishPages(attacker, t);
    await publish(chunkTopic('h/tamper', m.id, m.chunks + 5), Buffer.alloc(10));
    await waitForEvent(rx, { event: 'rejected', topic: 'h/tamper', code: 'index_out_of_range' });
    await publish(chunkTopic('h/tamper', m.id, 0), Buffer.alloc(7));
    await waitForEvent(rx, { event: 'rejected', topic: 'h/tamper', code: 'wrong_length' });
    // Chunk 0 with bytes its hash does not cover is refused on arrival; the genuine copy after it is taken.
    const evil = chunkOf(t.bytes, 1024, 0).fill(0x41, 100, 200);
    await publish(chunkTopic('h/tamper', m.id, 0), evil);
    const refused = await waitForEvent(rx, {
      event: 'rejected',
      topic: 'h/tamper',
      code: 'chunk_hash_mismatch',
    });
    expect(String(refused.message)).toContain(m.id);
    await publishChunks(attacker, t);
    const done = await waitForEvent(rx, { event: 'completed', id: m.id });
    expect(
      createHash('sha256')
        .update(readFileSync(String(done.path)))
        .digest('hex'),
    ).toBe(m.sha256);
    expect(createHash('sha256').update(t.bytes).digest('hex')).toBe(m.sha256);

    // A manifest whose chunk hashes are right but whose SHA-256 is not: every chunk passes, the file does not.
    const lying = craft('h/tamper', 1024, { name: 'lying.png', sha256: 'ab'.repeat(32) });
    await publishTransfer(attacker, lying);
    await waitForEvent(rx, { event: 'failed', id: lying.manifest.id, code: 'checksum_mismatch' });
    expect(visibleFiles(out)).not.toContain('lying.png');
  });

  it('answers chunks without a manifest by asking for it, and saves nothing', async () => {
    const orphan = id(0xabc);
    const asked = new Promise<string>((resolve) => {
      attacker.on('message', (topic, payload) => {
        if (topic === statusTopic('h/orphan', orphan)) resolve(payload.toString());
      });
    });
    await attacker.subscribeAsync(statusTopic('h/orphan', orphan), { qos: 1 });
    await publish(chunkTopic('h/orphan', orphan, 0), Buffer.alloc(100));
    expect(JSON.parse(await asked)).toMatchObject({ state: 'want-manifest' });
  });

  it('saves a file with a hostile name inside --out under a safe name', async () => {
    // Built by hand: mqimg's own sender would already replace the NUL.
    const t = craft('h/name', 4096);
    const m = { ...t.manifest, name: '../../../escaped\u0000.png' };
    await publishTransfer(attacker, t, encodeManifest(m));
    const done = await waitForEvent(rx, { event: 'completed', id: m.id });
    expect(done.path).toBe(join(out, 'escaped.png'));
    expect(existsSync(join(dirname(out), 'escaped.png'))).toBe(false);
    expect(
      createHash('sha256')
        .update(readFileSync(join(out, 'escaped.png')))
        .digest('hex'),
    ).toBe(m.sha256);
  });

  it('with --verify-image refuses bytes that are not the declared image type', async () => {
    const notPng = Buffer.from(
      'this is text pretending to be a PNG image, with a valid SHA-256 in its manifest',
    );
    const fake = craft('h/fake', 1024, { bytes: notPng, name: 'fake.png' });
    const m = fake.manifest;
    await publishTransfer(attacker, fake);
    const failed = await waitForEvent(rx, { event: 'failed', id: m.id, code: 'not_an_image' });
    expect(String(failed.message)).toMatch(/fake\.png/);
    expect(visibleFiles(out)).not.toContain('fake.png');
    // Still serving: a genuine transfer after all of the above is saved.
    const ok = craft('h/ok', 4096, { name: 'genuine.png' });
    await publishTransfer(attacker, ok);
    await waitForEvent(rx, { event: 'completed', id: ok.manifest.id });
  });
  it('refuses absurd sizes before committing any disk', async () => {
    const m = craft('h/big', 4096, { bytes: Buffer.alloc(100_000, 1), name: 'big.png' }).manifest;
    await publish(manifestTopic('h/big', m.id), encodeManifest(m));
    await waitForEvent(rx, { event: 'failed', id: m.id, code: 'too_large' });
    expect(existsSync(join(out, '.mqimg-partial', `${m.id}.part`))).toBe(false);
  });

  it('refuses a transfer that would bring the bytes in progress past --max-bytes, and takes it once there is room', async () => {
    const ta = craft('h/bytes', 4096, { bytes: Buffer.alloc(40_000, 7), name: 'a.png' });
    const tb = craft('h/bytes', 4096, { bytes: Buffer.alloc(40_000, 8), name: 'b.png' });
    const [a, b] = [ta.manifest, tb.manifest];
    await publishManifest(attacker, ta);
    await waitForEvent(rx, { event: 'started', id: a.id });
    await publishManifest(attacker, tb);
    await waitForEvent(rx, { event: 'failed', id: b.id, code: 'too_many_bytes' });
    expect(existsSync(join(out, '.mqimg-partial', `${b.id}.part`))).toBe(false);
    // Finish a (its SHA-256 matches; --verify-image refuses it as not a PNG, which also ends it), then b fits.
    await publishPages(attacker, ta);
    await publishChunks(attacker, ta);
    await waitForEvent(rx, { event: 'failed', id: a.id, code: 'not_an_image' });
    await publishManifest(attacker, tb);
    await waitForEvent(rx, { event: 'started', id: b.id });
    await publishPages(attacker, tb);
    await publishChunks(attacker, tb);
    await waitForEvent(rx, { event: 'failed', id: b.id, code: 'not_an_image' });
  });

  it('refuses transfers beyond --max-transfers', async () => {
    // Its own receiver, on a topic the shared one does not take: the two transfers this case leaves open would
    // otherwise fill the shared receiver's --max-transfers.
    const own = await startLimitedReceiver(join(tempDir('mqimg-hostile-flood-'), 'inbox'), 'flood/1');
    try {
      const flood = [1, 2, 3].map(
        (n) => craft('flood/1', 256, { bytes: Buffer.alloc(1000, n), name: `f${n}.png` }).manifest,
      );
      // One at a time, so that the third is the one beyond the limit.
      for (const [i, m] of flood.slice(0, 2).entries()) {
        await publish(manifestTopic('flood/1', m.id), encodeManifest(m));
        expect((await waitForEvent(own, { event: 'started', id: m.id })).id, `transfer ${i}`).toBe(m.id);
      }
      const third = flood[2] as (typeof flood)[number];
      await publish(manifestTopic('flood/1', third.id), encodeManifest(third));
      const refused = await waitForEvent(own, { event: 'failed', code: 'too_many_transfers' });
      expect(refused.id).toBe(third.id);
    } finally {
      own.child.kill('SIGINT');
      await own.done;
    }
  });
});
