import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publicKeyId, rawPublicKey, x25519PrivateFromEd25519 } from '../../src/platform/node-keys.js';
import { x25519PublicFromEd25519 } from '../../src/protocol/security/recipient.js';
import { Receiver } from '../../src/session/receive/receiver.js';
import { sendTransfer } from '../../src/session/send/send-session.js';
import { LoopbackBroker } from '../../src/transport/loopback-transport.js';
import { sha256, tempDir, visibleFiles } from '../helpers/files.js';

/**
 * Named receivers (PROTOCOL.md 12.1), in one process over the in-memory broker: a sender that names a receiver
 * counts only statuses sealed under that receiver's key. A client that reads every chunk (here: an ordinary
 * receiver, which computes the proof of receipt honestly) cannot make the send succeed.
 */

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const keyId = publicKeyId(publicKey);
  const x25519 = x25519PublicFromEd25519(rawPublicKey(publicKey));
  if (!x25519) throw new Error('no X25519 key');
  return {
    recipient: { keyId, x25519 },
    identity: { keyId, x25519Private: x25519PrivateFromEd25519(privateKey) },
  };
}

const image = () => ({
  bytes: randomBytes(30_000),
  name: 'photo.jpg',
  mediaType: 'image/jpeg',
  width: 8,
  height: 8,
});

describe('named receivers', () => {
  it('deliver when the named receiver proves receipt, and name it by its key', async () => {
    const hall = keyPair();
    const broker = new LoopbackBroker();
    const outDir = tempDir();
    const rx = new Receiver(broker.connect('hall'), {
      outDir,
      topicFilter: 'cam/#',
      identity: hall.identity,
    });
    await rx.start();
    try {
      const file = image();
      const result = await sendTransfer(broker.connect('tx'), file, {
        topic: 'cam/1',
        chunkBytes: 1024,
        recipients: [hall.recipient],
      });
      expect(result.receivers.map((r) => [r.id, r.state])).toEqual([
        [`k-${hall.recipient.keyId}`, 'complete'],
      ]);
      expect(result.manifest.epk).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(sha256(readFileSync(join(outDir, 'photo.jpg')))).toBe(sha256(file.bytes));
    } finally {
      await rx.stop();
    }
  });

  it('ignore a receiver that reads every chunk and proves receipt in clear: no delivery without the named one', async () => {
    const hall = keyPair();
    const broker = new LoopbackBroker();
    const sniffer = new Receiver(broker.connect('sniffer'), { outDir: tempDir(), topicFilter: 'cam/#' });
    await sniffer.start();
    try {
      const error = await sendTransfer(broker.connect('tx'), image(), {
        topic: 'cam/1',
        chunkBytes: 1024,
        timeoutMs: 1500,
        recipients: [hall.recipient],
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await sniffer.idle();
      expect(error).toMatchObject({ code: 'no_receiver' });
    } finally {
      await sniffer.stop();
    }
  });

  it('ignore another named receiver (a key that was not named), and a named one that refused the file', async () => {
    const hall = keyPair();
    const stranger = keyPair();
    const broker = new LoopbackBroker();
    const refusing = new Receiver(broker.connect('hall'), {
      outDir: tempDir(),
      topicFilter: 'cam/#',
      identity: hall.identity,
      verifyFile: async () => 'not an image',
    });
    const strangerOut = tempDir();
    const other = new Receiver(broker.connect('stranger'), {
      outDir: strangerOut,
      topicFilter: 'cam/#',
      identity: stranger.identity,
    });
    await refusing.start();
    await other.start();
    try {
      const error = await sendTransfer(broker.connect('tx'), image(), {
        topic: 'cam/1',
        chunkBytes: 1024,
        timeoutMs: 10_000,
        recipients: [hall.recipient],
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      // The stranger saved the file (it was not told to refuse) but does not count; the named one refused it.
      await other.idle();
      expect(visibleFiles(strangerOut)).toEqual(['photo.jpg']);
      expect(error).toMatchObject({ code: 'receiver_failed' });
    } finally {
      await refusing.stop();
      await other.stop();
    }
  });

  it('wait for every named receiver', async () => {
    const hall = keyPair();
    const door = keyPair();
    const broker = new LoopbackBroker();
    const rx = new Receiver(broker.connect('hall'), {
      outDir: tempDir(),
      topicFilter: 'cam/#',
      identity: hall.identity,
    });
    await rx.start();
    try {
      const error = await sendTransfer(broker.connect('tx'), image(), {
        topic: 'cam/1',
        chunkBytes: 1024,
        timeoutMs: 1500,
        recipients: [hall.recipient, door.recipient],
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: expect.stringMatching(/^(no_receiver|stalled)$/) });
    } finally {
      await rx.stop();
    }
  });
});
