import { utf8Length } from './bytes.js';
import { MAX_TOPIC_LEVELS, TOPIC_MARKER, TRANSFER_ID_PATTERN } from './constants.js';

/**
 * Topic layout, for a sender topic T and transfer id ID:
 *   T/mqimg/ID/m      manifest (sender -> receivers), JSON
 *   T/mqimg/ID/h/J    hash page J, J in decimal without leading zeros (sender -> receivers), raw bytes
 *   T/mqimg/ID/c/N    chunk N, N in decimal without leading zeros (sender -> receivers), raw bytes
 *   T/mqimg/ID/r      receiver status (receivers -> sender), JSON
 */
export const TopicKind = { manifest: 'm', page: 'h', chunk: 'c', status: 'r' } as const;

/** `T/mqimg/ID`: the per-transfer topic below the sender's topic. */
export function transferTopic(topic: string, id: string): string {
  return `${topic}/${TOPIC_MARKER}/${id}`;
}
export function manifestTopic(topic: string, id: string): string {
  return `${transferTopic(topic, id)}/${TopicKind.manifest}`;
}
export function chunkTopic(topic: string, id: string, index: number): string {
  return `${transferTopic(topic, id)}/${TopicKind.chunk}/${index}`;
}
export function pageTopic(topic: string, id: string, page: number): string {
  return `${transferTopic(topic, id)}/${TopicKind.page}/${page}`;
}
export function statusTopic(topic: string, id: string): string {
  return `${transferTopic(topic, id)}/${TopicKind.status}`;
}

/** The last level of `T/mqimg/retained`, where `send --retain` also leaves its manifest (retainedTopic). */
const RETAINED_LEVEL = 'retained';

/**
 * `T/mqimg/retained`: an exact topic where `send --retain` leaves a copy of its manifest, retained. A broker that
 * delivers retained messages only to exact-topic subscriptions (RabbitMQ 3.x) still hands it to a receiver of `T`,
 * which then subscribes to that transfer's page and chunk topics one by one; a sender's or `mqimg clear`'s cleanup
 * finds the transfer to clear there.
 */
export function retainedTopic(topic: string): string {
  return `${topic}/${TOPIC_MARKER}/${RETAINED_LEVEL}`;
}

/** The sender topic `T` of a `T/mqimg/retained` topic name, or undefined when `name` is not one. */
export function parseRetainedTopic(name: string): string | undefined {
  const levels = name.split('/');
  if (levels.length < 3 || levels.at(-1) !== RETAINED_LEVEL || levels.at(-2) !== TOPIC_MARKER)
    return undefined;
  return levels.slice(0, -2).join('/');
}

/** What a received topic name means. */
export type ParsedTopic =
  | { kind: 'manifest'; topic: string; id: string }
  | { kind: 'chunk'; topic: string; id: string; index: number }
  | { kind: 'page'; topic: string; id: string; index: number }
  | { kind: 'status'; topic: string; id: string };

/** Largest chunk index accepted in a topic (the manifest bounds it further). */
const MAX_INDEX_DIGITS = 9;

/** Parses an mqimg topic name; returns undefined for anything that is not one. Never throws. */
export function parseTopic(name: string): ParsedTopic | undefined {
  const levels = name.split('/');
  // Find the marker from the right: the suffix has a fixed shape, the user's topic may contain 'mqimg' too.
  const last = levels[levels.length - 1];
  let markerAt: number;
  if (last === TopicKind.manifest || last === TopicKind.status) markerAt = levels.length - 3;
  else if (levels[levels.length - 2] === TopicKind.chunk || levels[levels.length - 2] === TopicKind.page)
    markerAt = levels.length - 4;
  else return undefined;
  if (markerAt < 1 || levels[markerAt] !== TOPIC_MARKER) return undefined;
  const id = levels[markerAt + 1] ?? '';
  if (!TRANSFER_ID_PATTERN.test(id)) return undefined;
  const topic = levels.slice(0, markerAt).join('/');
  if (last === TopicKind.manifest) return { kind: 'manifest', topic, id };
  if (last === TopicKind.status) return { kind: 'status', topic, id };
  if (last === undefined || last.length > MAX_INDEX_DIGITS || !/^(0|[1-9][0-9]*)$/.test(last))
    return undefined;
  return { kind: levels[markerAt + 2] === TopicKind.page ? 'page' : 'chunk', topic, id, index: Number(last) };
}

/** Returns a reason why `topic` cannot be a sender topic, or undefined when it can. */
export function sendTopicProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'the topic is empty';
  if (topic.includes('\u0000')) return 'the topic contains a NUL character';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (/[\u0001-\u001f]/.test(topic)) return 'the topic contains a control character (a line feed, a tab...)';
  if (/[+#]/.test(topic))
    return `the topic "${topic}" contains a wildcard (+ or #); a sender needs one concrete topic`;
  if (topic.startsWith('$'))
    return `the topic "${topic}" starts with $, which brokers reserve for themselves`;
  const levels = topic.split('/');
  if (levels.some((l) => l.length === 0))
    return `the topic "${topic}" has an empty level (a leading, trailing or double /)`;
  if (levels.length > MAX_TOPIC_LEVELS)
    return `the topic "${topic}" has ${levels.length} levels; at most ${MAX_TOPIC_LEVELS} are allowed`;
  if (utf8Length(topic) > 1024) return 'the topic is longer than 1024 bytes';
  return undefined;
}

/** Returns a reason why `filter` cannot be a receiver's topic filter, or undefined when it can. */
export function filterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'the topic filter is empty';
  if (filter.includes('\u0000')) return 'the topic filter contains a NUL character';
  const levels = filter.split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1))
      return `in "${filter}", # must be a whole level and the last one`;
    if (level.includes('+') && level !== '+') return `in "${filter}", + must be a whole level`;
  }
  const fixed = levels[levels.length - 1] === '#' ? levels.length - 1 : levels.length;
  if (fixed > MAX_TOPIC_LEVELS)
    return `the topic filter "${filter}" has more than ${MAX_TOPIC_LEVELS} levels`;
  return undefined;
}

