import { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';

/**
 * MqttTransport replaces one internal method of mqtt.js (`_storeAndSend`, so that QoS 1 payloads are not deep-copied
 * into the outgoing store; see storeWithoutCopy in src/transport/mqtt-transport.ts). If an mqtt.js upgrade renames
 * it, the transport silently falls back to mqtt.js's copying behaviour: correct, but slower. This test makes such
 * an upgrade visible instead.
 */
describe('mqtt.js internals the transport relies on', () => {
  it('still has _storeAndSend and _writePacket on MqttClient', () => {
    const proto = MqttClient.prototype as unknown as Record<string, unknown>;
    expect(typeof proto._storeAndSend).toBe('function');
    expect(typeof proto._writePacket).toBe('function');
    // The replacement assumes this signature: (packet, cb, cbStorePut).
    expect((proto._storeAndSend as (...args: unknown[]) => void).length).toBe(3);
  });
});
