import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MqimgError } from '../../src/errors.js';
import { publicKeyId } from '../../src/platform/node-keys.js';
import { webCrypto } from '../../src/platform/web-crypto.js';
import { parseTopic } from '../../src/protocol/wire/topics.js';
import { type ReceiveEvent, Receiver, type ReceiverOptions } from '../../src/session/receive/receiver.js';
import { type SendTransferOptions, sendTransfer } from '../../src/session/send/send-session.js';
import { type DropRule, LoopbackBroker } from '../../src/transport/loopback-transport.js';
import { sha256, tempDir, visibleFiles } from '../helpers/files.js';
import { seededRandom } from '../helpers/random.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * The real sender and the real receiver, in one process, over an in-memory broker: fast, and with a seeded drop
 * rule, repeatable. These test the protocol's logic; the end-to-end suite proves transfers over real brokers.
 */

const image = (size: number) => ({
  bytes: randomBytes(size),
  name: 'photo.jpg',
  mediaType: 'image/jpeg',
  width: 640,
  height: 480,
});

async function transfer(opts: {
  size: number;
  chunkBytes: number;
  drop?: DropRule;
  receiver?: Partial<ReceiverOptions>;
  sender?: Partial<SendTransferOptions>;
}) {
  const broker = new LoopbackBroker(opts.drop);
  const outDir = tempDir();
  const events: ReceiveEvent[] = [];
  const receiver = new Receiver(broker.connect('rx'), {
    outDir,
    topicFilter: 'cam/#',
    onEvent: (e) => events.push(e),
    ...opts.receiver,
  });
  await receiver.start();
  const file = image(opts.size);
  try {
    const result = await sendTransfer(broker.connect('tx'), file, {
      topic: 'cam/1',
      chunkBytes: opts.chunkBytes,
      timeoutMs: 10_000,
      ...opts.sender,
    });
    return { result, events, outDir, file, broker };
  } finally {
    await receiver.stop();
  }
}

describe('sender and receiver in one process', () => {
  it('deliver a file whole, each chunk published once, and the receiver saves exactly those bytes', async () => {
    const { result, events, outDir, file } = await transfer({ size: 200_000, chunkBytes: 4096 });
    expect(result.manifest.chunks).toBe(49);
    expect(result.publishedChunks).toBe(49);
    expect(result.retransmittedChunks).toBe(0);
    expect(result.receivers.map((r) => r.state)).toEqual(['complete']);
    expect(visibleFiles(outDir)).toEqual(['photo.jpg']);
    expect(sha256(readFileSync(join(outDir, 'photo.jpg')))).toBe(sha256(file.bytes));
    expect(events.map((e) => e.event).filter((e) => e !== 'progress')).toEqual(['started', 'completed']);
  });

  it.each([1, 2, 3])('recover 5%% seeded chunk loss (seed %i) by resending what was lost', async (seed) => {
    const random = seededRandom(seed);
    let lost = 0;
    const drop: DropRule = ({ topic, to }) => {
      if (to !== 'rx' || parseTopic(topic)?.kind !== 'chunk' || random() >= 0.05) return false;
      lost++;
      return true;
    };
    const { result, outDir, file } = await transfer({ size: 300_000, chunkBytes: 1024, drop });
    expect(lost).toBeGreaterThan(0);
    expect(result.retransmittedChunks).toBeGreaterThanOrEqual(lost);
    expect(sha256(readFileSync(join(outDir, 'photo.jpg')))).toBe(sha256(file.bytes));
  });

  it('move a signed, encrypted transfer to a receiver whose core runs on WebCrypto', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const secret = randomBytes(32);
    const { result, outDir, file, events } = await transfer({
      size: 50_000,
      chunkBytes: 2048,
      sender: { signWith: { privateKey, kid: publicKeyId(publicKey) }, secret },
      receiver: { crypto: webCrypto(), secret, trust: new Map([[publicKeyId(publicKey), publicKey]]) },
    });
    expect(result.receivers.map((r) => r.state)).toEqual(['complete']);
    expect(events.map((e) => e.event).filter((e) => e !== 'progress')).toEqual(['started', 'completed']);
    expect(sha256(readFileSync(join(outDir, 'photo.jpg')))).toBe(sha256(file.bytes));
  });

  it('refuse a transfer signed by an untrusted key, and the sender says which receiver refused and why', async () => {
    const signer = generateKeyPairSync('ed25519');
    const trusted = generateKeyPairSync('ed25519').publicKey;
    const attempt = transfer({
      size: 10_000,
      chunkBytes: 1024,
      sender: { signWith: { privateKey: signer.privateKey, kid: publicKeyId(signer.publicKey) } },
      receiver: { trust: new Map([[publicKeyId(trusted), trusted]]) },
    });
    await expect(attempt).rejects.toMatchObject({ code: 'receiver_failed', message: /untrusted_key/ });
  });
});

