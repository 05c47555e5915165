import type { BrokerLimits, MessageHandler, MessageTransport, PublishOptions } from './message-transport.js';

/** True when MQTT topic `name` matches `filter` (`+` one level, `#` the rest; `$` topics only explicitly). */
export function topicMatches(filter: string, name: string): boolean {
  const f = filter.split('/');
  const n = name.split('/');
  if (name.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= n.length) return false;
    if (f[i] !== '+' && f[i] !== n[i]) return false;
  }
  return f.length === n.length;
}

/** Decides the fate of one delivery: return true to drop it (loss on the last hop). */
export type DropRule = (delivery: { topic: string; payload: Uint8Array; to: string }) => boolean;

/**
 * An in-memory broker for in-process tests of the protocol: delivers each PUBLISH to every matching subscription,
 * in order, on a later macrotask (as a socket would), optionally dropping some (`dropRule`). No QoS, no
 * retained messages, no queue limits: a model of a broker, never the proof that transfers work (the end-to-end
 * tests use real brokers and the real CLI).
 */
export class LoopbackBroker {
  private readonly clients = new Set<LoopbackTransport>();
  /** Deliveries made, and dropped by the rule. */
  delivered = 0;
  dropped = 0;

  constructor(private readonly dropRule: DropRule = () => false) {}

  /** A new client of this broker, named `name` (the `to` of the drop rule). */
  connect(name: string, limits: Partial<BrokerLimits> = {}): LoopbackTransport {
    const client = new LoopbackTransport(this, name, {
      maxPacketBytes: limits.maxPacketBytes,
      maxInflight: limits.maxInflight ?? 64,
    });
    this.clients.add(client);
    return client;
  }

  /** @internal Routes one message to every subscribed client. */
  route(topic: string, payload: Uint8Array): void {
    for (const client of this.clients) {
      if (!client.wants(topic)) continue;
      if (this.dropRule({ topic, payload, to: client.name })) {
        this.dropped++;
        continue;
      }
      this.delivered++;
      client.deliver(topic, payload);
    }
  }

  /** @internal */
  disconnect(client: LoopbackTransport): void {
    this.clients.delete(client);
  }
}

/** One client of a LoopbackBroker. */
export class LoopbackTransport implements MessageTransport {
  private readonly handlers: MessageHandler[] = [];
  private readonly filters = new Set<string>();
  private inflight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  /** Every topic this client published on, in order. */
  readonly publishedTopics: string[] = [];
  connected = true;
  readonly url: string;

  constructor(
    private readonly broker: LoopbackBroker,
    readonly name: string,
    readonly limits: BrokerLimits,
  ) {
    this.url = `loopback://${name}`;
  }

  onMessage(handler: MessageHandler): () => void {
    this.handlers.push(handler);
    return () => {
      const at = this.handlers.indexOf(handler);
      if (at >= 0) this.handlers.splice(at, 1);
    };
  }

  async subscribe(filters: string[]): Promise<void> {
    for (const filter of filters) this.filters.add(filter);
  }

  async unsubscribe(filters: string[]): Promise<void> {
    for (const filter of filters) this.filters.delete(filter);
  }

  get hasSlot(): boolean {
    return this.inflight < this.limits.maxInflight;
  }

  waitForSlot(): Promise<void> {
    if (this.hasSlot) return Promise.resolve();
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  /** Routes the message on the next macrotask and resolves once it was routed (the "PUBACK"). */
  publish(topic: string, payload: Uint8Array | string, _options?: PublishOptions): Promise<void> {
    if (!this.connected) return Promise.reject(new Error(`${this.name} is closed`));
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    this.publishedTopics.push(topic);
    this.inflight++;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.broker.route(topic, bytes);
        this.inflight--;
        this.slotWaiters.shift()?.();
        resolve();
      }),
    );
  }

  nudge(): void {}

  /** Stops delivering to and publishing from this client. */
  close(): void {
    this.connected = false;
    this.broker.disconnect(this);
  }

  /** @internal */
  wants(topic: string): boolean {
    for (const filter of this.filters) if (topicMatches(filter, topic)) return true;
    return false;
  }

  /** @internal */
  deliver(topic: string, payload: Uint8Array): void {
    setImmediate(() => {
      if (!this.connected) return;
      for (const handler of this.handlers) handler(topic, payload);
    });
  }
}
