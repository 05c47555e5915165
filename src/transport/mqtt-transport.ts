import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { ConnectionError } from '../errors.js';
import { type ConnectOptions, connectClient } from './connect.js';
import { InflightLimiter } from './inflight-limiter.js';
import type { BrokerLimits, MessageHandler, MessageTransport, PublishOptions } from './message-transport.js';
import { type OversizePacketError, watchOversize } from './oversize-watch.js';

export type { ConnectOptions } from './connect.js';
export type { BrokerLimits } from './message-transport.js';
export { OversizePacketError } from './oversize-watch.js';

/** Filters per SUBSCRIBE packet: AWS IoT Core's limit. */
const FILTERS_PER_SUBSCRIBE = 8;
/** Times `subscribe` sends a batch again after the connection dropped under it. */
const SUBSCRIBE_RETRIES = 10;
/** MQTT 5 PUBACK reason code "Not authorized". */
const NOT_AUTHORIZED = 0x87;

/**
 * The one place that talks MQTT. Wraps an mqtt.js client: connects (with MQTT 5 to 3.1.1 fallback, connect.ts),
 * turns refusals into clear errors (connect-errors.ts), keeps at most `limits.maxInflight` QoS 1 publishes waiting
 * for PUBACK (inflight-limiter.ts; mqtt.js itself would put all of them on the socket at once), and reconnects on
 * its own after the first connection. A broker that closes the connection at every large PUBLISH (MQTT 3.1.1 and a
 * packet limit below the chunk size) fails the publishes of that size with an `OversizePacketError`
 * (oversize-watch.ts) instead of reconnecting for ever.
 */
export class MqttTransport implements MessageTransport {
  private readonly handlers: MessageHandler[] = [];
  private readonly inflight: InflightLimiter;
  /** Publishes waiting for their PUBACK, with their payload size, to fail when the broker refuses that size. */
  private readonly pending = new Set<{ payloadBytes: number; fail: (error: Error) => void }>();
  /** Set once the broker refused large packets: payloads this large fail at once. */
  private refusal: OversizePacketError | undefined;

  private constructor(
    private readonly client: MqttClient,
    /** The protocol version in use: 5 or 4 (3.1.1). */
    readonly protocolVersion: 4 | 5,
    /** What the broker allows, from its first CONNACK. */
    readonly limits: BrokerLimits,
    private readonly brokerUrl: string,
  ) {
    this.inflight = new InflightLimiter(limits.maxInflight);
    client.on('message', (topic, payload) => {
      for (const handler of this.handlers) handler(topic, payload);
    });
    watchOversize(client, protocolVersion, (error) => {
      this.refusal = error;
      for (const publish of this.pending) if (publish.payloadBytes >= error.payloadBytes) publish.fail(error);
    });
  }

  /**
   * Connects, or throws a `ConnectionError` that says why not (unreachable, refused credentials, timeout). When
   * `signal` aborts before the broker accepted the connection, gives up and throws an `interrupted` MqimgError.
   */
  static async connect(options: ConnectOptions, signal?: AbortSignal): Promise<MqttTransport> {
    const { client, protocolVersion, limits } = await connectClient(options, signal);
    return new MqttTransport(client, protocolVersion, limits, options.url);
  }

  /** Registers a handler for every incoming PUBLISH (payload: a Buffer); returns a function that removes it. */
  onMessage(handler: MessageHandler): () => void {
    this.handlers.push(handler);
    return () => {
      const at = this.handlers.indexOf(handler);
      if (at >= 0) this.handlers.splice(at, 1);
    };
  }

  /** Removes subscriptions; never throws, and waits at most `timeoutMs` milliseconds (default 1000): the broker may be gone. */
  async unsubscribe(filters: string[], timeoutMs = 1000): Promise<void> {
    if (!this.client.connected) return;
    await settleWithin(this.client.unsubscribeAsync(filters), timeoutMs);
  }

  /**
   * Subscribes at `qos` (default 1), at most 8 filters per SUBSCRIBE packet (AWS IoT Core's limit). A connection
   * that drops meanwhile is waited for (up to `reconnectWaitMs` milliseconds, default 30,000) and the subscription
   * sent again, up to 10 times. Throws a `ConnectionError` ('auth_refused') when the broker refuses a filter.
   */
  async subscribe(filters: string[], qos: 0 | 1 = 1, reconnectWaitMs = 30_000): Promise<void> {
    for (let i = 0; i < filters.length; i += FILTERS_PER_SUBSCRIBE) {
      const batch = filters.slice(i, i + FILTERS_PER_SUBSCRIBE);
      for (let attempt = 0; ; attempt++) {
        try {
          const granted = await this.client.subscribeAsync(batch, { qos });
          const refused = granted.filter((g) => g.qos > 2);
          if (refused.length > 0) {
            throw new ConnectionError(
              'auth_refused',
              `the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')}: check the broker's ACL for this user`,
            );
          }
          break;
        } catch (error) {
          if (error instanceof ConnectionError || this.client.connected || attempt >= SUBSCRIBE_RETRIES)
            throw error;
          await this.waitForConnection(reconnectWaitMs);
        }
      }
    }
  }

