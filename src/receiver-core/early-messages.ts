/** One hash page or chunk that came before its manifest. */
export interface EarlyMessage {
  kind: 'page' | 'chunk';
  index: number;
  payload: Uint8Array;
}

/**
 * Hash pages and chunks that arrive before their manifest, kept so that they are used once it comes: a broker
 * that queues each QoS apart (RabbitMQ) can deliver QoS 0 chunks ahead of the QoS 1 manifest published before them.
 * Bounded: at most `maxBytes` in all and `maxIds` transfers; beyond, messages are dropped (and asked for again
 * later). The oldest transfer's messages go first when room is needed for a new one.
 */
export class EarlyMessages {
  private readonly byId = new Map<string, EarlyMessage[]>();
  private bytes = 0;

  constructor(
    /** Default 4 MiB. */
    private readonly maxBytes = 4 * 1024 * 1024,
    /** Default 16. */
    private readonly maxIds = 16,
  ) {}

  /** Keeps a message of unknown transfer `id`; false when it was dropped. The payload is copied. */
  hold(id: string, message: EarlyMessage): boolean {
    if (message.payload.length > this.maxBytes) return false;
    let list = this.byId.get(id);
    if (!list) {
      if (this.byId.size >= this.maxIds) this.dropOldest();
      list = [];
      this.byId.set(id, list);
    }
    if (this.bytes + message.payload.length > this.maxBytes) return false;
    list.push({ ...message, payload: Uint8Array.from(message.payload) });
    this.bytes += message.payload.length;
    return true;
  }

  /** Takes (and forgets) what is held for `id`, in arrival order. */
  take(id: string): EarlyMessage[] {
    const list = this.byId.get(id) ?? [];
    this.byId.delete(id);
    for (const m of list) this.bytes -= m.payload.length;
    return list;
  }

  private dropOldest(): void {
    const oldest = this.byId.keys().next();
    if (!oldest.done) this.take(oldest.value);
  }
}
