import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { ConnectionError } from '../errors.js';
import type { MessageHandler, MessageTransport } from './message-transport.js';

/** How to reach the broker. */
export interface ConnectOptions {
  /** Broker URL: mqtt://, mqtts://, ws:// or wss://. */
  url: string;
  username?: string;
  password?: string;
  /** CA certificate(s), PEM, that the broker's certificate must chain to (mqtts://, wss://). Default: Node's. */
  ca?: Buffer;
  /** Client certificate, PEM, for mutual TLS; needs `key`. */
  cert?: Buffer;
  /** Private key of `cert`, PEM. */
  key?: Buffer;
  /** Do not check the broker's certificate or host name. Default false. Anyone on the path can then read and change traffic. */
  insecure?: boolean;
  /** MQTT client id; default a random `mqimg-xxxxxxxx`. */
  clientId?: string;
  /** 5, 4 (3.1.1) or 'auto' (default): try MQTT 5, fall back to 3.1.1 when the broker refuses it. */
  mqttVersion?: 5 | 4 | 'auto';
  /** Give up on the first connection after this long, in milliseconds. Default 10,000. */
  connectTimeoutMs?: number;
  /** Called with a human-readable line when the connection drops or comes back. */
  onConnectionEvent?: (event: 'offline' | 'reconnected', detail: string) => void;
}

/** Limits learned from the broker at connection time. */
export interface BrokerLimits {
  /** Largest packet the broker accepts, in bytes (MQTT 5 CONNACK Maximum Packet Size); undefined when not said. */
  maxPacketBytes: number | undefined;
  /** Most QoS 1 publishes mqimg keeps unacknowledged by the broker at once (Receive Maximum, capped at 64). */
  maxInflight: number;
}

/** Unacknowledged QoS 1 publishes allowed on MQTT 3.1.1, where the broker does not say (Mosquitto allows 20 for v5). */
const DEFAULT_V311_INFLIGHT = 64;
const MAX_INFLIGHT = 64;

/**
 * The one place that talks MQTT. Wraps an mqtt.js client: connects (with MQTT 5 to 3.1.1 fallback), turns
 * refusals into clear errors, keeps at most `limits.maxInflight` QoS 1 publishes waiting for PUBACK (mqtt.js
 * itself would put all of them on the socket at once), and reconnects on its own after the first connection.
 */
export class MqttTransport implements MessageTransport {
  private inflight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private readonly handlers: MessageHandler[] = [];

  private constructor(
    private readonly client: MqttClient,
    /** The protocol version in use: 5 or 4 (3.1.1). */
    readonly protocolVersion: 4 | 5,
    readonly limits: BrokerLimits,
    private readonly brokerUrl: string,
  ) {
    client.on('message', (topic, payload) => {
      for (const handler of this.handlers) handler(topic, payload);
    });
  }

  /** Connects, or throws a `ConnectionError` that says why not (unreachable, refused credentials, timeout). */
  static async connect(options: ConnectOptions): Promise<MqttTransport> {
    const version = options.mqttVersion ?? 'auto';
    if (version !== 'auto') {
      try {
        return await MqttTransport.connectWith(options, version);
      } catch (error) {
        if (!(error instanceof VersionRefused)) throw error;
        throw new ConnectionError(
          'broker_unreachable',
          `the broker at ${options.url} refused MQTT 5 (${error.message}): use --mqtt-version 3.1.1, or auto to fall back by itself`,
          error,
        );
      }
    }
    try {
      return await MqttTransport.connectWith(options, 5);
    } catch (error) {
      if (error instanceof VersionRefused) return MqttTransport.connectWith(options, 4);
      throw error;
    }
  }

