import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { ConnectionError, ExitCode, MqimgError } from '../errors.js';
import { type BrokerList, brokerList, pointClientAt } from './broker-list.js';
import {
  type ClientError,
  closedBeforeConnack,
  connectTimedOut,
  describeConnectError,
  VersionRefused,
  versionRefusedError,
} from './connect-errors.js';
import type { BrokerLimits } from './message-transport.js';
import { storeWithoutCopy } from './store-without-copy.js';

/** What the connection tells its user about, each with one line for a person (`detail`). */
export type ConnectionEvent =
  /** The connection dropped; mqimg reconnects (to the next broker, when several are given). */
  | 'offline'
  /** Connected again to the same broker. */
  | 'reconnected'
  /** Connected again, to the next broker of the list: "moved from A to B". */
  | 'moved'
  /** The broker refused a subscription, first time: it is asked for again (subscription-keeper.ts). */
  | 'subscription_refused'
  /** The same subscription refused again (attempt number, reason code): for `-v`. */
  | 'subscription_refused_again'
  /** A refused subscription was granted after all. */
  | 'subscription_accepted'
  /** A receiver heard nothing for long and its probe to itself did not come back (hearing-probe.ts). */
  | 'probe_missing'
  /** Its probe came back again after a `probe_missing`. */
  | 'probe_back'
  /** The first probe did not come back (an ACL without the probe topic): long silences go unchecked. For `-v`. */
  | 'probe_unusable';

/** How to reach the broker. */
export interface ConnectOptions {
  /**
   * Broker URL: mqtt://, mqtts://, ws:// or wss://; or several, all of one scheme (a cluster's nodes): the first
   * that accepts the connection is used, and when the connection is lost the client moves on to the next one
   * (round robin), keeping its transfers. Credentials and TLS options apply to every one.
   */
  url: string | readonly string[];
  /** User name for the broker; default none. */
  username?: string;
  /** Password for the broker; default none. */
  password?: string;
  /** CA certificate(s), PEM, that the broker's certificate must chain to (mqtts://, wss://). Default: Node's. */
  ca?: Buffer;
  /** Client certificate, PEM, for mutual TLS; needs `key`. Default none. */
  cert?: Buffer;
  /** Private key of `cert`, PEM. Default none. */
  key?: Buffer;
  /** Do not check the broker's certificate or host name. Default false. Anyone on the path can then read and change traffic. */
  insecure?: boolean;
  /** MQTT client id; default a random `mqimg-xxxxxxxx`. */
  clientId?: string;
  /** 5, 4 (3.1.1) or 'auto' (default): try MQTT 5, fall back to 3.1.1 when the broker refuses it. */
  mqttVersion?: 5 | 4 | 'auto';
  /** Give up on the first connection after this long, in milliseconds. Default 10,000. */
  connectTimeoutMs?: number;
  /** Called with a human-readable line when the connection drops, comes back or moves, and on refusals. Default none. */
  onConnectionEvent?: (event: ConnectionEvent, detail: string) => void;
}

/** An mqtt.js client after its first CONNACK, with what the broker said. */
export interface ConnectedClient {
  /** The connected client, set to reconnect by itself every second from now on. */
  client: MqttClient;
  /** The protocol version in use: 5 or 4 (3.1.1). */
  protocolVersion: 4 | 5;
  /** What the broker allows, from its CONNACK. */
  limits: BrokerLimits;
  /** Whether mqtt.js stores QoS 1 publishes without copying them (see store-without-copy.ts). */
  storesWithoutCopy: boolean;
  /** The brokers, and which one the client is connected to (or trying) now. */
  brokers: BrokerList;
}

