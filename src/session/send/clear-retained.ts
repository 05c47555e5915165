import { UsageError } from '../../errors.js';
import { pageCount } from '../../protocol/manifest/chunk-hashes.js';
import { parseJson } from '../../protocol/manifest/manifest.js';
import { MAX_EXACT_PIECES, TOPIC_MARKER } from '../../protocol/wire/constants.js';
import {
  chunkTopic,
  filterProblem,
  manifestTopic,
  pageTopic,
  parseRetainedTopic,
  receiverSubscriptions,
} from '../../protocol/wire/topics.js';
import type { MessageTransport } from '../../transport/message-transport.js';
import { monotonicClock, sleep } from '../../util/clock.js';
import { idOf } from '../receive/checked-manifest.js';

/** Listen this long without a new message before taking the retained ones as all delivered, in milliseconds. */
const QUIET_MS = 500;
/** Listen at most this long for retained messages, in milliseconds. */
const MAX_LISTEN_MS = 10_000;

/** One retained transfer removed by `clearRetained`. */
export interface ClearedTransfer {
  /** The sender topic, e.g. `display/door`. */
  topic: string;
  /** The transfer id. */
  id: string;
  /** Retained messages removed: its manifest and chunks. */
  messages: number;
}

/**
 * `mqimg clear --topic T`: removes the retained mqimg transfers (`send --retain`) on the sender topics that `filter`
 * matches (`display/door`, `display/+`, `#`): it listens under `<topic>/mqimg/+/#` until the broker has delivered
 * what it holds (QUIET_MS without a new message, at most MAX_LISTEN_MS), then publishes an empty retained
 * message on each of those topics, which makes the broker forget it. Resolves with what it removed, once the
 * broker acknowledged every removal.
 */
export async function clearRetained(transport: MessageTransport, filter: string): Promise<ClearedTransfer[]> {
  const problem = filterProblem(filter);
  if (problem) throw new UsageError(`invalid --topic: ${problem}`);
  const subscriptions = receiverSubscriptions(filter);
  const filters = [...subscriptions.manifests.map((f) => f.replace(/\/m$/, '/#')), ...subscriptions.retained];
  const found = new Map<string, { topic: string; id: string; topics: Set<string> }>();
  let lastMessageMs = monotonicClock();
  const pattern = new RegExp(`^(.+)/${TOPIC_MARKER}/([^/]+)/.+$`);
  const stop = transport.onMessage((name, payload) => {
    if (payload.length === 0) return;
    const pointer = parseRetainedTopic(name);
    if (pointer !== undefined) {
      // T/mqimg/retained names a transfer whose other topics a broker may not show to a wildcard (RabbitMQ 3.x).
      lastMessageMs = monotonicClock();
      for (const [id, topic] of transferTopics(pointer, payload)) addTopic(pointer, id, topic);
      addTopic(pointer, idOf(payload) ?? 'retained', name);
      return;
    }
    const match = pattern.exec(name);
    if (!match) return;
    lastMessageMs = monotonicClock();
    const [, topic = '', id = ''] = match;
    addTopic(topic, id, name);
  });
  function addTopic(topic: string, id: string, name: string): void {
    const key = `${topic}\n${id}`;
    const transfer = found.get(key) ?? { topic, id, topics: new Set<string>() };
    transfer.topics.add(name);
    found.set(key, transfer);
  }
  const started = monotonicClock();
  try {
    await transport.subscribe(filters);
    lastMessageMs = Math.max(lastMessageMs, monotonicClock());
    while (monotonicClock() - lastMessageMs < QUIET_MS && monotonicClock() - started < MAX_LISTEN_MS)
      await sleep(50);
  } finally {
    stop();
    await transport.unsubscribe(filters);
  }
  const removals: Promise<void>[] = [];
  for (const transfer of found.values()) {
    for (const topic of transfer.topics) {
      await transport.waitForSlot();
      removals.push(transport.publish(topic, '', { retain: true }));
    }
  }
  await Promise.all(removals);
  return [...found.values()]
    .map(({ topic, id, topics }) => ({ topic, id, messages: topics.size }))
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.id.localeCompare(b.id));
}

/** Every topic of the transfer whose manifest `payload` is (on sender topic `topic`), with its id. */
function transferTopics(topic: string, payload: Uint8Array): Array<[string, string]> {
  const id = idOf(payload);
  const json = parseJson(payload);
  const value = json.ok ? (json.value as { chunks?: unknown; chunkBytes?: unknown }) : {};
  const { chunks, chunkBytes } = value;
  if (id === undefined || !Number.isInteger(chunks) || !Number.isInteger(chunkBytes)) return [];
  // Named one by one only up to MAX_EXACT_PIECES: beyond, only what the broker shows is cleared.
  const pages = Math.min(
    pageCount(Math.min(chunks as number, 10_000_000), chunkBytes as number),
    MAX_EXACT_PIECES,
  );
  const n = Math.min(chunks as number, MAX_EXACT_PIECES - pages);
  return [
    [id, manifestTopic(topic, id)],
    ...Array.from({ length: pages }, (_, j): [string, string] => [id, pageTopic(topic, id, j)]),
    ...Array.from({ length: n }, (_, i): [string, string] => [id, chunkTopic(topic, id, i)]),
  ];
}
