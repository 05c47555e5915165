import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { InputError } from '../../src/errors.js';
import { fetchImage, pollUrl, subscribeImages } from '../../src/feeds/image-sources.js';
import { MqttTransport } from '../../src/transport/mqtt-transport.js';

const SNAPSHOT = Buffer.from('pretend this is a JPEG');
let server: Server;
let base: string;
let broker: EmbeddedBroker;

beforeAll(async () => {
  // /snapshot answers at once, a new image each time (a live camera); /still always the same one; /hang never.
  let served = 0;
  server = createServer((request, response) => {
    if (request.url === '/snapshot') response.end(Buffer.concat([SNAPSHOT, Buffer.from(` ${++served}`)]));
    if (request.url === '/still') response.end(SNAPSHOT);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  broker = await startEmbeddedBroker();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await broker.close();
});

describe('fetchImage', () => {
  it('gives a request that does not answer up after its timeout, with a clear InputError', async () => {
    const error = await fetchImage(`${base}/hang`, undefined, 200).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(`cannot fetch ${base}/hang: no complete answer within 0.2 s`);
  });
});

describe('pollUrl', () => {
  it('yields each snapshot and leaves no abort listener behind per poll', async () => {
    const controller = new AbortController();
    const errors: unknown[] = [];
    let polls = 0;
    for await (const image of pollUrl(`${base}/snapshot`, 10, controller.signal, (e) => errors.push(e))) {
      expect(image).toEqual({ name: 'snapshot', bytes: Buffer.from(`${SNAPSHOT} ${polls + 1}`) });
      if (++polls === 20) break;
    }
    expect(errors).toEqual([]);
    // The old hand-written sleep added one listener per poll and never removed it (MaxListenersExceededWarning).
    expect(getEventListeners(controller.signal, 'abort').length).toBe(0);
  });

  it('yields an unchanged snapshot once, and says "unchanged" for each repeat instead', async () => {
    const controller = new AbortController();
    const unchanged: string[] = [];
    const repeats: number[] = [];
    const yielded: unknown[] = [];
    const polling = (async () => {
      const source = pollUrl(
        `${base}/still`,
        10,
        controller.signal,
        () => {},
        (name, repeat) => {
          unchanged.push(name);
          repeats.push(repeat);
          if (unchanged.length === 5) controller.abort();
        },
      );
      for await (const image of source) yielded.push(image);
    })();
    await polling;
    expect(yielded).toEqual([{ name: 'still', bytes: SNAPSHOT }]);
    expect(unchanged).toEqual(['still', 'still', 'still', 'still', 'still']);
    expect(repeats).toEqual([1, 2, 3, 4, 5]);
    expect(getEventListeners(controller.signal, 'abort').length).toBe(0);
  });
});

describe('subscribeImages (mqimg relay)', () => {
  it('yields whole-image messages named after their topic, skipping empty (cleared) ones', async () => {
    const controller = new AbortController();
    const feed = await subscribeImages({ url: broker.url }, 'frigate/+/person/snapshot', controller.signal);
    const camera = await MqttTransport.connect({ url: broker.url });
    try {
      await camera.publish('frigate/door/person/snapshot', new Uint8Array(0));
      await camera.publish('frigate/door/person/snapshot', SNAPSHOT);
      const received: Array<{ name: string; bytes: Buffer }> = [];
      for await (const image of feed) {
        if (typeof image === 'string') throw new Error(`a path: ${image}`);
        received.push(image);
        controller.abort();
      }
      expect(received).toEqual([{ name: 'frigate-door-person-snapshot.jpg', bytes: SNAPSHOT }]);
    } finally {
      await camera.close();
      await feed.close();
    }
  });
});