  private static connectWith(options: ConnectOptions, protocolVersion: 4 | 5): Promise<MqttTransport> {
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const clientOptions: IClientOptions = {
      protocolVersion,
      clientId: options.clientId ?? `mqimg-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 0, // no retries until the first connection succeeded: a wrong URL must fail fast
      connectTimeout: timeoutMs,
      resubscribe: true,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(protocolVersion === 5 ? { properties: { receiveMaximum: 1024 } } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.cert !== undefined ? { cert: options.cert } : {}),
      ...(options.key !== undefined ? { key: options.key } : {}),
      rejectUnauthorized: options.insecure !== true,
    };
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(options.url, clientOptions);
      storeWithoutCopy(client);
      // Statuses and acknowledgements are small: without TCP_NODELAY, Nagle's algorithm holds them back for tens of
      // milliseconds while chunks are in flight, and every repair waits that long. mqtt.js does not set it.
      client.on('connect', () =>
        (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true),
      );
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.end(true);
        reject(error);
      };
      const timer = setTimeout(
        () =>
          fail(
            new ConnectionError(
              'broker_unreachable',
              `no answer from the broker at ${options.url} within ${timeoutMs} ms: check --url and that the broker is running`,
            ),
          ),
        timeoutMs,
      );
      client.once('connect', (connack) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const props = connack.properties ?? {};
        const receiveMaximum =
          protocolVersion === 5 ? (props.receiveMaximum ?? 65_535) : DEFAULT_V311_INFLIGHT;
        const limits: BrokerLimits = {
          maxPacketBytes: props.maximumPacketSize,
          maxInflight: Math.max(1, Math.min(MAX_INFLIGHT, receiveMaximum)),
        };
        // From now on, recover from drops by ourselves (mqtt.js re-sends unacknowledged QoS 1 publishes).
        client.options.reconnectPeriod = 1000;
        client.on('offline', () =>
          options.onConnectionEvent?.('offline', `lost the connection to ${options.url}; reconnecting`),
        );
        client.on('connect', () =>
          options.onConnectionEvent?.('reconnected', `reconnected to ${options.url}`),
        );
        // Reconnect errors are reported through 'offline'; never crash on them. MQIMG_DEBUG=1 shows every one.
        const debug = process.env.MQIMG_DEBUG === '1';
        client.on('error', (error) => {
          if (debug) process.stderr.write(`mqimg debug: connection error: ${error.message}\n`);
        });
        if (debug) {
          client.on('reconnect', () => process.stderr.write('mqimg debug: reconnecting\n'));
          client.on('close', () => process.stderr.write('mqimg debug: connection closed\n'));
        }
        resolve(new MqttTransport(client, protocolVersion, limits, options.url));
      });
      client.on('error', (error: Error & { code?: string | number }) =>
        fail(describeConnectError(error, options.url, protocolVersion)),
      );
      client.on('close', () => {
        // A broker that does not speak MQTT 5 may just hang up on a v5 CONNECT.
        if (!settled && protocolVersion === 5) fail(new VersionRefused('the broker closed the connection'));
        else
          fail(
            new ConnectionError(
              'broker_unreachable',
              `the broker at ${options.url} closed the connection before accepting it`,
            ),
          );
      });
    });
  }

  /** Registers a handler for every incoming PUBLISH; returns a function that removes it. */
  onMessage(handler: MessageHandler): () => void {
    this.handlers.push(handler);
    return () => {
      const at = this.handlers.indexOf(handler);
      if (at >= 0) this.handlers.splice(at, 1);
    };
  }

  /** Removes subscriptions; never throws, and waits at most `timeoutMs` (default 1000): the broker may be gone. */
  async unsubscribe(filters: string[], timeoutMs = 1000): Promise<void> {
    if (!this.client.connected) return;
    await withTimeout(
      this.client.unsubscribeAsync(filters).catch(() => {}),
      timeoutMs,
    );
  }

  /**
   * Subscribes at `qos` (default 1), at most 8 filters per SUBSCRIBE packet (AWS IoT Core's limit). A connection
   * that drops meanwhile is waited for (up to `reconnectWaitMs`, default 30,000) and the subscription sent again.
   */
  async subscribe(filters: string[], qos: 0 | 1 = 1, reconnectWaitMs = 30_000): Promise<void> {
    for (let i = 0; i < filters.length; i += 8) {
      const batch = filters.slice(i, i + 8);
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
          if (error instanceof ConnectionError || this.client.connected || attempt >= 10) throw error;
          await this.waitForConnection(reconnectWaitMs);
        }
      }
    }
  }

  /** Resolves when the client is connected again; throws a ConnectionError after `timeoutMs`. */
  private async waitForConnection(timeoutMs: number): Promise<void> {
    if (this.client.connected) return;
    let timer: NodeJS.Timeout | undefined;
    let onConnect: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        onConnect = resolve;
        this.client.once('connect', onConnect);
        timer = setTimeout(
          () =>
            reject(
              new ConnectionError(
                'connection_lost',
                `lost the connection to ${this.brokerUrl} and it did not come back within ${Math.round(timeoutMs / 1000)} s`,
              ),
            ),
          timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
      if (onConnect) this.client.off('connect', onConnect);
    }
  }

  /** True while the connection to the broker is up. */
  get connected(): boolean {
    return this.client.connected;
  }

  /** The broker URL. */
  get url(): string {
    return this.brokerUrl;
  }

  /** True when another QoS 1 publish can go out without exceeding `limits.maxInflight`. */
  get hasSlot(): boolean {
    return this.inflight < this.limits.maxInflight;
  }

  /** Waits until `hasSlot` is true. */
  waitForSlot(): Promise<void> {
    if (this.hasSlot) return Promise.resolve();
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  /**
   * Publishes at QoS 1 (or 0) and resolves when the broker acknowledged it. Takes an in-flight slot at once:
   * call it only when `hasSlot` is true, or await `waitForSlot()` first.
   */
  async publish(
    topic: string,
    payload: Uint8Array | string,
    options: { qos?: 0 | 1; retain?: boolean } = {},
  ): Promise<void> {
    const qos = options.qos ?? 1;
    this.inflight++;
    try {
      await this.client.publishAsync(topic, payload as Buffer | string, {
        qos,
        retain: options.retain ?? false,
      });
    } catch (error) {
      // MQTT 5 brokers answer a publish their ACL forbids with PUBACK reason 0x87 (MQTT 3.1.1 ones drop it silently).
      if ((error as { code?: unknown }).code === 0x87) {
        throw new ConnectionError(
          'auth_refused',
          `the broker refused to let this client publish on ${topic} (not authorised): check the broker's ACL for this user`,
          error,
        );
      }
      throw error;
    } finally {
      this.inflight--;
      this.slotWaiters.shift()?.();
    }
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

  /** Disconnects cleanly, waiting at most `timeoutMs` (default 2000) for outstanding acknowledgements. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.client.connected) await withTimeout(this.client.endAsync(false), timeoutMs);
    if (!this.client.disconnected) await withTimeout(this.client.endAsync(true), timeoutMs);
  }
}

/**
 * Resolves when `promise` settles or after `timeoutMs`, whichever is first. The timer is not unref'd on purpose:
 * an unref'd one lets Node exit with code 0 in the middle of a shutdown that is waiting for a broker.
 */
