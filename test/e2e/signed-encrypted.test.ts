import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../src/platform/node-crypto.js';
import { pkcs8Of, publicKeyId } from '../../src/platform/node-keys.js';
import { encodeManifest, type Manifest } from '../../src/protocol/manifest/manifest.js';
import { signManifest } from '../../src/protocol/security/signature.js';
import { chunkTopic, manifestTopic, pageTopic, parseTopic } from '../../src/protocol/wire/topics.js';
import { prepareTransfer } from '../../src/session/send/send-session.js';
import { type CliProcess, runCli, SAMPLES, startCli, startReceiver, waitForEvent } from '../helpers/cli.js';
import { jsonLines, sha256, tempDir, visibleFiles } from '../helpers/files.js';
import { mosquittoRequired, useMosquitto } from '../helpers/mosquitto.js';
import { capture } from '../helpers/mqtt-capture.js';

const IMAGE = join(SAMPLES, 'landscape.jpg');

/**
 * Signed and encrypted transfers through a real Mosquitto, with the real CLI on both sides and a raw MQTT client
 * as the attacker (who can publish and subscribe on the broker, as on a shared broker).
 */
describe.skipIf(!mosquittoRequired())('signed and encrypted transfers', () => {
  const broker = useMosquitto();
  const keys = tempDir('mqimg-keys-');
  const trusted = join(keys, 'trusted');
  let attacker: MqttClient;

  beforeAll(async () => {
    for (const name of ['camera', 'other']) {
      const made = await runCli(['keygen', join(keys, name)]);
      expect(made.code, made.stderr).toBe(0);
      expect(made.stdout).toMatch(/key [0-9a-f]{16}/);
    }
    for (const name of ['site.secret', 'other.secret']) {
      const made = await runCli(['keygen', '--secret', join(keys, name)]);
      expect(made.code, made.stderr).toBe(0);
    }
    // The receivers trust a folder holding only the camera's public key.
    mkdirSync(trusted);
    renameSync(join(keys, 'camera.pub'), join(trusted, 'camera.pub'));
    attacker = await mqtt.connectAsync(broker.url, { clientId: 'attacker' });
  });
  afterAll(async () => {
    await attacker?.endAsync();
  });

  /** A `receive --json` on `topic` with extra arguments, ready when returned. */
  async function receiver(
    topic: string,
    args: string[],
    out = tempDir(),
  ): Promise<{ rx: CliProcess; out: string }> {
    const rx = await startReceiver(['--out', out, '--json', '--topic', topic, '--url', broker.url, ...args]);
    return { rx, out };
  }
  const stop = async (rx: CliProcess) => {
    rx.child.kill('SIGINT');
    return rx.done;
  };
  const send = (topic: string, args: string[]) =>
    runCli(['send', IMAGE, '--topic', topic, '--json', '--timeout', '10', '--url', broker.url, ...args]);

  /** Hash pages of the transfers `signedManifest` made, by transfer id (published before the chunks). */
  const pagesOf = new Map<string, Uint8Array[]>();
  /** A manifest for the sample image on `topic`, signed with the camera's key, as the real sender makes it. */
  function signedManifest(topic: string, createdMs = Date.now(), bytes = readFileSync(IMAGE)) {
    const privateKey = createPrivateKey(readFileSync(join(keys, 'camera.key')));
    const { manifest, pages } = prepareTransfer(
      { bytes, name: 'landscape.jpg', mediaType: 'image/jpeg', width: 1600, height: 1200 },
      32 * 1024,
      createdMs,
    );
    pagesOf.set(manifest.id, pages);
    return signManifest(
      nodeCrypto,
      manifest,
      topic,
      pkcs8Of(privateKey),
      publicKeyId(createPublicKey(privateKey)),
    );
  }
  const publishTransfer = async (
    topic: string,
    manifest: Manifest,
    payload: Uint8Array | string,
    bytes: Buffer,
  ) => {
    const wire = typeof payload === 'string' ? payload : Buffer.from(payload);
    await attacker.publishAsync(manifestTopic(topic, manifest.id), wire, { qos: 1 });
    for (const [j, page] of (pagesOf.get(manifest.id) ?? []).entries())
      await attacker.publishAsync(pageTopic(topic, manifest.id, j), Buffer.from(page), { qos: 1 });
    for (let i = 0; i < manifest.chunks; i++) {
      const chunk = bytes.subarray(i * manifest.chunkBytes, (i + 1) * manifest.chunkBytes);
      await attacker.publishAsync(chunkTopic(topic, manifest.id, i), chunk, { qos: 1 });
    }
  };

  it('saves a transfer signed by a trusted key', async () => {
    const { rx, out } = await receiver('signed/ok', ['--trust', trusted, '--once']);
    const sent = await send('signed/ok', ['--sign', join(keys, 'camera.key')]);
    expect(sent.code, sent.stderr).toBe(0);
    const received = await rx.done;
    expect(received.code, received.stderr).toBe(0);
    const delivered = jsonLines(sent.stdout).find((e) => e.event === 'delivered');
    expect(sha256(readFileSync(join(out, 'landscape.jpg')))).toBe(delivered?.sha256);
  });

  it.each([
    ['an unsigned transfer', [], 'unsigned'],
    ['a transfer signed by a key it does not trust', ['--sign', 'other.key'], 'untrusted_key'],
  ])('refuses %s: the sender exits 7 with the code, nothing is saved', async (_label, args, code) => {
    const topic = `signed/${code}`;
    const { rx, out } = await receiver(topic, ['--trust', trusted]);
    const sent = await send(
      topic,
      args.map((a) => (a.endsWith('.key') ? join(keys, a) : a)),
    );
    expect(sent.code, sent.stderr).toBe(7);
    expect(sent.stderr).toContain(code);
    const failed = await waitForEvent(rx, { event: 'failed', topic });
    expect(failed.code).toBe(code);
    await stop(rx);
    expect(visibleFiles(out)).toEqual([]);
  });

  it('refuses tampered manifests, substituted images and manifests replayed to another topic', async () => {
    const { rx, out } = await receiver('#', ['--trust', trusted]);
    const bytes = readFileSync(IMAGE);
    // The name changed after signing.
    const renamed = { ...(await signedManifest('tamper/name')), name: 'evil.jpg' };
    await publishTransfer('tamper/name', renamed, encodeManifest(renamed), bytes);
    expect((await waitForEvent(rx, { event: 'failed', topic: 'tamper/name' })).code).toBe('bad_signature');
    // Other bytes, with their own SHA-256 and size, under the genuine signature.
    const evil = Buffer.concat([bytes, Buffer.from('appended')]);
    const genuine = await signedManifest('tamper/bytes');
    const swapped = {
      ...genuine,
      size: evil.length,
      sha256: sha256(evil),
      chunks: Math.ceil(evil.length / genuine.chunkBytes),
    };
    await publishTransfer('tamper/bytes', swapped, encodeManifest(swapped), evil);
    expect((await waitForEvent(rx, { event: 'failed', topic: 'tamper/bytes' })).code).toBe('bad_signature');
    // A genuine manifest for cam/a, published under cam/b (same id, same bytes).
    const forA = await signedManifest('cam/a');
    await publishTransfer('cam/b', forA, encodeManifest(forA), bytes);
    expect((await waitForEvent(rx, { event: 'failed', topic: 'cam/b' })).code).toBe('bad_signature');
    // A genuine manifest signed 20 minutes ago (the default --max-age is 10).
    const old = await signedManifest('cam/old', Date.now() - 20 * 60_000);
    await publishTransfer('cam/old', old, encodeManifest(old), bytes);
    expect((await waitForEvent(rx, { event: 'failed', topic: 'cam/old' })).code).toBe('expired_signature');
    await stop(rx);
    expect(visibleFiles(out)).toEqual([]);
  });

  it('refuses a captured signed transfer replayed after it was saved, even by a restarted receiver', async () => {
    const topic = 'signed/replay';
    const out = tempDir();
    let first: CliProcess | undefined;
    const captured = await capture(broker.url, topic, async () => {
      first = (await receiver(topic, ['--trust', trusted, '--once'], out)).rx;
      const sent = await send(topic, ['--sign', join(keys, 'camera.key')]);
      expect(sent.code, sent.stderr).toBe(0);
      expect((await first.done).code).toBe(0);
    });
    expect(visibleFiles(out)).toEqual(['landscape.jpg']);
    // The same folder, a new process: its memory of finished transfers is gone, the saved signature is not.
    const { rx } = await receiver(topic, ['--trust', trusted], out);
    for (const { topic: name, payload } of captured) {
      if (parseTopic(name)?.kind !== 'status') await attacker.publishAsync(name, payload, { qos: 1 });
    }
    const failed = await waitForEvent(rx, { event: 'failed', topic });
    expect(failed.code).toBe('replayed');
    await stop(rx);
    expect(visibleFiles(out)).toEqual(['landscape.jpg']);
  });

  it('encrypts end to end: the right secret saves the image; the broker sees no name, checksum or image bytes', async () => {
    const topic = 'enc/ok';
    const secret = join(keys, 'site.secret');
    let sent: Awaited<ReturnType<typeof send>> | undefined;
    const { rx, out } = await receiver(topic, ['--encrypt', secret, '--once']);
    const seen = await capture(broker.url, topic, async () => {
      sent = await send(topic, ['--encrypt', secret]);
    });
    expect(sent?.code, sent?.stderr).toBe(0);
    expect((await rx.done).code).toBe(0);
    const delivered = jsonLines(sent?.stdout ?? '').find((e) => e.event === 'delivered');
    const saved = readFileSync(join(out, 'landscape.jpg'));
    expect(sha256(saved)).toBe(delivered?.sha256);
    // What anyone subscribed on the broker saw:
    const manifests = seen.filter((m) => parseTopic(m.topic)?.kind === 'manifest');
    expect(manifests.length).toBeGreaterThan(0);
    for (const { payload } of manifests) {
      const wire = JSON.parse(payload.toString()) as Record<string, unknown>;
      for (const hidden of ['name', 'type', 'sha256', 'width', 'height'])
        expect(wire).not.toHaveProperty(hidden);
      expect(payload.toString()).not.toContain('landscape');
      expect(payload.toString()).not.toContain(String(delivered?.sha256));
    }
    const chunks = seen.filter((m) => parseTopic(m.topic)?.kind === 'chunk');
    expect(chunks.length).toBeGreaterThan(0);
    for (const { topic: name, payload } of chunks) {
      const index = (parseTopic(name) as { index: number }).index;
      const plain = saved.subarray(index * 32 * 1024, (index + 1) * 32 * 1024);
      expect(payload.length).toBe(plain.length + 16);
      expect(payload.subarray(0, 64).equals(plain.subarray(0, 64))).toBe(false);
      expect(payload.includes(plain.subarray(100, 132))).toBe(false);
    }
  });

  it('refuses a captured encrypted transfer republished under another topic (the topic is in its key)', async () => {
    const secret = join(keys, 'site.secret');
    const captured = await capture(broker.url, 'enc/front', async () => {
      const { rx } = await receiver('enc/front', ['--encrypt', secret, '--once']);
      const sent = await send('enc/front', ['--encrypt', secret]);
      expect(sent.code, sent.stderr).toBe(0);
      expect((await rx.done).code).toBe(0);
    });
    // Someone on the broker without the secret moves the front camera's image to the back camera's topic.
    const { rx, out } = await receiver('enc/back', ['--encrypt', secret]);
    let moved = 0;
    for (const { topic: name, payload } of captured) {
      if (parseTopic(name)?.kind === 'status') continue;
      await attacker.publishAsync(name.replace(/^enc\/front\//, 'enc/back/'), payload, { qos: 1 });
      moved++;
    }
    expect(moved).toBeGreaterThan(2);
    const failed = await waitForEvent(rx, { event: 'failed', topic: 'enc/back' });
    expect(failed.code).toBe('wrong_key');
    expect(String(failed.message)).toContain('sealed for another topic');
    await stop(rx);
    expect(visibleFiles(out)).toEqual([]);
  });

  it.each([
    ['another secret', ['--encrypt', 'other.secret'], ['--encrypt', 'site.secret'], 'wrong_key'],
    ['no secret', [], ['--encrypt', 'site.secret'], 'encrypted'],
    [
      'a plain transfer to a receiver that wants encryption',
      ['--encrypt', 'site.secret'],
      [],
      'not_encrypted',
    ],
  ])('refuses %s and saves nothing; the sender names the refusal', async (_label, rxArgs, txArgs, code) => {
    const topic = `enc/${code}`;
    const inKeys = (args: string[]) => args.map((a) => (a.endsWith('.secret') ? join(keys, a) : a));
    const { rx, out } = await receiver(topic, inKeys(rxArgs));
    const sent = await send(topic, inKeys(txArgs));
    if (txArgs.length === 0) {
      // A plain sender counts every status: the refusal is final (exit 7).
      expect(sent.code, sent.stderr).toBe(7);
    } else {
      // An encrypting sender counts only sealed statuses (PROTOCOL.md 13.1): a receiver without its key can only
      // refuse in clear, which anyone could forge, so the send times out (exit 6) and says what it heard.
      expect(sent.code, sent.stderr).toBe(6);
      expect(sent.stderr).toContain(`could not be authenticated (not counted) said: `);
      expect(sent.stderr).toContain(code);
    }
    expect((await waitForEvent(rx, { event: 'failed', topic })).code).toBe(code);
    await stop(rx);
    expect(visibleFiles(out)).toEqual([]);
  });

  it('signs and encrypts together: the signature travels inside the encrypted fields', async () => {
    const topic = 'enc/signed';
    const secret = join(keys, 'site.secret');
    const { rx, out } = await receiver(topic, ['--encrypt', secret, '--trust', trusted, '--once']);
    const seen = await capture(broker.url, topic, async () => {
      const sent = await send(topic, ['--encrypt', secret, '--sign', join(keys, 'camera.key')]);
      expect(sent.code, sent.stderr).toBe(0);
    });
    expect((await rx.done).code).toBe(0);
    expect(visibleFiles(out)).toEqual(['landscape.jpg']);
    const manifest = seen.find((m) => parseTopic(m.topic)?.kind === 'manifest');
    expect(JSON.parse(manifest?.payload.toString() ?? '{}')).not.toHaveProperty('sig');
  });

  it('leaves a signed, encrypted image retained for a display that connects later', async () => {
    const topic = 'enc/retained';
    const secret = join(keys, 'site.secret');
    const sent = await send(topic, ['--retain', '--encrypt', secret, '--sign', join(keys, 'camera.key')]);
    expect(sent.code, sent.stderr).toBe(0);
    const { rx, out } = await receiver(topic, ['--encrypt', secret, '--trust', trusted, '--once']);
    expect((await rx.done).code).toBe(0);
    expect(visibleFiles(out)).toEqual(['landscape.jpg']);
    // A second retained send replaces the first (its chunk count is read from the encrypted manifest's clear part).
    const again = await send(topic, [
      '--retain',
      '--encrypt',
      secret,
      '--sign',
      join(keys, 'camera.key'),
      '--format',
      'png',
    ]);
    expect(again.code, again.stderr).toBe(0);
    const left = await capture(broker.url, topic, async () => {});
    const ids = new Set(
      left
        .filter((m) => m.payload.length > 0)
        .map((m) => parseTopic(m.topic))
        .map((p) => (p && 'id' in p ? p.id : undefined))
        .filter((id) => id !== undefined),
    );
    expect(ids.size).toBe(1);
  });

  it('relays whole-image snapshots signed and encrypted', async () => {
    const secret = join(keys, 'site.secret');
    const camera = await mqtt.connectAsync(broker.url);
    await camera.publishAsync('snap/door', readFileSync(IMAGE), { qos: 1, retain: true });
    await camera.endAsync();
    const { rx, out } = await receiver('relayed/door', ['--encrypt', secret, '--trust', trusted, '--once']);
    const relay = startCli([
      'relay',
      '--from',
      'snap/door',
      '--to',
      'relayed/door',
      '--sign',
      join(keys, 'camera.key'),
      '--encrypt',
      secret,
      '--url',
      broker.url,
    ]);
    const received = await rx.done;
    relay.child.kill('SIGINT');
    await relay.done;
    expect(received.code, received.stderr + relay.stderr()).toBe(0);
    expect(visibleFiles(out)).toHaveLength(1);
  });
});
