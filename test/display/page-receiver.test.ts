import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryReplayGuard } from '../../src/display/memory-replay-guard.js';
import { type PageEvent, PageReceiver, type ReceivedImage } from '../../src/display/page-receiver.js';
import { publicKeyId, rawPublicKey } from '../../src/platform/node-keys.js';
import { webCrypto } from '../../src/platform/web-crypto.js';
import { parseTopic, receiverSubscriptions } from '../../src/protocol/wire/topics.js';
import { sendTransfer } from '../../src/session/send/send-session.js';
import { type DropRule, LoopbackBroker } from '../../src/transport/loopback-transport.js';
import { seededRandom } from '../helpers/random.js';

/**
 * The display page's receiver (src/display/page-receiver.ts) with WebCrypto, against the real sender, in one
 * process over the in-memory broker: the same protocol as the Node receiver, file in memory. The browser suite
 * (test/browser) proves it in Chromium over a real broker.
 */
async function toPage(options: {
  size: number;
  chunkBytes: number;
  drop?: DropRule;
  page?: Partial<ConstructorParameters<typeof PageReceiver>[0]>;
  sender?: Partial<Parameters<typeof sendTransfer>[2]>;
}) {
  const broker = new LoopbackBroker(options.drop);
  const transport = broker.connect('page');
  const images: ReceivedImage[] = [];
  const events: PageEvent[] = [];
  const page = new PageReceiver({
    transport,
    crypto: webCrypto(),
    receiverId: 'page-1',
    onImage: (image) => images.push(image),
    onEvent: (event) => events.push(event),
    ...options.page,
  });
  const { manifests, chunks } = receiverSubscriptions('cam/1');
  await transport.subscribe([...manifests, ...chunks]);
  page.start();
  const file = {
    bytes: randomBytes(options.size),
    name: 'photo.jpg',
    mediaType: 'image/jpeg',
    width: 8,
    height: 8,
  };
  try {
    const result = await sendTransfer(broker.connect('tx'), file, {
      topic: 'cam/1',
      chunkBytes: options.chunkBytes,
      timeoutMs: 5_000,
      ...options.sender,
    });
    await page.idle();
    return { result, images, events, file };
  } finally {
    page.stop();
  }
}

describe('the page receiver with the real sender', () => {
  it('takes a file, checks it, proves receipt, and hands over exactly its bytes', async () => {
    const { result, images, file } = await toPage({ size: 100_000, chunkBytes: 4096 });
    expect(result.receivers.map((r) => [r.id, r.state])).toEqual([['page-1', 'complete']]);
    expect(result.retransmittedChunks).toBe(0);
    expect(images).toHaveLength(1);
    expect(Buffer.from(images[0]?.bytes ?? []).equals(file.bytes)).toBe(true);
    expect(images[0]?.sha256).toBe(createHash('sha256').update(file.bytes).digest('hex'));
  });

  it.each([1, 2])(
    'recovers seeded chunk loss of 5 percent (seed %i) by asking for what was lost',
    async (seed) => {
      const random = seededRandom(seed);
      let lost = 0;
      const drop: DropRule = ({ topic, to }) => {
        if (to !== 'page' || parseTopic(topic)?.kind !== 'chunk' || random() >= 0.05) return false;
        lost++;
        return true;
      };
      const { result, images, file } = await toPage({ size: 200_000, chunkBytes: 1024, drop });
      expect(lost).toBeGreaterThan(0);
      expect(result.retransmittedChunks).toBeGreaterThanOrEqual(lost);
      expect(Buffer.from(images[0]?.bytes ?? []).equals(file.bytes)).toBe(true);
    },
  );

  it('takes signed, encrypted transfers from trusted keys only', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const secret = randomBytes(32);
    const trust = new Map([[publicKeyId(publicKey), rawPublicKey(publicKey)]]);
    const signWith = { privateKey, kid: publicKeyId(publicKey) };
    const page = { secret, trust, replayGuard: new MemoryReplayGuard() };
    const signed = await toPage({ size: 20_000, chunkBytes: 4096, page, sender: { secret, signWith } });
    expect(signed.images).toHaveLength(1);
    const other = generateKeyPairSync('ed25519');
    const events: PageEvent[] = [];
    const forged = toPage({
      size: 20_000,
      chunkBytes: 4096,
      page: { ...page, onEvent: (event) => events.push(event) },
      sender: {
        secret,
        signWith: { privateKey: other.privateKey, kid: publicKeyId(other.publicKey) },
        timeoutMs: 1500,
      },
    });
    await expect(forged).rejects.toThrow();
    expect(events.filter((e) => e.event === 'failed').map((e) => e.event === 'failed' && e.code)).toContain(
      'untrusted_key',
    );
  });
});
