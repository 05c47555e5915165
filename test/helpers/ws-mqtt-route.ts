import type { Page } from 'playwright-core';

/** What to do with one PUBLISH the broker sends the page: deliver it, drop it, or deliver other bytes. */
export type PublishVerdict = 'deliver' | 'drop' | { payload: Buffer };

/**
 * Decides the fate of the `nth` (0-based, per topic) PUBLISH on `topic` from the broker to the page. An altered
 * payload must have the same length (it is written over the original).
 */
export type PublishRule = (topic: string, nth: number, payload: Buffer) => PublishVerdict;

/** Splits a byte stream into whole MQTT packets (fixed header, remaining length, body). */
function takePackets(buffer: Buffer): { packets: Buffer[]; rest: Buffer } {
  const packets: Buffer[] = [];
  let at = 0;
  for (;;) {
    let length = 0;
    let multiplier = 1;
    let i = at + 1;
    let complete = false;
    for (; i < buffer.length && i < at + 5; i++) {
      const byte = buffer[i] ?? 0;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) === 0) {
        complete = true;
        break;
      }
    }
    if (!complete) break;
    const end = i + 1 + length;
    if (end > buffer.length) break;
    packets.push(buffer.subarray(at, end));
    at = end;
  }
  return { packets, rest: buffer.subarray(at) };
}

/** Topic and payload offset of a PUBLISH packet (MQTT 3.1.1). */
function publishParts(packet: Buffer): { topic: string; payloadAt: number } {
  let i = 1;
  while ((packet[i] ?? 0) & 0x80) i++;
  i++;
  const topicLength = packet.readUInt16BE(i);
  const topic = packet.subarray(i + 2, i + 2 + topicLength).toString('utf8');
  const qos = ((packet[0] ?? 0) >> 1) & 3;
  return { topic, payloadAt: i + 2 + topicLength + (qos > 0 ? 2 : 0) };
}

/**
 * Puts a man in the middle of the page's MQTT-over-WebSocket connection (Playwright's routeWebSocket): packets from
 * the broker are reassembled from the WebSocket frames, and each PUBLISH is delivered, dropped or altered as `rule`
 * says. Dropped packets must be QoS 0 (the page's chunk subscription), so that no acknowledgement is missed.
 * Returns counters of what was done.
 */
export async function routeMqtt(
  page: Page,
  rule: PublishRule,
): Promise<{ dropped: number; altered: number }> {
  const counts = { dropped: 0, altered: 0 };
  await page.routeWebSocket(/^wss?:/, (ws) => {
    const server = ws.connectToServer();
    const seen = new Map<string, number>();
    let pending = Buffer.alloc(0);
    ws.onMessage((message) => server.send(message));
    ws.onClose(() => server.close());
    server.onClose(() => ws.close());
    server.onMessage((message) => {
      const bytes = typeof message === 'string' ? Buffer.from(message) : message;
      const { packets, rest } = takePackets(Buffer.concat([pending, bytes]));
      pending = Buffer.from(rest);
      for (const packet of packets) {
        if ((packet[0] ?? 0) >> 4 !== 3) {
          ws.send(packet);
          continue;
        }
        const { topic, payloadAt } = publishParts(packet);
        const nth = seen.get(topic) ?? 0;
        seen.set(topic, nth + 1);
        const verdict = rule(topic, nth, packet.subarray(payloadAt));
        if (verdict === 'drop') counts.dropped++;
        else if (verdict === 'deliver') ws.send(packet);
        else {
          counts.altered++;
          const altered = Buffer.from(packet);
          verdict.payload.copy(
            altered,
            payloadAt,
            0,
            Math.min(verdict.payload.length, altered.length - payloadAt),
          );
          ws.send(altered);
        }
      }
    });
  });
  return counts;
}
