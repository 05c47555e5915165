import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { MqttTransport, OversizePacketError } from '../../src/transport/mqtt-transport.js';
import { mosquittoRequired, useMosquitto } from '../helpers/mosquitto.js';

describe.skipIf(!mosquittoRequired())('MQTT 3.1.1 and a broker that refuses packets that large', () => {
  const broker = useMosquitto(['max_packet_size 10000']);

  it('fails a 32 KiB publish within seconds with a message that names the size and --chunk-size', async () => {
    const transport = await MqttTransport.connect({ url: broker.url, mqttVersion: 4 });
    try {
      expect(transport.protocolVersion).toBe(4);
      const started = Date.now();
      const error = await transport.publish('oversize/test', new Uint8Array(32 * 1024)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(error).toBeInstanceOf(OversizePacketError);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ code: 'connection_lost', exitCode: 4, payloadBytes: 32_768 });
      expect((error as Error).message).toMatch(
        /closed the connection 3 times right after a 32768-byte chunk .*MQTT 3\.1\.1 gives no reason.*use a smaller --chunk-size, e\.g\. 8192/,
      );
      // Later publishes that large fail at once; smaller ones get through once mqtt.js stops re-sending the big one.
      await expect(transport.publish('oversize/test', new Uint8Array(40_000))).rejects.toBe(error);
      await expect(transport.publish('oversize/test', new Uint8Array(4096))).resolves.toBeUndefined();
    } finally {
      await transport.close();
    }
  }, 20_000);
});
