import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { ConnectionError, MqimgError, messageOf } from '../errors.js';
import { type Clock, monotonicClock, realScheduler, type Scheduler } from '../util/clock.js';
import type { BrokerList } from './broker-list.js';
import { type ConnectOptions, connectClient } from './connect.js';
import { HearingProbe, type HearingProbeOptions } from './hearing-probe.js';
import { InflightLimiter } from './inflight-limiter.js';
import type { BrokerLimits, MessageHandler, MessageTransport, PublishOptions } from './message-transport.js';
import { type OversizePacketError, watchOversize } from './oversize-watch.js';
import { describeReasonCode, SubscriptionKeeper } from './subscription-keeper.js';

export type { ConnectionEvent, ConnectOptions } from './connect.js';
export type { BrokerLimits } from './message-transport.js';
export { OversizePacketError } from './oversize-watch.js';

/** MQTT 5 PUBACK reason code "Not authorized". */
const NOT_AUTHORIZED = 0x87;

/** How a transport times its subscription retries and probes. */
export interface TransportTiming {
  /** Default `performance.now`. */
  clock?: Clock;
  /** Default the host's timers. */
  scheduler?: Scheduler;
  /**
   * How long a subscription the broker refuses is asked for again before it is given up (`subscription_refused`,
   * exit 4; subscription-keeper.ts), in milliseconds. Default 30,000. Senders and receivers pass their `--timeout`.
   */
  subscribeGiveUpMs?: number;
}

/**
 * The one place that talks MQTT. Wraps an mqtt.js client: connects (with MQTT 5 to 3.1.1 fallback, connect.ts; to
 * the first of several brokers that answers, broker-list.ts), turns refusals into clear errors (connect-errors.ts),
 * keeps at most `limits.maxInflight` QoS 1 publishes waiting for PUBACK (inflight-limiter.ts; mqtt.js itself would
 * put all of them on the socket at once), and reconnects on its own after the first connection (to the next broker
 * when several are given). Its subscriptions are checked and made again after every reconnection
 * (subscription-keeper.ts); one given up makes the transport fail (`failure`, `onFailure`). A broker that closes
 * the connection at every large PUBLISH (MQTT 3.1.1 and a packet limit below the chunk size) fails the publishes of
 * that size with an `OversizePacketError` (oversize-watch.ts) instead of reconnecting for ever.
 */
export class MqttTransport implements MessageTransport {
  private readonly handlers: MessageHandler[] = [];
  private readonly inflight: InflightLimiter;
  /** Publishes waiting for their PUBACK, with their payload size, to fail when the broker refuses that size. */
  private readonly pending = new Set<{ payloadBytes: number; fail: (error: Error) => void }>();
  /** Set once the broker refused large packets: payloads this large fail at once. */
  private refusal: OversizePacketError | undefined;
  private readonly keeper: SubscriptionKeeper;
  private readonly failureHandlers = new Set<(error: ConnectionError) => void>();
  private failed: ConnectionError | undefined;
  private probe: HearingProbe | undefined;
  private readonly timing: { clock: Clock; scheduler: Scheduler };
  /** Set by `close`: publishes cut off by the connection are then not tried again. */
  private closing = false;
  /** Publishes waiting for the next connection to be tried again (`nextConnection`): told when none will come. */
  private readonly awaitingConnection = new Set<(error?: Error) => void>();

  private constructor(
    private readonly client: MqttClient,
    /** The protocol version in use: 5 or 4 (3.1.1). */
    readonly protocolVersion: 4 | 5,
    /** What the broker allows, from its first CONNACK. */
    readonly limits: BrokerLimits,
    private readonly brokers: BrokerList,
    private readonly options: ConnectOptions,
    timing: TransportTiming,
  ) {
    this.timing = { clock: timing.clock ?? monotonicClock, scheduler: timing.scheduler ?? realScheduler };
    this.inflight = new InflightLimiter(limits.maxInflight);
    client.on('message', (topic, payload) => {
      for (const handler of this.handlers) handler(topic, payload);
    });
    watchOversize(client, protocolVersion, (error) => {
      this.refusal = error;
      for (const publish of this.pending) if (publish.payloadBytes >= error.payloadBytes) publish.fail(error);
    });
    const events = {
      refused: 'subscription_refused',
      refused_again: 'subscription_refused_again',
      accepted: 'subscription_accepted',
    } as const;
    this.keeper = new SubscriptionKeeper(
      {
        sendSubscribe: (filters, qos) => this.sendSubscribe(filters, qos),
        get connected() {
          return client.connected;
        },
        get url() {
          return brokers.current;
        },
      },
      {
        ...this.timing,
        ...(timing.subscribeGiveUpMs !== undefined ? { giveUpAfterMs: timing.subscribeGiveUpMs } : {}),
        onEvent: (event) => options.onConnectionEvent?.(events[event.kind], event.detail),
        onFailure: (error) => this.fail(error),
      },
    );
    // Registered after the first CONNACK: every later 'connect' is a reconnection, where the broker (clean session)
    // forgot the subscriptions.
    client.on('connect', () => {
      this.keeper.reconnected();
      for (const wake of [...this.awaitingConnection]) wake();
    });
  }

