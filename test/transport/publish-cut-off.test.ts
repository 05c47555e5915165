import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttTransport } from '../../src/transport/mqtt-transport.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * An aedes broker that never acknowledges publishes on `hold/...` while `holding` is set (it does not answer their
 * authorisation), and whose client connections the test can cut.
 */
async function startHoldingBroker() {
  const state = { holding: true };
  const held: Array<() => void> = [];
  const broker = await Aedes.createBroker({
    authorizePublish: (_client, packet, callback) => {
      if (state.holding && packet.topic.startsWith('hold/')) held.push(() => callback(null));
      else callback(null);
    },
  });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    state,
    held,
    connections: () => sockets.size,
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a publish the connection cut off before it went out', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('is sent once connected again, not failed (mqtt.js fails the publishes queued behind its store replay)', async () => {
    const broker = await startHoldingBroker();
    cleanups.push(() => broker.close());
    const spy = await mqtt.connectAsync(broker.url, { clientId: 'spy' });
    cleanups.push(() => spy.endAsync());
    const got: string[] = [];
    spy.on('message', (topic) => got.push(topic));
    await spy.subscribeAsync('free/#', { qos: 1 });

    const reconnections: string[] = [];
    const transport = await MqttTransport.connect({
      url: broker.url,
      clientId: 'tx',
      mqttVersion: 4,
      onConnectionEvent: (kind) => reconnections.push(kind),
    });
    cleanups.push(() => transport.close(500));

    // A publish the broker does not acknowledge: mqtt.js keeps it, and replays it first after a reconnection,
    // one stored publish at a time, each waiting for its PUBACK, queueing anything newer behind it.
    const heldPublish = transport.publish('hold/a', 'a');
    await waitUntil('the broker to hold the first publish', () => broker.held.length === 1);
    const connectionsBefore = reconnections.length;
    broker.cut();
    await waitUntil('the replay of the held publish after reconnecting', () => broker.held.length === 2);
    expect(reconnections.length).toBeGreaterThan(connectionsBefore);

    // Queued behind the replay, then cut off with it: mqtt.js fails it with "Connection closed".
    const cutOff = transport.publish('free/b', 'b');
    const outcome = cutOff.then(
      () => 'sent',
      (error: Error) => `failed: ${error.message}`,
    );
    broker.cut();
    await waitUntil('the second replay after reconnecting again', () => broker.held.length === 3);
    broker.state.holding = false;
    for (const release of broker.held.splice(0)) release();

    expect(await outcome).toBe('sent');
    await heldPublish;
    await waitUntil('the spy to receive free/b', () => got.includes('free/b'));
  }, 30_000);
});