async function withTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
}

class VersionRefused extends Error {}

type StoreAndSend = (
  packet: { cmd: string; properties?: { topicAlias?: number } },
  ...rest: unknown[]
) => void;

/**
 * mqtt.js deep-copies (rfdc) every QoS 1 PUBLISH, payload included, before it puts it in its outgoing store, only
 * so that a topic alias can be undone in the stored copy (MQTT.js `MqttClient._storeAndSend`, 5.x). mqimg sets no
 * topic aliases, and its payloads are views of a prepared image that nothing changes until the transfer ends, so
 * the copy is pure cost: measured on 50 MB, ~30 ms of CPU for the copies and ~25 ms more of garbage collection in
 * the sender. This stores the packet itself for every publish without a topic alias, and does exactly what
 * mqtt.js does otherwise. Where a later mqtt.js has no such method, it changes nothing.
 */
function storeWithoutCopy(client: MqttClient): void {
  const internals = client as unknown as {
    _storeAndSend?: StoreAndSend;
    _writePacket?: (packet: unknown, cb?: () => void) => void;
    outgoingStore: { put(packet: unknown, cb: (error?: Error) => void): unknown };
  };
  const original = internals._storeAndSend;
  if (typeof original !== 'function' || typeof internals._writePacket !== 'function') return;
  internals._storeAndSend = function (this: typeof internals, packet, ...rest) {
    if (packet.cmd !== 'publish' || packet.properties?.topicAlias !== undefined)
      return original.call(this, packet, ...rest);
    const [cb, cbStorePut] = rest as [((error?: Error) => void) | undefined, () => void];
    this.outgoingStore.put(packet, (error) => {
      if (error) {
        cb?.(error);
        return;
      }
      cbStorePut();
      this._writePacket?.(packet, cb);
    });
  };
}

function describeConnectError(error: Error & { code?: string | number }, url: string, version: 4 | 5): Error {
  const code = error.code;
  if (version === 5 && (code === 132 || code === 1)) return new VersionRefused(error.message);
  if (code === 4 || code === 134) {
    return new ConnectionError(
      'auth_refused',
      `the broker at ${url} refused the user name or password: check --username and --password (or MQIMG_PASSWORD)`,
      error,
    );
  }
  if (code === 5 || code === 135) {
    return new ConnectionError(
      'auth_refused',
      `the broker at ${url} says this client is not authorised: check the credentials and the broker's ACL`,
      error,
    );
  }
  const tls = describeTlsError(error, url);
  if (tls) return tls;
  if (code === 'ECONNREFUSED') {
    return new ConnectionError(
      'broker_unreachable',
      `nothing accepts connections at ${url} (connection refused): start a broker (mqimg broker) or check --url`,
      error,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ConnectionError(
      'broker_unreachable',
      `cannot resolve the broker host in ${url}: check --url`,
      error,
    );
  }
  return new ConnectionError('broker_unreachable', `cannot connect to ${url}: ${error.message}`, error);
}

/** Node's codes for a broker certificate that does not chain to a trusted CA. */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** A `tls_failed` error that says which TLS check failed and what to do, or undefined for other errors. */
function describeTlsError(
  error: Error & { code?: string | number },
  url: string,
): ConnectionError | undefined {
  const code = typeof error.code === 'string' ? error.code : '';
  const fail = (message: string) => new ConnectionError('tls_failed', message, error);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return fail(
      `the broker's certificate does not name the host in ${url} (${error.message}): connect with the host name the certificate was issued for`,
    );
  }
  if (UNTRUSTED_CERT_CODES.has(code)) {
    return fail(
      `the broker's certificate at ${url} is not trusted (${code}): pass its CA certificate with --ca FILE (--insecure skips the check, unsafely)`,
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return fail(
      `the broker's certificate at ${url} is not valid now (${code}): renew it, or check this machine's clock`,
    );
  }
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|DECRYPT_ERROR/i.test(code)) {
    return fail(
      `the broker at ${url} refused this client's certificate (${code}): it wants one signed by a CA it trusts, given with --cert FILE and --key FILE`,
    );
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return fail(
      `the server at ${url} does not speak TLS there (${code}): use mqtt:// for a plain port, or the broker's TLS port`,
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') {
    return fail(`TLS with the broker at ${url} failed: ${error.message}`);
  }
  return undefined;
}
