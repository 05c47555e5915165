import mqtt, { type MqttClient } from 'mqtt';
import { type Manifest, parseManifest } from '../../src/protocol/manifest/manifest.js';
import { parseTopic } from '../../src/protocol/wire/topics.js';

/**
 * A raw MQTT client playing the attacker of issue 11: anyone allowed to publish and subscribe on the broker, with
 * PROTOCOL.md in hand. It reads manifests and statuses like any subscriber and publishes whatever it likes.
 */
export interface Attacker {
  client: MqttClient;
  /** Calls `react` for every plain manifest published under `filter` (e.g. `cam/1/mqimg/+/m`) from now on. */
  onManifest(
    filter: string,
    react: (topic: string, manifest: Manifest) => void | Promise<void>,
  ): Promise<void>;
  /** Calls `react` for every status (`T/mqimg/ID/r`) published under `filter` from now on, parsed as JSON. */
  onStatus(
    filter: string,
    react: (topic: string, status: Record<string, unknown>) => void | Promise<void>,
  ): Promise<void>;
  /** Counts the messages on topics matching `filter`, from now on. */
  count(filter: string): Promise<() => number>;
  /** Publishes `status` (JSON) on `T/mqimg/ID/r`, QoS 1. */
  forgeStatus(topic: string, id: string, status: Record<string, unknown>): Promise<void>;
  /** Errors thrown by the reactions (a test asserts there were none). */
  errors: unknown[];
  end(): Promise<void>;
}

/** MQTT topic filter matching, for the attacker's own dispatching. */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Connects an attacker to `url` (MQTT 3.1.1, like the 60-line client). */
export async function connectAttacker(url: string, name = 'attacker'): Promise<Attacker> {
  const client = await mqtt.connectAsync(url, {
    clientId: `${name}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
  });
  const handlers: Array<{ filter: string; handle: (topic: string, payload: Buffer) => void }> = [];
  const errors: unknown[] = [];
  client.on('message', (topic, payload) => {
    for (const h of handlers) if (matches(h.filter, topic)) h.handle(topic, payload);
  });
  const guard = (run: () => void | Promise<void>) => {
    try {
      const result = run();
      if (result instanceof Promise) result.catch((error) => errors.push(error));
    } catch (error) {
      errors.push(error);
    }
  };
  const listen = async (filter: string, handle: (topic: string, payload: Buffer) => void) => {
    handlers.push({ filter, handle });
    await client.subscribeAsync(filter, { qos: 1 });
  };
  return {
    client,
    errors,
    onManifest: (filter, react) =>
      listen(filter, (topic, payload) => {
        const parsed = parseManifest(payload);
        if (parsed.ok) guard(() => react(topic, parsed.manifest));
      }),
    onStatus: (filter, react) =>
      listen(filter, (topic, payload) => {
        if (parseTopic(topic)?.kind !== 'status') return;
        let status: Record<string, unknown>;
        try {
          status = JSON.parse(payload.toString()) as Record<string, unknown>;
        } catch {
          return; // sealed (encrypted) statuses are not JSON
        }
        guard(() => react(topic, status));
      }),
    async count(filter) {
      let n = 0;
      await listen(filter, () => {
        n++;
      });
      return () => n;
    },
    async forgeStatus(topic, id, status) {
      await client.publishAsync(`${topic}/mqimg/${id}/r`, JSON.stringify(status), { qos: 1 });
    },
    end: () => client.endAsync(),
  };
}

/** A running flood of forged repair requests (`floodRepairRequests`). */
export interface RepairFlood {
  /** Forged statuses published so far. */
  requests(): number;
  stop(): void;
}

/**
 * Forges, every `everyMs`, a `receiving` status from each of `rxIds` that asks for every one of `chunks` chunks
 * again, for every transfer `atk` sees a manifest of on `topic`.
 */
export async function floodRepairRequests(
  atk: Attacker,
  topic: string,
  chunks: number,
  rxIds: string[],
  everyMs: number,
): Promise<RepairFlood> {
  const ids = new Set<string>();
  await atk.onManifest(`${topic}/mqimg/+/m`, (_t, m) => {
    ids.add(m.id);
  });
  const everything = { state: 'receiving', next: 0, high: chunks - 1, missing: [[0, chunks - 1]], win: 256 };
  let requests = 0;
  const timer = setInterval(() => {
    for (const id of ids) {
      for (const rx of rxIds) {
        requests++;
        void atk.forgeStatus(topic, id, { rx, ...everything });
      }
    }
  }, everyMs);
  return { requests: () => requests, stop: () => clearInterval(timer) };
}