  /** Resolves when the client is connected again; throws a ConnectionError after `timeoutMs` milliseconds. */
  private async waitForConnection(timeoutMs: number): Promise<void> {
    if (this.client.connected) return;
    const cancel = new AbortController();
    let onConnect: (() => void) | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          onConnect = resolve;
          this.client.once('connect', onConnect);
        }),
        sleep(timeoutMs, undefined, { signal: cancel.signal }).then(() => {
          throw new ConnectionError(
            'connection_lost',
            `lost the connection to ${this.brokerUrl} and it did not come back within ${Math.round(timeoutMs / 1000)} s`,
          );
        }),
      ]);
    } finally {
      cancel.abort();
      if (onConnect) this.client.off('connect', onConnect);
    }
  }

  /** True while the connection to the broker is up. */
  get connected(): boolean {
    return this.client.connected;
  }

  /** The broker URL, as given to `connect`. */
  get url(): string {
    return this.brokerUrl;
  }

  /** True when another QoS 1 publish can go out without exceeding `limits.maxInflight`. */
  get hasSlot(): boolean {
    return this.inflight.hasSlot;
  }

  /** Resolves when `hasSlot` is true. */
  waitForSlot(): Promise<void> {
    return this.inflight.waitForSlot();
  }

  /**
   * Publishes at QoS 1 (default; or 0), not retained (default), and resolves when the broker acknowledged it. Takes
   * an in-flight slot at once: call it only when `hasSlot` is true, or await `waitForSlot()` first. A `Uint8Array`
   * payload is sent from its own memory, without a copy, and must not change until this resolves (mqtt.js re-sends
   * it after a reconnection). Throws a `ConnectionError` ('auth_refused') when an MQTT 5 broker refuses the topic,
   * and an `OversizePacketError` ('connection_lost') when the broker keeps closing the connection at payloads this
   * large (then at once for any later payload as large).
   */
  publish(topic: string, payload: Uint8Array | string, options: PublishOptions = {}): Promise<void> {
    const message = typeof payload === 'string' ? payload : asBuffer(payload);
    const publishOptions = { qos: options.qos ?? 1, retain: options.retain ?? false };
    const payloadBytes = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
    return this.inflight.run(async () => {
      if (this.refusal && payloadBytes >= this.refusal.payloadBytes) throw this.refusal;
      let fail: (error: Error) => void = () => {};
      const refused = new Promise<never>((_, reject) => {
        fail = reject;
      });
      const entry = { payloadBytes, fail };
      this.pending.add(entry);
      try {
        await Promise.race([this.client.publishAsync(topic, message, publishOptions), refused]);
      } catch (error) {
        // MQTT 5 brokers answer a publish their ACL forbids with PUBACK reason 0x87 (MQTT 3.1.1 ones drop it silently).
        if ((error as { code?: unknown }).code === NOT_AUTHORIZED) {
          throw new ConnectionError(
            'auth_refused',
            `the broker refused to let this client publish on ${topic} (not authorised): check the broker's ACL for this user`,
            error,
          );
        }
        throw error;
      } finally {
        this.pending.delete(entry);
      }
    });
  }

  /**
   * Sends an MQTT PINGREQ. A sender waiting for statuses calls it every few milliseconds: the outgoing packet
   * carries the TCP acknowledgement that a broker without TCP_NODELAY (Mosquitto's default) waits for before it
   * writes the next small message (Nagle's algorithm against the delayed ACK), which otherwise holds each status
   * back for up to ~40 ms.
   */
  nudge(): void {
    if (this.client.connected) this.client.sendPing();
  }

  /** Disconnects cleanly, waiting at most `timeoutMs` milliseconds (default 2000) for outstanding acknowledgements. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.client.connected) await settleWithin(this.client.endAsync(false), timeoutMs);
    if (!this.client.disconnected) await settleWithin(this.client.endAsync(true), timeoutMs);
  }
}

/**
 * The same bytes as a `Buffer`, sharing memory (no copy). mqtt.js wants Buffers, and the deep copy it makes of a
 * stored publish when store-without-copy.ts does not apply would copy a plain `Uint8Array` view together with its
 * whole underlying ArrayBuffer (e.g. the whole 50 MB image for every 32 KiB chunk), a Buffer only its own bytes.
 */
function asBuffer(view: Uint8Array): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Resolves when `work` settles or after `timeoutMs` milliseconds, whichever is first; never throws. The timer is a
 * ref'd one from timers/promises on purpose, not `AbortSignal.timeout` (whose timer is unref'd): an unref'd one lets
 * Node exit with code 0 in the middle of a shutdown that is waiting for a broker.
 */
async function settleWithin(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  const cancel = new AbortController();
  try {
    await Promise.race([work, sleep(timeoutMs, undefined, { signal: cancel.signal })]);
  } catch {
    // `work` failed (the broker is gone): nothing left to wait for.
  } finally {
    cancel.abort();
  }
}