/** An attacker on the broker that answers every manifest on cam/1 with `statuses`, in clear. */
async function answerEveryManifest(broker: LoopbackBroker, statuses: object[]): Promise<void> {
  const evil = broker.connect('evil');
  await evil.subscribe(['cam/1/mqimg/+/m']);
  evil.onMessage((topic) => {
    const parsed = parseTopic(topic);
    if (!parsed) return;
    for (const status of statuses) void evil.publish(`cam/1/mqimg/${parsed.id}/r`, JSON.stringify(status));
  });
}

describe('statuses that prove nothing', () => {
  it('a complete without a valid proof of receipt does not end a send, and the sender says so', async () => {
    const broker = new LoopbackBroker();
    await answerEveryManifest(broker, [
      { rx: 'rx-evil', state: 'complete' },
      { rx: 'rx-evil2', state: 'complete', proof: '0'.repeat(64) },
    ]);
    const attempt = sendTransfer(broker.connect('tx'), image(10_000), {
      topic: 'cam/1',
      chunkBytes: 1024,
      timeoutMs: 1500,
    });
    await expect(attempt).rejects.toMatchObject({ code: 'no_receiver' });
  });

  it('with --encrypt, a clear status that claims progress or completion is ignored; sealed ones count', async () => {
    const secret = randomBytes(32);
    const broker = new LoopbackBroker();
    await answerEveryManifest(broker, [
      { rx: 'rx-evil', state: 'receiving', next: 0, high: 9, missing: [[0, 9]] },
    ]);
    const sending = sendTransfer(broker.connect('tx'), image(10_000), {
      topic: 'cam/1',
      chunkBytes: 1024,
      timeoutMs: 1500,
      secret,
    });
    const result = await sending.catch((error: unknown) => error);
    expect(result).toMatchObject({ code: 'no_receiver' });
  });
});

