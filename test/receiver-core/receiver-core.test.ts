import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PageReceiver } from '../../src/display/page-receiver.js';
import { webCrypto } from '../../src/platform/web-crypto.js';
import { parseTopic, receiverSubscriptions } from '../../src/protocol/wire/topics.js';
import type { ReceiveEvent } from '../../src/receiver-core/events.js';
import { Receiver } from '../../src/session/receive/receiver.js';
import { sendTransfer } from '../../src/session/send/send-session.js';
import {
  type DropRule,
  LoopbackBroker,
  type LoopbackTransport,
} from '../../src/transport/loopback-transport.js';
import type { Clock, Scheduler } from '../../src/util/clock.js';
import { FakeScheduler } from '../helpers/fake-scheduler.js';
import { tempDir, visibleFiles } from '../helpers/files.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * One suite for the receiver core, run against both of its stores (as MQTT.js runs `abstract_store` against every
 * store): the Node receiver (disk store) and the display page's receiver (memory store), each with the real sender
 * over the in-memory broker. What one receiver does here, the other must do too, except where a rule says why not.
 */

interface Harness {
  events: ReceiveEvent[];
  /** The bytes of every file the receiver saved or handed over, in order. */
  saved(): Buffer[];
  stop(): Promise<void>;
  idle(): Promise<void>;
}

interface Timing {
  clock?: Clock;
  scheduler?: Scheduler;
  timeoutMs?: number;
}

const kinds: {
  name: string;
  keepsOnlyNewest: boolean;
  start(t: LoopbackTransport, timing: Timing): Promise<Harness>;
}[] = [
  {
    name: 'the Node receiver (disk store)',
    keepsOnlyNewest: false,
    async start(transport, timing) {
      const outDir = tempDir();
      const events: ReceiveEvent[] = [];
      const rx = new Receiver(transport, {
        outDir,
        topicFilter: 'cam/#',
        receiverId: 'rx-core',
        onEvent: (e) => events.push(e),
        ...timing,
      });
      await rx.start();
      return {
        events,
        saved: () =>
          events.flatMap((e) =>
            e.event === 'completed' ? [readFileSync(join(outDir, String(e.path.split('/').pop())))] : [],
          ),
        stop: () => rx.stop(),
        idle: () => rx.idle(),
      };
    },
  },
  {
    name: 'the page receiver (memory store)',
    keepsOnlyNewest: true,
    async start(transport, timing) {
      const events: ReceiveEvent[] = [];
      const images: Buffer[] = [];
      const page = new PageReceiver({
        transport,
        crypto: webCrypto(),
        receiverId: 'rx-core',
        onImage: (image) => images.push(Buffer.from(image.bytes)),
        onEvent: (e) => events.push(e),
        ...(timing.clock ? { now: timing.clock } : {}),
        ...(timing.scheduler ? { scheduler: timing.scheduler } : {}),
        ...(timing.timeoutMs ? { timeoutMs: timing.timeoutMs } : {}),
      });
      const { manifests, chunks } = receiverSubscriptions('cam/#');
      await transport.subscribe([...manifests, ...chunks]);
      page.start();
      return { events, saved: () => images, stop: () => page.stop(), idle: () => page.idle() };
    },
  },
];