  /**
   * Resolves once the client is connected (at once if it is), or rejects with why it never will be again: the
   * transport was closed or failed.
   */
  private nextConnection(): Promise<void> {
    if (this.closing || this.failed)
      return Promise.reject(this.failed ?? new Error('the transport was closed'));
    if (this.client.connected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const wake = (error?: Error) => {
        this.awaitingConnection.delete(wake);
        if (error) reject(error);
        else resolve();
      };
      this.awaitingConnection.add(wake);
    });
  }

  /**
   * Connects, or throws a `ConnectionError` that says why not (unreachable, refused credentials, timeout). When
   * `signal` aborts before the broker accepted the connection, gives up and throws an `interrupted` MqimgError.
   * `timing` sets the clock and scheduler of subscription retries and probes (default the real ones).
   */
  static async connect(
    options: ConnectOptions,
    signal?: AbortSignal,
    timing: TransportTiming = {},
  ): Promise<MqttTransport> {
    const { client, protocolVersion, limits, brokers } = await connectClient(options, signal);
    return new MqttTransport(client, protocolVersion, limits, brokers, options, timing);
  }

  /** Registers a handler for every incoming PUBLISH (payload: a Buffer); returns a function that removes it. */
  onMessage(handler: MessageHandler): () => void {
    this.handlers.push(handler);
    return () => {
      const at = this.handlers.indexOf(handler);
      if (at >= 0) this.handlers.splice(at, 1);
    };
  }

  /**
   * Removes subscriptions (they are no longer made again after a reconnection); never throws, and waits at most
   * `timeoutMs` milliseconds (default 1000): the broker may be gone.
   */
  async unsubscribe(filters: string[], timeoutMs = 1000): Promise<void> {
    this.keeper.forget(filters);
    if (!this.client.connected) return;
    await settleWithin(this.client.unsubscribeAsync(filters), timeoutMs);
  }

  /**
   * Subscribes at `qos` (default 1), at most 8 filters per SUBSCRIBE packet (AWS IoT Core's limit), and resolves
   * once the broker granted every filter. The subscriptions are made again after every reconnection, each SUBACK
   * checked. A refusal is asked for again with backoff (subscription-keeper.ts) for up to `subscribeGiveUpMs`
   * (default 30 s); then this throws a `ConnectionError`: `auth_refused` for MQTT 5 "not authorised" (at once),
   * `subscription_refused` otherwise, `connection_lost` when the connection stayed down that long.
   */
  subscribe(filters: string[], qos: 0 | 1 = 1): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return this.keeper.subscribe(filters, qos);
  }

  /** One SUBSCRIBE: the SUBACK's granted QoS or failure code of each filter, in order (for the keeper). */
  private async sendSubscribe(filters: string[], qos: 0 | 1): Promise<number[]> {
    try {
      const granted = await this.client.subscribeAsync(filters, { qos });
      return filters.map((filter) => granted.find((g) => g.topic === filter)?.qos ?? 0x80);
    } catch (error) {
      // mqtt.js rejects a SUBACK with a failure code, the packet attached: that is an answer, not an error.
      const codes = (error as { packet?: { granted?: unknown } }).packet?.granted;
      if (Array.isArray(codes)) return codes.map((c) => (typeof c === 'number' ? c : 0x80));
      throw error;
    }
  }

  /**
   * Set once the transport cannot go on (a subscription made again after a reconnection was refused for good, or a
   * publish refused as not authorised, MQTT 5 PUBACK 0x87): the session must end with this error.
   */
  get failure(): ConnectionError | undefined {
    return this.failed;
  }

  /** Calls `handler` once the transport fails (see `failure`); returns a function that removes it. */
  onFailure(handler: (error: ConnectionError) => void): () => void {
    if (this.failed) {
      handler(this.failed);
      return () => {};
    }
    this.failureHandlers.add(handler);
    return () => this.failureHandlers.delete(handler);
  }

  private fail(error: ConnectionError): void {
    if (this.failed) return;
    this.failed = error;
    for (const wake of [...this.awaitingConnection]) wake(error);
    for (const handler of this.failureHandlers) handler(error);
  }

  /**
   * Makes a receiver that hears nothing for long prove it is still subscribed: a QoS 1 probe to itself on `topic`
   * (hearing-probe.ts), and its subscriptions made again, then a reconnection, when it does not come back.
   */
  startProbe(options: Pick<HearingProbeOptions, 'topic' | 'idleMs' | 'answerMs'>): Promise<void> {
    this.probe?.stop();
    const probe = new HearingProbe(
      {
        // The ACL may keep a least-privilege receiver from its probe topic: then probing is off, nothing ends.
        publish: (topic, payload) => this.publish(topic, payload, { optional: true }),
        subscribe: (filters) => this.subscribe(filters, 1),
        onMessage: (handler) => this.onMessage(handler),
        renew: () => this.keeper.renew(),
        reconnect: () => this.client.stream?.destroy(),
        connectedNow: () => this.client.connected,
        onReconnect: (handler) => {
          this.client.on('connect', handler);
          return () => this.client.off('connect', handler);
        },
      },
      {
        ...this.timing,
        ...options,
        onEvent: (event, detail) => this.options.onConnectionEvent?.(event, detail),
      },
    );
    this.probe = probe;
    return probe.start();
  }

  /** True while the connection to the broker is up. */
  get connected(): boolean {
    return this.client.connected;
  }

  /** The URL of the broker connected to now (or last, while reconnecting). */
  get url(): string {
    return this.brokers.current;
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
   * it after a reconnection, and this sends one cut off before it went out once connected again, until `close`).
   * Throws a `ConnectionError` ('auth_refused') when an MQTT 5 broker refuses the topic,
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
      refused.catch(() => {}); // raced below; a refusal while no race awaits it must not be an unhandled rejection
      const entry = { payloadBytes, fail };
      this.pending.add(entry);
      try {
        for (;;) {
          try {
            await Promise.race([this.client.publishAsync(topic, message, publishOptions), refused]);
            return;
          } catch (error) {
            // mqtt.js fails a publish it queued behind the replay of its store after a reconnection when that
            // connection drops too (a cluster node that accepts clients and closes them while it recovers): it was
            // never sent, so it goes out once connected again, as the ones mqtt.js kept do.
            if (!isCutOff(error) || this.closing || this.failed) throw error;
            await Promise.race([
              this.nextConnection().catch(() => {
                throw error;
              }),
              refused,
            ]);
          }
        }
      } catch (error) {
        if (error instanceof MqimgError) throw error;
        const code = (error as { code?: unknown }).code;
        // MQTT 5 brokers answer a publish their ACL forbids with PUBACK reason 0x87 (MQTT 3.1.1 ones drop it silently).
        if (code === NOT_AUTHORIZED) {
          // An ACL does not change by itself: the session ends (`failure`), also for a receiver whose status
          // publishes nobody awaits, which would otherwise go on unheard while senders report no_receiver.
          const refused = new ConnectionError(
            'auth_refused',
            `the broker at ${this.url} refused to let this client publish on ${topic} (not authorised): check the broker's ACL for this user`,
            error,
          );
          if (!options.optional) this.fail(refused);
          throw refused;
        }
        if (typeof code === 'number' && code >= 0x80) {
          throw new ConnectionError(
            'publish_refused',
            `the broker at ${this.url} refused a publish on ${topic} (PUBACK ${describeReasonCode(code)})`,
            error,
          );
        }
        // mqtt.js fails the publishes still waiting when the client is closed or gives up the session.
        throw new ConnectionError(
          'connection_lost',
          `lost the connection to ${this.url} while publishing on ${topic} (${messageOf(error)})`,
          error,
        );
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
    this.closing = true;
    for (const wake of [...this.awaitingConnection]) wake(new Error('the transport was closed'));
    this.probe?.stop();
    this.keeper.close();
    if (this.client.connected) await settleWithin(this.client.endAsync(false), timeoutMs);
    if (!this.client.disconnected) await settleWithin(this.client.endAsync(true), timeoutMs);
  }
}

/** True for mqtt.js's error for a publish the connection's end cut off before it was sent or acknowledged. */
function isCutOff(error: unknown): boolean {
  return error instanceof Error && !(error instanceof MqimgError) && error.message === 'Connection closed';
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