describe('a sender that restarts', () => {
  it('sends the same image as a new transfer, and the receiver continues from the chunks it holds', async () => {
    let dropping = true;
    let seen = 0;
    /** Chunk indexes delivered to the receiver once the second sender runs. */
    const resent = new Set<number>();
    // The first sender dies (is interrupted) once 60 of its 100 chunks got through: no timing decides when.
    const dies = new AbortController();
    const broker = new LoopbackBroker(({ topic, to }) => {
      const parsed = parseTopic(topic);
      if (to !== 'rx' || parsed?.kind !== 'chunk') return false;
      if (!dropping) resent.add(parsed.index);
      if (!dropping || ++seen <= 60) return false;
      dies.abort();
      return true;
    });
    const outDir = tempDir();
    const events: ReceiveEvent[] = [];
    const receiver = new Receiver(broker.connect('rx'), { outDir, onEvent: (e) => events.push(e) });
    await receiver.start();
    const file = image(100 * 32 * 1024);
    const first = broker.connect('tx-1');
    const failed = await sendTransfer(first, file, {
      topic: 'cam/1',
      chunkBytes: 32 * 1024,
      signal: dies.signal,
    }).catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: 'interrupted' });
    first.close();
    await waitUntil('the receiver to hold the 60 chunks that got through', () =>
      events.some((e) => e.event === 'progress' && e.receivedChunks === 60),
    );
    dropping = false;
    const second = await sendTransfer(broker.connect('tx-2'), file, {
      topic: 'cam/1',
      chunkBytes: 32 * 1024,
    });
    await receiver.idle();
    await receiver.stop();
    const started = events.filter((e) => e.event === 'started');
    expect(started).toHaveLength(2);
    expect(started[1]).toMatchObject({ resumedWith: 60 });
    expect(started[0]?.id).not.toBe(started[1]?.id);
    // The blind start (1 MiB: 32 chunks) goes out before the receiver answers; after that only the 40 it lacks
    // (a busy machine may make the sender repeat some of those, never send the 28 others the receiver held).
    const expected = [
      ...Array.from({ length: 32 }, (_, i) => i),
      ...Array.from({ length: 40 }, (_, i) => 60 + i),
    ];
    expect([...resent].sort((a, b) => a - b)).toEqual(expected);
    expect(second.publishedChunks).toBeGreaterThanOrEqual(32 + 40);
    expect(visibleFiles(outDir)).toEqual(['photo.jpg']);
    expect(sha256(readFileSync(join(outDir, 'photo.jpg')))).toBe(sha256(file.bytes));
  });
});

describe('sender timing, on a fake clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives up with no_receiver after --timeout when nobody answers, in no real time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'setImmediate', 'performance', 'Date'] });
    const broker = new LoopbackBroker();
    const sending = sendTransfer(broker.connect('tx'), image(10_000), {
      topic: 'cam/1',
      chunkBytes: 1024,
      timeoutMs: 30_000,
    });
    const outcome = sending.then(
      () => undefined,
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(29_000);
    let settled = false;
    void outcome.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(MqimgError);
    expect(error).toMatchObject({ code: 'no_receiver', exitCode: 6 });
  });

  it('stops with stalled when every chunk after the first ten is lost, after --timeout without progress', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'setImmediate', 'performance', 'Date'] });
    let chunksSeen = 0;
    const broker = new LoopbackBroker(({ topic, to }) => {
      if (to !== 'rx' || parseTopic(topic)?.kind !== 'chunk') return false;
      return ++chunksSeen > 10;
    });
    // A stand-in receiver that answers like the real one would, without touching the disk: next = chunks held.
    const rx = broker.connect('rx');
    await rx.subscribe(['cam/1/mqimg/+/m', 'cam/1/mqimg/+/c/+']);
    let held = 0;
    rx.onMessage((topic) => {
      const parsed = parseTopic(topic);
      if (!parsed) return;
      if (parsed.kind === 'chunk') held++;
      void rx.publish(
        `cam/1/mqimg/${parsed.id}/r`,
        JSON.stringify({ rx: 'rx-1', state: 'receiving', next: held, high: held - 1, win: 64 }),
      );
    });
    const sending = sendTransfer(broker.connect('tx'), image(100_000), {
      topic: 'cam/1',
      chunkBytes: 1024,
      timeoutMs: 5_000,
    });
    const outcome = sending.then(
      () => undefined,
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(7_000);
    expect(await outcome).toMatchObject({ code: 'stalled' });
    expect(held).toBe(10);
  });

  it('stops at once with interrupted when its signal aborts', async () => {
    const broker = new LoopbackBroker();
    const abort = new AbortController();
    const sending = sendTransfer(broker.connect('tx'), image(10_000), {
      topic: 'cam/1',
      chunkBytes: 1024,
      signal: abort.signal,
    });
    abort.abort();
    await expect(sending).rejects.toMatchObject({ code: 'interrupted', exitCode: 130 });
  });
});