/** Default of `ConnectOptions.connectTimeoutMs`, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Unacknowledged QoS 1 publishes allowed on MQTT 3.1.1, where the broker does not say (Mosquitto allows 20 for v5). */
const DEFAULT_V311_INFLIGHT = 64;
/** Cap on `BrokerLimits.maxInflight`, in publishes, whatever Receive Maximum the broker grants. */
const MAX_INFLIGHT = 64;
/** Receive Maximum mqimg announces to an MQTT 5 broker: QoS 1 publishes it may send us unacknowledged. */
const CLIENT_RECEIVE_MAXIMUM = 1024;
/** MQTT keep-alive, in seconds. */
const KEEPALIVE_S = 30;
/** Pause between reconnection attempts after the first connection succeeded, in milliseconds. */
const RECONNECT_PERIOD_MS = 1000;

/**
 * Connects with `options.mqttVersion` ('auto' by default: MQTT 5, then 3.1.1 when the broker refuses 5), or throws
 * a `ConnectionError` that says why not (unreachable, refused credentials, TLS, timeout). After the first
 * connection, the client reconnects by itself every second and re-sends unacknowledged QoS 1 publishes. When
 * `signal` aborts before the first CONNACK, the attempt is dropped and this throws an `interrupted` MqimgError.
 * With several URLs (a UsageError when the list is unusable: broker-list.ts), each is tried in turn and the first
 * that accepts is kept; the error when none does names each broker's reason, with the first one's code. Each later
 * reconnection attempt goes to the next broker, round robin.
 */
export async function connectClient(options: ConnectOptions, signal?: AbortSignal): Promise<ConnectedClient> {
  const brokers = brokerList(options.url);
  const errors: ConnectionError[] = [];
  for (const [at, url] of brokers.urls.entries()) {
    try {
      const connected = await connectOneUrl({ ...options, url }, signal);
      brokers.connectedAt(at);
      keepConnected(connected.client, options, brokers);
      return { ...connected, brokers };
    } catch (error) {
      if (brokers.urls.length === 1 || !(error instanceof ConnectionError)) throw error;
      errors.push(error);
    }
  }
  const [first] = errors;
  throw new ConnectionError(
    (first?.code ?? 'broker_unreachable') as 'broker_unreachable',
    `none of the ${brokers.urls.length} brokers accepted the connection: ${errors.map((e) => e.message).join('; ')}`,
    first,
  );
}

/** `connectClient` for one URL: MQTT 5, then 3.1.1 when the version is 'auto'. */
async function connectOneUrl(
  options: ConnectOptions & { url: string },
  signal: AbortSignal | undefined,
): Promise<Omit<ConnectedClient, 'brokers'>> {
  const version = options.mqttVersion ?? 'auto';
  if (version !== 'auto') {
    try {
      return await connectWith(options, version, signal);
    } catch (error) {
      if (error instanceof VersionRefused) throw versionRefusedError(options.url, error);
      throw error;
    }
  }
  try {
    return await connectWith(options, 5, signal);
  } catch (error) {
    if (error instanceof VersionRefused) return connectWith(options, 4, signal);
    throw error;
  }
}

