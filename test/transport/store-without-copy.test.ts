import { randomBytes } from 'node:crypto';
import mqtt, { type IPublishPacket, type Packet, Store } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MqttTransport } from '../../src/transport/mqtt-transport.js';
import { storeWithoutCopy } from '../../src/transport/store-without-copy.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { mosquittoRequired, useMosquitto } from '../helpers/mosquitto.js';

/**
 * store-without-copy.ts replaces an internal method of mqtt.js (`MqttClient._storeAndSend`) so that QoS 1 payloads
 * are not deep-copied into the outgoing store. If an mqtt.js upgrade changes those internals, the patch stops
 * applying (correct, slower) or, worse, applies to a method that now means something else. These tests make
 * either visible: the internals it assumes, what the store holds, and what a reconnection re-sends.
 */

type Callback = (error?: Error) => void;
interface Internals {
  _storeAndSend(packet: IPublishPacket, cb: Callback | undefined, cbStorePut: () => void): void;
  _writePacket(packet: Packet, cb?: Callback): void;
  outgoingStore: Store;
}

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * An mqtt.js client that never connects (no socket, no timer: nothing to end), with `_writePacket` recording what
 * it would write.
 */
function offlineClient(patched: boolean): { internals: Internals; written: Packet[] } {
  const client = mqtt.connect('mqtt://127.0.0.1:1', { manualConnect: true, reconnectPeriod: 0 });
  if (patched) expect(storeWithoutCopy(client)).toBe(true);
  const internals = client as unknown as Internals;
  const written: Packet[] = [];
  internals._writePacket = (packet, cb) => {
    written.push(packet);
    cb?.();
  };
  return { internals, written };
}

function stored(store: Store, messageId: number): Promise<Packet> {
  return new Promise((resolve, reject) =>
    store.get({ messageId }, (error, packet) => (error || !packet ? reject(error) : resolve(packet))),
  );
}

/**
 * True when `payload` is a Buffer over exactly `view`'s memory. The checks below compare identities as booleans:
 * a failed `toBe` between two large buffers makes vitest diff them for minutes.
 */
function sharesMemory(payload: IPublishPacket['payload'] | undefined, view: Uint8Array): boolean {
  return (
    Buffer.isBuffer(payload) &&
    payload.buffer === view.buffer &&
    payload.byteOffset === view.byteOffset &&
    payload.byteLength === view.byteLength
  );
}

function publishPacket(payload: Buffer, properties?: IPublishPacket['properties']): IPublishPacket {
  return {
    cmd: 'publish',
    topic: 'mqimg-test/a',
    payload,
    qos: 1,
    dup: false,
    retain: false,
    messageId: 7,
    ...(properties ? { properties } : {}),
  };
}

describe('the mqtt.js internals store-without-copy.ts replaces', () => {
  it('MqttClient still has _storeAndSend(packet, cb, cbStorePut) and _writePacket', () => {
    const proto = mqtt.MqttClient.prototype as unknown as Record<string, unknown>;
    expect(typeof proto._storeAndSend).toBe('function');
    expect(typeof proto._writePacket).toBe('function');
    expect((proto._storeAndSend as (...args: unknown[]) => void).length).toBe(3);
  });

  it('mqtt.js alone stores a copy of the publish (what the patch avoids; proves the checks below can fail)', async () => {
    const { internals, written } = offlineClient(false);
    const packet = publishPacket(Buffer.from('chunk'));
    internals._storeAndSend(packet, undefined, () => {});
    const kept = (await stored(internals.outgoingStore, 7)) as IPublishPacket;
    expect(kept).not.toBe(packet);
    expect(kept.payload).not.toBe(packet.payload);
    expect(written).toEqual([packet]);
  });

  it('stores and writes the publish itself, after calling cbStorePut', async () => {
    const { internals, written } = offlineClient(true);
    const packet = publishPacket(Buffer.from('chunk'));
    const order: string[] = [];
    internals._storeAndSend(
      packet,
      () => order.push('written'),
      () => order.push('stored'),
    );
    const kept = (await stored(internals.outgoingStore, 7)) as IPublishPacket;
    expect(kept === packet, 'the store holds the packet itself').toBe(true);
    expect(written).toEqual([packet]);
    expect(written[0]).toBe(packet);
    expect(order).toEqual(['stored', 'written']);
  });

  it('leaves a publish with a topic alias to mqtt.js, which stores a copy without the alias', async () => {
    const { internals, written } = offlineClient(true);
    const packet = publishPacket(Buffer.from('chunk'), { topicAlias: 3 });
    internals._storeAndSend(packet, undefined, () => {});
    const kept = (await stored(internals.outgoingStore, 7)) as IPublishPacket;
    expect(kept).not.toBe(packet);
    expect(kept.properties?.topicAlias).toBeUndefined();
    expect(written[0]).toBe(packet);
  });
});

