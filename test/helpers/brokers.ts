import { startCli } from './cli.js';
import { mosquittoRequired, startMosquitto } from './mosquitto.js';
import { natsRequired, startNats } from './nats.js';
import { freePort } from './ports.js';
import { rabbitmqRequired, startRabbitMq } from './rabbitmq.js';

/** A broker a test suite runs against. */
export interface TestBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Longest a broker's start may take, in milliseconds (RabbitMQ waits for another test process using it). */
export const BROKER_START_TIMEOUT_MS = 150_000;

/** Brokers every end-to-end suite runs against (ARCHITECTURE idea 4: one suite, every implementation). */
export const BROKERS: Array<{
  name: string;
  enabled: boolean;
  start: () => Promise<TestBroker>;
}> = [
  {
    name: 'aedes via `mqimg broker` (MQTT 3.1.1 only)',
    enabled: true,
    async start() {
      const port = await freePort();
      const broker = startCli(['broker', '--port', String(port)]);
      await broker.waitForOutput('listening');
      return {
        url: `mqtt://127.0.0.1:${port}`,
        port,
        async stop() {
          broker.child.kill('SIGINT');
          await broker.done;
        },
      };
    },
  },
  {
    name: 'NATS (MQTT 3.1.1 on JetStream)',
    // Like Mosquitto: in CI a missing nats-server makes startNats throw (a failure); locally the suite is skipped.
    enabled: natsRequired(),
    start: () => startNats(),
  },
  {
    name: 'RabbitMQ (its MQTT plugin, MQTT 3.1.1)',
    // The service's plugin, enabled on a port of its own for the suite (test/helpers/rabbitmq.ts). In CI a missing
    // or stopped RabbitMQ makes startRabbitMq throw (a failure); locally the suite is skipped without rabbitmqctl.
    enabled: rabbitmqRequired(),
    start: () => startRabbitMq(),
  },
  {
    name: 'Mosquitto (MQTT 5 and 3.1.1)',
    // In CI a missing mosquitto binary makes startMosquitto throw: a failure, not a skip.
    enabled: mosquittoRequired(),
    start: () => startMosquitto(),
  },
];