/** The mqtt.js options for a first connection with `protocolVersion`: no retries, so a wrong URL fails fast. */
export function clientOptions(options: ConnectOptions, protocolVersion: 4 | 5): IClientOptions {
  return {
    protocolVersion,
    clientId: options.clientId ?? `mqimg-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    keepalive: KEEPALIVE_S,
    reconnectPeriod: 0, // no retries until the first connection succeeded: a wrong URL must fail fast
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // mqimg makes its subscriptions again itself after a reconnection, and checks every SUBACK
    // (subscription-keeper.ts): mqtt.js would drop a refused one without a word.
    resubscribe: false,
    // mqtt.js would otherwise build a cache of 65,536 two-byte Buffers (every 16-bit number it may write) at the
    // first packet: ~10 ms and megabytes of garbage at every start, to save two small allocations per packet.
    writeCache: false,
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(protocolVersion === 5 ? { properties: { receiveMaximum: CLIENT_RECEIVE_MAXIMUM } } : {}),
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
    rejectUnauthorized: options.insecure !== true,
  };
}

/** What the broker allows, from its CONNACK. */
export function limitsFromConnack(connack: IConnackPacket, protocolVersion: 4 | 5): BrokerLimits {
  const props = connack.properties ?? {};
  const receiveMaximum = protocolVersion === 5 ? (props.receiveMaximum ?? 65_535) : DEFAULT_V311_INFLIGHT;
  return {
    maxPacketBytes: props.maximumPacketSize,
    maxInflight: Math.max(1, Math.min(MAX_INFLIGHT, receiveMaximum)),
  };
}

function connectWith(
  options: ConnectOptions & { url: string },
  protocolVersion: 4 | 5,
  signal: AbortSignal | undefined,
): Promise<Omit<ConnectedClient, 'brokers'>> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(interrupted());
    const client = mqtt.connect(options.url, clientOptions(options, protocolVersion));
    const storesWithoutCopy = storeWithoutCopy(client);
    if (!storesWithoutCopy && process.env.MQIMG_DEBUG === '1') {
      process.stderr.write(
        'mqimg debug: this mqtt.js copies every QoS 1 payload (store-without-copy not applied)\n',
      );
    }
    // Statuses and acknowledgements are small: without TCP_NODELAY, Nagle's algorithm holds them back for tens of
    // milliseconds while chunks are in flight, and every repair waits that long. mqtt.js does not set it.
    client.on('connect', () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
    let settled = false;
    const onAbort = () => fail(interrupted());
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      client.end(true);
      reject(error);
    };
    const timer = setTimeout(() => fail(connectTimedOut(options.url, timeoutMs)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    client.once('connect', (connack) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({
        client,
        protocolVersion,
        limits: limitsFromConnack(connack, protocolVersion),
        storesWithoutCopy,
      });
    });
    client.on('error', (error: ClientError) =>
      fail(describeConnectError(error, options.url, protocolVersion)),
    );
    client.on('close', () => fail(closedBeforeConnack(options.url, protocolVersion)));
  });
}

/** What a connection attempt given up by its signal throws. */
const interrupted = () => new MqimgError('interrupted', 'interrupted while connecting', ExitCode.interrupted);

/**
 * From the first CONNACK on: reconnect after drops (to the next broker of the list, when there are several), report
 * drops and moves, and never crash on a reconnection error.
 */
function keepConnected(client: MqttClient, options: ConnectOptions, brokers: BrokerList): void {
  // mqtt.js re-sends unacknowledged QoS 1 publishes after each reconnection.
  client.options.reconnectPeriod = RECONNECT_PERIOD_MS;
  const several = brokers.urls.length > 1;
  client.on('offline', () =>
    options.onConnectionEvent?.(
      'offline',
      `lost the connection to ${brokers.current}; ${several ? 'moving to the next broker' : 'reconnecting'}`,
    ),
  );
  // Each attempt goes to the next broker of the list: the one that was lost is probably down.
  client.on('reconnect', () => {
    if (several) pointClientAt(client, brokers.next());
  });
  client.on('connect', () => {
    const moved = brokers.connected();
    if (moved) options.onConnectionEvent?.('moved', `moved from ${moved.from} to ${moved.to}`);
    else options.onConnectionEvent?.('reconnected', `reconnected to ${brokers.current}`);
  });
  // Reconnect errors are reported through 'offline'; never crash on them. MQIMG_DEBUG=1 shows every one.
  const debug = process.env.MQIMG_DEBUG === '1';
  client.on('error', (error) => {
    if (debug) process.stderr.write(`mqimg debug: connection error: ${error.message}\n`);
  });
  if (debug) {
    client.on('reconnect', () => process.stderr.write(`mqimg debug: reconnecting to ${brokers.trying}\n`));
    client.on('close', () => process.stderr.write('mqimg debug: connection closed\n'));
  }
}