describe.skipIf(!mosquittoRequired())('MqttTransport against Mosquitto: no copies, identical resends', () => {
  const broker = useMosquitto();
  const TOPIC = 'mqimg-test/store';

  /** Every PUBLISH put into an outgoing store from now on, on `topic`'s branch. */
  function watchStore(): () => IPublishPacket[] {
    const put = vi.spyOn(Store.prototype, 'put');
    return () =>
      put.mock.calls
        .map(([packet]) => packet)
        .filter((p): p is IPublishPacket => p.cmd === 'publish' && String(p.topic).startsWith(TOPIC));
  }

  async function subscriber(): Promise<{ transport: MqttTransport; received: Map<string, Buffer[]> }> {
    const transport = await MqttTransport.connect({ url: broker.url });
    const received = new Map<string, Buffer[]>();
    transport.onMessage((topic, payload) => {
      received.set(topic, [...(received.get(topic) ?? []), Buffer.from(payload)]);
    });
    await transport.subscribe([`${TOPIC}/#`]);
    return { transport, received };
  }

  it('keeps the caller’s Buffer, and a Buffer over a Uint8Array view’s own memory, in the store', async () => {
    const storedPublishes = watchStore();
    const sender = await MqttTransport.connect({ url: broker.url });
    const rx = await subscriber();
    try {
      const buffer = randomBytes(1000);
      const image = new Uint8Array(randomBytes(100_000));
      const view = image.subarray(4096, 4096 + 32_768);
      await sender.publish(`${TOPIC}/buffer`, buffer);
      await sender.publish(`${TOPIC}/view`, view);

      const [keptBuffer, keptView] = storedPublishes();
      expect(keptBuffer?.payload === buffer, 'the stored payload is the Buffer given').toBe(true);
      expect(sharesMemory(keptView?.payload, view), 'the stored payload is a Buffer over the view').toBe(
        true,
      );

      await vi.waitFor(() => expect(rx.received.size).toBe(2));
      const [gotBuffer, gotView] = [rx.received.get(`${TOPIC}/buffer`), rx.received.get(`${TOPIC}/view`)];
      expect(gotBuffer?.length === 1 && gotBuffer[0]?.equals(buffer), 'the Buffer arrived intact').toBe(true);
      expect(gotView?.length === 1 && gotView[0]?.equals(view), 'the view arrived intact').toBe(true);
    } finally {
      await sender.close();
      await rx.transport.close();
    }
  });

  it.each([5, 4] as const)(
    'MQTT %s: a reconnection in mid-flight re-sends byte-identical payloads of the unacknowledged publishes',
    async (mqttVersion) => {
      const COUNT = 16;
      const CHUNK = 32_768;
      const storedPublishes = watchStore();
      const proxy = await startLossyProxy(broker.port, {});
      const events: string[] = [];
      const sender = await MqttTransport.connect({
        url: proxy.url,
        mqttVersion,
        onConnectionEvent: (event) => events.push(event),
      });
      const rx = await subscriber();
      try {
        // Chunks are views into one image, at an odd offset, as the sender publishes them.
        const image = new Uint8Array(randomBytes(COUNT * CHUNK + 7));
        const views = Array.from({ length: COUNT }, (_, i) =>
          image.subarray(7 + i * CHUNK, 7 + (i + 1) * CHUNK),
        );
        // Hold everything the sender writes in the proxy, then cut the connection: the broker never sees the
        // first sending, and every publish waits for its PUBACK in mqtt.js's outgoing store.
        proxy.stall(10_000);
        const publishes = views.map((view, i) => sender.publish(`${TOPIC}/resend/${i}`, view));
        await vi.waitFor(() => expect(storedPublishes()).toHaveLength(COUNT));
        const copied = storedPublishes().filter(
          (packet, i) => !sharesMemory(packet.payload, views[i] ?? image),
        );
        expect(copied.map((packet) => packet.topic)).toEqual([]);
        expect(rx.received.size).toBe(0);

        proxy.cut();
        await Promise.all(publishes);
        expect(events).toEqual(['offline', 'reconnected']);

        await vi.waitFor(() => expect(rx.received.size).toBe(COUNT));
        const differing = views
          .map((view, i) => ({ i, copies: rx.received.get(`${TOPIC}/resend/${i}`) ?? [], view }))
          .filter(({ copies, view }) => copies.length === 0 || copies.some((copy) => !copy.equals(view)))
          .map(({ i }) => i);
        expect(differing, 'chunks that arrived with other bytes').toEqual([]);
        // The re-sending stored nothing new (no copies on the way either).
        expect(storedPublishes()).toHaveLength(COUNT);
      } finally {
        await sender.close();
        await rx.transport.close();
        await proxy.close();
      }
    },
  );
});