const image = (size: number) => ({
  bytes: randomBytes(size),
  name: 'photo.jpg',
  mediaType: 'image/jpeg',
  width: 8,
  height: 8,
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

for (const kind of kinds) {
  describe(`the receiver core in ${kind.name}`, () => {
    it('takes a file, proves receipt, and keeps exactly its bytes, with the same events', async () => {
      const broker = new LoopbackBroker();
      const rx = await kind.start(broker.connect('rx'), {});
      try {
        const file = image(100_000);
        const result = await sendTransfer(broker.connect('tx'), file, { topic: 'cam/1', chunkBytes: 4096 });
        await rx.idle();
        expect(result.receivers.map((r) => [r.id, r.state])).toEqual([['rx-core', 'complete']]);
        expect(rx.saved().map(sha256)).toEqual([sha256(file.bytes)]);
        const kinds = rx.events.map((e) => e.event).filter((e) => e !== 'progress');
        expect(kinds).toEqual(['started', 'completed']);
        expect(rx.events.at(-1)).toMatchObject({
          event: 'completed',
          topic: 'cam/1',
          sha256: sha256(file.bytes),
        });
      } finally {
        await rx.stop();
      }
    });

    it('asks for what was lost (every 7th chunk once) and completes', async () => {
      const dropped = new Set<string>();
      const drop: DropRule = ({ topic, to }) => {
        const parsed = parseTopic(topic);
        if (to !== 'rx' || parsed?.kind !== 'chunk' || parsed.index % 7 !== 3 || dropped.has(topic))
          return false;
        dropped.add(topic);
        return true;
      };
      const broker = new LoopbackBroker(drop);
      const rx = await kind.start(broker.connect('rx'), {});
      try {
        const file = image(60_000);
        const result = await sendTransfer(broker.connect('tx'), file, { topic: 'cam/1', chunkBytes: 1024 });
        await rx.idle();
        expect(dropped.size).toBeGreaterThan(5);
        expect(result.retransmittedChunks).toBeGreaterThanOrEqual(dropped.size);
        expect(rx.saved().map(sha256)).toEqual([sha256(file.bytes)]);
      } finally {
        await rx.stop();
      }
    });

    it(`${kind.keepsOnlyNewest ? 'drops' : 'keeps'} an unfinished older image of the topic when a newer one comes without supersede`, async () => {
      // The first transfer's chunks never reach the receiver: it stays unfinished while the second one completes.
      let firstId: string | undefined;
      const drop: DropRule = ({ topic, to }) => {
        const parsed = parseTopic(topic);
        if (!parsed || to !== 'rx') return false;
        firstId ??= parsed.id;
        return parsed.id === firstId && parsed.kind === 'chunk';
      };
      const broker = new LoopbackBroker(drop);
      const rx = await kind.start(broker.connect('rx'), {});
      const controller = new AbortController();
      try {
        const older = sendTransfer(broker.connect('tx-1'), image(20_000), {
          topic: 'cam/1',
          chunkBytes: 1024,
          signal: controller.signal,
        }).catch((error: unknown) => error);
        await waitUntil('the older transfer started', () => rx.events.some((e) => e.event === 'started'));
        const newer = image(10_000);
        await sendTransfer(broker.connect('tx-2'), newer, { topic: 'cam/1', chunkBytes: 1024 });
        await rx.idle();
        expect(rx.saved().map(sha256)).toEqual([sha256(newer.bytes)]);
        const superseded = rx.events.filter((e) => e.event === 'failed' && e.code === 'superseded');
        expect(superseded.map((e) => (e.event === 'failed' ? e.id : ''))).toEqual(
          kind.keepsOnlyNewest ? [firstId] : [],
        );
        controller.abort();
        await older;
      } finally {
        controller.abort();
        await rx.stop();
      }
    });

    it('gives a transfer up after its timeout on the injected clock and scheduler, in no real time', async () => {
      const fake = new FakeScheduler();
      const broker = new LoopbackBroker(
        ({ topic, to }) => to === 'rx' && parseTopic(topic)?.kind === 'chunk',
      );
      const rx = await kind.start(broker.connect('rx'), {
        clock: fake.clock,
        scheduler: fake,
        timeoutMs: 30_000,
      });
      const controller = new AbortController();
      try {
        const sending = sendTransfer(broker.connect('tx'), image(10_000), {
          topic: 'cam/1',
          chunkBytes: 1024,
          signal: controller.signal,
        }).catch((error: unknown) => error);
        await waitUntil('the transfer started', () => rx.events.some((e) => e.event === 'started'));
        await fake.advance(29_000);
        expect(rx.events.filter((e) => e.event === 'failed')).toEqual([]);
        await fake.advance(2_000);
        expect(
          rx.events.filter((e) => e.event === 'failed').map((e) => (e.event === 'failed' ? e.code : '')),
        ).toEqual(['timeout']);
        controller.abort();
        await sending;
      } finally {
        controller.abort();
        await rx.stop();
      }
    });
  });
}

describe('the receiver core, Node only', () => {
  it('saves nothing in the folder until the file is verified', async () => {
    const broker = new LoopbackBroker(({ topic, to }) => to === 'rx' && parseTopic(topic)?.kind === 'chunk');
    const outDir = tempDir();
    const rx = new Receiver(broker.connect('rx'), { outDir, topicFilter: 'cam/#' });
    await rx.start();
    const controller = new AbortController();
    try {
      const sending = sendTransfer(broker.connect('tx'), image(10_000), {
        topic: 'cam/1',
        chunkBytes: 1024,
        signal: controller.signal,
      }).catch((error: unknown) => error);
      await rx.idle();
      expect(visibleFiles(outDir)).toEqual([]);
      controller.abort();
      await sending;
    } finally {
      await rx.stop();
    }
  });
});