/**
 * The subscriptions a receiver makes for a user filter (default '#': every mqimg transfer on the broker).
 * MQTT allows # only at the end, so a trailing # is expanded into 0..MAX_TOPIC_LEVELS levels of +; each
 * resulting topic filter F gives F/mqimg/+/m (manifests) and F/mqimg/+/c/+ (chunks). The receiver then sees
 * mqimg traffic only.
 */
export function receiverSubscriptions(filter = '#'): {
  manifests: string[];
  chunks: string[];
  retained: string[];
} {
  // Hash pages and chunks share one subscription QoS, so that a broker that queues each QoS apart (RabbitMQ)
  // keeps a page ahead of the chunks it vouches for.
  const levels = filter.split('/');
  const prefixes: string[] = [];
  if (levels[levels.length - 1] === '#') {
    const fixed = levels.slice(0, -1);
    for (let extra = 0; fixed.length + extra <= MAX_TOPIC_LEVELS; extra++) {
      const prefix = [...fixed, ...Array<string>(extra).fill('+')];
      if (prefix.length > 0) prefixes.push(prefix.join('/'));
    }
  } else {
    prefixes.push(filter);
  }
  return {
    manifests: prefixes.map((p) => `${p}/${TOPIC_MARKER}/+/${TopicKind.manifest}`),
    // Only an exact filter can have an exact retained topic (wildcards get retained messages the usual way).
    retained: /[+#]/.test(filter) ? [] : [retainedTopic(filter)],
    chunks: prefixes.flatMap((p) => [
      `${p}/${TOPIC_MARKER}/+/${TopicKind.page}/+`,
      `${p}/${TOPIC_MARKER}/+/${TopicKind.chunk}/+`,
    ]),
  };
}

/**
 * The topic a receiver publishes a probe to itself on: a `--share` member's check of shared subscriptions
 * (session/share-group.ts), and the probe of a receiver that heard nothing for long (transport/hearing-probe.ts).
 * `<fixed>/mqimg/probe/<hex>`, where `<fixed>` is the user filter's levels before its first wildcard (none for '#'),
 * so that the probe stays where the receiver may publish; the three levels after them match none of a receiver's
 * manifest, status, page or chunk filters, so other receivers never get it.
 */
export function probeTopic(filter: string, hex: string): string {
  const fixed: string[] = [];
  for (const level of filter.split('/')) {
    if (level === '+' || level === '#') break;
    fixed.push(level);
  }
  return [...fixed, TOPIC_MARKER, 'probe', hex].join('/');
}

/** The name `probeTopic` had when only `--share` used it. */
export const shareProbeTopic = probeTopic;

/** Returns a reason why `group` cannot be a shared-subscription group name (`receive --share`), or undefined. */
export function shareGroupProblem(group: string): string | undefined {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(group))
    return `the group name "${group}" must be 1 to 64 of A-Z a-z 0-9 _ . - (it becomes a topic level of $share/GROUP/...)`;
  return undefined;
}

/**
 * The subscriptions of a member of shared-subscription group `group` (`receive --share`), for user filter `filter`:
 * the manifest filters of `receiverSubscriptions`, each as `$share/GROUP/F/mqimg/+/m` (the broker hands each
 * manifest to one member); the status filters `F/mqimg/+/r`, not shared (every member sees which peer holds which
 * transfer); and the hash page filters `F/mqimg/+/h/+`, not shared (pages are small, 16 bytes per chunk, and go
 * out right after the manifest: the member that takes the transfer has its pages without asking). No chunk
 * filter: a member subscribes to the chunks of each transfer it takes (`transferSubscriptions`), since shared
 * chunk filters would split one transfer's chunks among members.
 */
export function shareSubscriptions(
  filter: string,
  group: string,
): { manifests: string[]; statuses: string[]; pages: string[] } {
  const { manifests } = receiverSubscriptions(filter);
  const prefixes = manifests.map((m) => m.slice(0, -`/+/${TopicKind.manifest}`.length));
  return {
    manifests: manifests.map((m) => `$share/${group}/${m}`),
    statuses: prefixes.map((p) => `${p}/+/${TopicKind.status}`),
    pages: prefixes.map((p) => `${p}/+/${TopicKind.page}/+`),
  };
}

/** The chunk filter of one transfer a share group member takes: `T/mqimg/ID/c/+`. */
export function transferSubscriptions(topic: string, id: string): string[] {
  return [`${transferTopic(topic, id)}/${TopicKind.chunk}/+`];
}
