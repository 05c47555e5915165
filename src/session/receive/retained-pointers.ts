import { MAX_EXACT_PIECES } from '../../protocol/wire/constants.js';
import { chunkTopic, pageTopic, parseRetainedTopic } from '../../protocol/wire/topics.js';
import type { CoreTransfer as IncomingTransfer } from '../../receiver-core/core-transfer.js';
import type { MessageTransport } from '../../transport/message-transport.js';
import { idOf } from './checked-manifest.js';

/** How long a transfer announced on `T/mqimg/retained` may receive nothing before its topics are subscribed one by one. */
const EXACT_AFTER_MS = 500;

/**
 * Transfers whose manifest came through `T/mqimg/retained` (a retained send). Where the broker delivered their
 * retained pages and chunks through the wildcard subscriptions, nothing more happens; where it did not (RabbitMQ
 * 3.x delivers retained messages only to exact-topic subscriptions), the receiver subscribes to each page and chunk
 * topic of the transfer, and unsubscribes once it is over.
 */
export class RetainedPointers {
  private readonly pending = new Set<string>();
  private readonly subscribed = new Map<string, string[]>();

  constructor(private readonly transport: MessageTransport) {}

  /**
   * The transfer a message on `T/mqimg/retained` announces (its sender topic and the id in the manifest it
   * carries), noted for `tick`; undefined when `topicName` is not such a topic or the payload has no valid id.
   */
  announced(
    topicName: string,
    payload: Uint8Array,
  ): { kind: 'manifest'; topic: string; id: string } | undefined {
    const topic = parseRetainedTopic(topicName);
    const id = topic === undefined ? undefined : idOf(payload);
    if (topic === undefined || id === undefined) return undefined;
    if (!this.subscribed.has(id)) this.pending.add(id);
    return { kind: 'manifest', topic, id };
  }

  /** Timer work: subscribe where nothing came, unsubscribe from transfers that are over. */
  tick(nowMs: number, transfers: ReadonlyMap<string, IncomingTransfer>): void {
    for (const id of this.pending) {
      const t = transfers.get(id);
      if (!t) {
        this.pending.delete(id);
        continue;
      }
      if (t.received > 0 || nowMs - t.startedMs < EXACT_AFTER_MS) continue;
      this.pending.delete(id);
      const { topic, manifest } = t;
      // Bounded: a retained manifest that declares more pieces gets the first MAX_EXACT_PIECES named.
      const pages = Math.min(t.pageCount, MAX_EXACT_PIECES);
      const filters = [
        ...Array.from({ length: pages }, (_, j) => pageTopic(topic, id, j)),
        ...Array.from({ length: Math.min(manifest.chunks, MAX_EXACT_PIECES - pages) }, (_, i) =>
          chunkTopic(topic, id, i),
        ),
      ];
      this.subscribed.set(id, filters);
      this.transport.subscribe(filters, 0).catch(() => {});
    }
    for (const [id, filters] of this.subscribed) {
      if (transfers.has(id)) continue;
      this.subscribed.delete(id);
      void this.transport.unsubscribe(filters);
    }
  }
}
