/** Receives one incoming PUBLISH. The payload is a Buffer under Node and a Uint8Array in a browser. */
export type MessageHandler = (topic: string, payload: Uint8Array) => void;

/** Limits learned from the broker at connection time. */
export interface BrokerLimits {
  /** Largest packet the broker accepts, in bytes (MQTT 5 CONNACK Maximum Packet Size); undefined when not said. */
  maxPacketBytes: number | undefined;
  /** Most QoS 1 publishes mqimg keeps unacknowledged by the broker at once (Receive Maximum, capped at 64). */
  maxInflight: number;
}

/** Options of one PUBLISH. */
export interface PublishOptions {
  /** Default 1. */
  qos?: 0 | 1;
  /** Default false. */
  retain?: boolean;
  /**
   * A publish the session can do without (a probe): a refusal as not authorised is thrown to the caller only,
   * instead of ending the session (MqttTransport `failure`). Default false.
   */
  optional?: boolean;
}

/**
 * What sessions need from a broker connection. `MqttTransport` is the real one; `LoopbackTransport` is an
 * in-memory one for fast, deterministic in-process tests of the protocol (never the proof that transfers work:
 * the end-to-end tests use real brokers and the real CLI).
 */
export interface MessageTransport {
  /** Registers a handler for every incoming PUBLISH; returns a function that removes it. */
  onMessage(handler: MessageHandler): () => void;
  /** Subscribes to `filters` at `qos` (default 1). */
  subscribe(filters: string[], qos?: 0 | 1): Promise<void>;
  /** Removes subscriptions; never throws (the broker may be gone). */
  unsubscribe(filters: string[]): Promise<void>;
  /**
   * Publishes at QoS 1 (default) and resolves when the broker acknowledged it. Takes an in-flight slot at once:
   * call it only when `hasSlot` is true, or await `waitForSlot()` first.
   */
  publish(topic: string, payload: Uint8Array | string, options?: PublishOptions): Promise<void>;
  /** True when another QoS 1 publish can go out without exceeding `limits.maxInflight`. */
  readonly hasSlot: boolean;
  /** Resolves when `hasSlot` is true. */
  waitForSlot(): Promise<void>;
  /** Hint that the sender is idle and waiting for small messages (MqttTransport pings the broker); may do nothing. */
  nudge(): void;
  /** True while the connection to the broker is up. */
  readonly connected: boolean;
  /** The broker URL, for messages. */
  readonly url: string;
  /** What the broker allows. */
  readonly limits: BrokerLimits;
  /**
   * Set once the connection cannot go on (MqttTransport: a subscription made again after a reconnection was refused
   * for good): a session ends with this error. Undefined while all is well, and on transports that never fail so.
   */
  readonly failure?: Error | undefined;
}
