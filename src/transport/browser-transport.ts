import mqtt, { type MqttClient } from 'mqtt';
import type { BrokerLimits, MessageHandler, MessageTransport, PublishOptions } from './message-transport.js';

/** First wait before reconnecting after the connection dropped, in milliseconds. */
export const MIN_RECONNECT_MS = 500;
/** Longest wait between reconnection attempts, in milliseconds (30 s). */
export const MAX_RECONNECT_MS = 30_000;

/**
 * How long to wait before reconnection attempt `attempt` (0 for the first after a drop): doubling from
 * MIN_RECONNECT_MS up to MAX_RECONNECT_MS, with up to a quarter of jitter given by `random` (0..1) so that a wall
 * of tablets does not hit a restarted broker in the same millisecond. Pure.
 */
export function reconnectDelayMs(attempt: number, random: number): number {
  const base = Math.min(MAX_RECONNECT_MS, MIN_RECONNECT_MS * 2 ** Math.min(attempt, 16));
  return Math.round(base * (1 - 0.25 * random));
}

/** The connection as the page shows it. */
export type LinkState = 'connecting' | 'connected' | 'offline';

/** Options of a browser connection. */
export interface BrowserTransportOptions {
  /** ws:// or wss:// URL of the broker's MQTT-over-WebSocket listener. */
  url: string;
  clientId?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** Subscriptions (filter and QoS) made again after every (re)connection: the session is clean. */
  subscriptions: Array<{ filters: string[]; qos: 0 | 1 }>;
  /** Told each change of the connection; `detail` says why it dropped, when known. */
  onState?: (state: LinkState, detail?: string) => void;
}

/**
 * MQTT over WebSocket from a browser (mqtt.js's browser build: esbuild picks it through the package's `browser`
 * export condition). Unlike `MqttTransport` it never gives up: a display reconnects for as long as it is open,
 * with backoff (`reconnectDelayMs`), and subscribes again after each connection. Publishes made while offline fail
 * (statuses are repeated by the receiver's heartbeat anyway).
 */
export class BrowserTransport implements MessageTransport {
  private readonly handlers: MessageHandler[] = [];
  private readonly client: MqttClient;
  private attempt = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** What the broker or the socket last said went wrong, for the overlay's offline line. */
  private lastError: string | undefined;
  private everConnected = false;
  readonly limits: BrokerLimits = { maxPacketBytes: undefined, maxInflight: 64 };

  constructor(private readonly options: BrowserTransportOptions) {
    options.onState?.('connecting');
    this.client = mqtt.connect(options.url, {
      clientId: options.clientId ?? `mqimg-page-${Math.random().toString(16).slice(2, 10)}`,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      protocolVersion: 4,
      clean: true,
      // Reconnection is ours (backoff); mqtt.js would retry at a fixed period.
      reconnectPeriod: 0,
      resubscribe: false,
      connectTimeout: 10_000,
      keepalive: 30,
    });
    this.client.on('connect', () => {
      this.attempt = 0;
      this.everConnected = true;
      this.lastError = undefined;
      options.onState?.('connected');
      for (const { filters, qos } of options.subscriptions) {
        this.client.subscribe(filters, { qos }, (error) => {
          if (error) options.onState?.('connected', `subscription refused: ${error.message}`);
        });
      }
    });
    this.client.on('message', (topic, payload) => {
      for (const handler of this.handlers) handler(topic, payload);
    });
    this.client.on('error', (error) => {
      this.lastError = error.message; // e.g. "Connection refused: Not authorized"
      options.onState?.('offline', error.message);
    });
    this.client.on('close', () => this.scheduleReconnect());
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retry) return;
    const delay = reconnectDelayMs(this.attempt++, Math.random());
    // Say why: what the broker answered, or that nothing answered at that address (a wrong host or port, or no
    // WebSocket listener there), or that an established connection closed (the broker or the network went away).
    const why =
      this.lastError ??
      (this.everConnected
        ? 'the connection closed'
        : `nothing answered MQTT over WebSocket at ${this.options.url} (wrong address or port, or no WebSocket listener there)`);
    this.lastError = undefined;
    this.options.onState?.('offline', `${why}; reconnecting in ${(delay / 1000).toFixed(1)} s`);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.closed) return;
      this.options.onState?.('connecting');
      this.client.reconnect();
    }, delay);
  }

  onMessage(handler: MessageHandler): () => void {
    this.handlers.push(handler);
    return () => {
      const at = this.handlers.indexOf(handler);
      if (at >= 0) this.handlers.splice(at, 1);
    };
  }

  async subscribe(filters: string[], qos: 0 | 1 = 1): Promise<void> {
    await this.client.subscribeAsync(filters, { qos });
  }

  async unsubscribe(filters: string[]): Promise<void> {
    if (this.client.connected) await this.client.unsubscribeAsync(filters).catch(() => {});
  }

  async publish(topic: string, payload: Uint8Array | string, options: PublishOptions = {}): Promise<void> {
    if (!this.client.connected) throw new Error(`not connected to ${this.options.url}`);
    await this.client.publishAsync(topic, payload as string, {
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
    });
  }

  get hasSlot(): boolean {
    return true;
  }

  async waitForSlot(): Promise<void> {}

  nudge(): void {}

  get connected(): boolean {
    return this.client.connected;
  }

  get url(): string {
    return this.options.url;
  }

  /** Closes the connection for good. */
  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.client.end(true);
  }
}
