/** Receives one incoming PUBLISH. */
export type MessageHandler = (topic: string, payload: Buffer) => void;

/**
 * What sessions need from a broker connection. `MqttTransport` is the real one; unit tests of the sessions may
 * hand in an in-memory one (never as the proof that transfers work: the end-to-end tests use real brokers).
 */
export interface MessageTransport {
  /** Registers a handler for every incoming PUBLISH; returns a function that removes it. */
  onMessage(handler: MessageHandler): () => void;
  /** Subscribes to `filters` at `qos` (default 1). */
  subscribe(filters: string[], qos?: 0 | 1): Promise<void>;
  /** Publishes at QoS 1 (default) and resolves when the broker acknowledged it. */
  publish(
    topic: string,
    payload: Uint8Array | string,
    options?: { qos?: 0 | 1; retain?: boolean },
  ): Promise<void>;
}
