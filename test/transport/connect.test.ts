import type { IConnackPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { clientOptions, DEFAULT_CONNECT_TIMEOUT_MS, limitsFromConnack } from '../../src/transport/connect.js';

function connack(properties?: IConnackPacket['properties']): IConnackPacket {
  return { cmd: 'connack', returnCode: 0, sessionPresent: false, ...(properties ? { properties } : {}) };
}

describe('limitsFromConnack', () => {
  it('takes Receive Maximum and Maximum Packet Size from an MQTT 5 CONNACK', () => {
    expect(limitsFromConnack(connack({ receiveMaximum: 20, maximumPacketSize: 131_072 }), 5)).toEqual({
      maxInflight: 20,
      maxPacketBytes: 131_072,
    });
  });

  it('caps in-flight publishes at 64, and allows at least one', () => {
    expect(limitsFromConnack(connack({ receiveMaximum: 65_535 }), 5).maxInflight).toBe(64);
    expect(limitsFromConnack(connack(), 5).maxInflight).toBe(64);
    expect(limitsFromConnack(connack({ receiveMaximum: 0 }), 5).maxInflight).toBe(1);
  });

  it('assumes 64 on MQTT 3.1.1, where the broker does not say, and no packet size limit', () => {
    expect(limitsFromConnack(connack(), 4)).toEqual({ maxInflight: 64, maxPacketBytes: undefined });
  });
});

describe('clientOptions', () => {
  it('fails fast on the first connection and checks certificates by default', () => {
    const options = clientOptions({ url: 'mqtt://localhost' }, 5);
    expect(options.reconnectPeriod).toBe(0);
    expect(options.connectTimeout).toBe(DEFAULT_CONNECT_TIMEOUT_MS);
    expect(options.rejectUnauthorized).toBe(true);
    expect(options.clean).toBe(true);
    expect(options.clientId).toMatch(/^mqimg-[0-9a-f]{1,8}$/);
    expect(options.properties?.receiveMaximum).toBe(1024);
  });

  it('passes what was given, and sends no MQTT 5 properties on 3.1.1', () => {
    const options = clientOptions(
      {
        url: 'mqtts://broker',
        username: 'u',
        password: 'p',
        clientId: 'me',
        insecure: true,
        connectTimeoutMs: 500,
        ca: Buffer.from('ca'),
      },
      4,
    );
    expect(options).toMatchObject({
      protocolVersion: 4,
      username: 'u',
      password: 'p',
      clientId: 'me',
      rejectUnauthorized: false,
      connectTimeout: 500,
    });
    expect(options.ca).toEqual(Buffer.from('ca'));
    expect(options.properties).toBeUndefined();
    expect('cert' in options).toBe(false);
  });
});
