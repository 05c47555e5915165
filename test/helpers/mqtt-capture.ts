import mqtt from 'mqtt';
import { withTimeout } from './wait.js';

/** A message a spy on the broker received. */
export interface CapturedMessage {
  topic: string;
  payload: Buffer;
  /** Delivered as a retained message (it was on the broker when the spy subscribed). */
  retain: boolean;
  /** When the spy received it: `performance.now()`, milliseconds. */
  atMs: number;
}

/**
 * Every message published under `prefix/#` while `during` runs, in order. Then the spy publishes a marker under the
 * same prefix and stops at its echo: the broker queued everything published before it (and every retained
 * message) for the spy first, so nothing published during `during` is missed.
 */
export async function capture(
  url: string,
  prefix: string,
  during: () => Promise<void>,
): Promise<CapturedMessage[]> {
  const id = Math.random().toString(16).slice(2);
  const spy = await mqtt.connectAsync(url, { clientId: `spy-${id}` });
  const marker = `${prefix}/capture-end-${id}`;
  const seen: CapturedMessage[] = [];
  let markerSeen = () => {};
  const markerEcho = new Promise<void>((resolve) => {
    markerSeen = resolve;
  });
  spy.on('message', (topic, payload, packet) => {
    if (topic === marker) markerSeen();
    else seen.push({ topic, payload: Buffer.from(payload), retain: packet.retain, atMs: performance.now() });
  });
  await spy.subscribeAsync(`${prefix}/#`, { qos: 1 });
  try {
    await during();
    await spy.publishAsync(marker, 'end', { qos: 1 });
    await withTimeout(markerEcho, 10_000, `the echo of ${marker}`);
  } finally {
    await spy.endAsync();
  }
  return seen;
}
