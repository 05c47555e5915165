import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { rewriteConnect } from '../../src/broker/ws-relay.js';

/** A CONNECT packet as mqtt.js writes it, and the same packet read back by mqtt.js's own parser. */
function connect(packet: Record<string, unknown>, protocolVersion: 4 | 5): Buffer {
  return mqttPacket.generate({ cmd: 'connect', ...packet } as mqttPacket.IConnectPacket, { protocolVersion });
}

function parse(bytes: Buffer, protocolVersion: 4 | 5): mqttPacket.IConnectPacket {
  const parser = mqttPacket.parser({ protocolVersion });
  let out: mqttPacket.Packet | undefined;
  parser.on('packet', (p) => {
    out = p;
  });
  parser.on('error', (e) => {
    throw e;
  });
  parser.parse(bytes);
  if (out?.cmd !== 'connect') throw new Error('no CONNECT parsed');
  return out;
}

describe('the display relay: the page CONNECT gets the server’s credentials', () => {
  it.each([4, 5] as const)(
    'MQTT %i: replaces user and password, keeps client id, will and properties',
    (v) => {
      const page = connect(
        {
          protocolId: 'MQTT',
          protocolVersion: v,
          clean: true,
          keepalive: 30,
          clientId: 'mqimg-page-1',
          username: 'page-guess',
          will: {
            topic: 'cam/1/state',
            payload: Buffer.from('gone'),
            qos: 1,
            retain: false,
            ...(v === 5 ? { properties: { willDelayInterval: 5 } } : {}),
          },
          ...(v === 5 ? { properties: { sessionExpiryInterval: 60, receiveMaximum: 32 } } : {}),
        },
        v,
      );
      const relayed = parse(
        rewriteConnect(page, { username: 'alice', password: 's3cret' }) ?? Buffer.alloc(0),
        v,
      );
      expect(relayed.username).toBe('alice');
      expect(String(relayed.password)).toBe('s3cret');
      expect(relayed.clientId).toBe('mqimg-page-1');
      expect(relayed.keepalive).toBe(30);
      expect(relayed.will?.topic).toBe('cam/1/state');
      expect(String(relayed.will?.payload)).toBe('gone');
      if (v === 5)
        expect(relayed.properties).toMatchObject({ sessionExpiryInterval: 60, receiveMaximum: 32 });
    },
  );

  it('keeps the page’s credentials when the server has none, and adds them to a CONNECT without any', () => {
    const withUser = connect(
      { protocolId: 'MQTT', protocolVersion: 4, clientId: 'p', username: 'u', password: Buffer.from('p') },
      4,
    );
    expect(parse(rewriteConnect(withUser, {}) ?? Buffer.alloc(0), 4)).toMatchObject({ username: 'u' });
    const bare = connect({ protocolId: 'MQTT', protocolVersion: 4, clientId: 'p' }, 4);
    const added = parse(rewriteConnect(bare, { username: 'alice', password: 'pw' }) ?? Buffer.alloc(0), 4);
    expect([added.username, String(added.password)]).toEqual(['alice', 'pw']);
  });

  it('refuses what is not a CONNECT', () => {
    expect(rewriteConnect(Buffer.from([0x30, 0x02, 0x00, 0x00]), { username: 'a' })).toBeUndefined();
  });
});
