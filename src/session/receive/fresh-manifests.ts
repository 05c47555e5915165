import * as z from 'zod';
import { parseJson } from '../../protocol/manifest/manifest.js';
import { parseTopic } from '../../protocol/wire/topics.js';
import type { MessageHandler, MessageTransport } from '../../transport/message-transport.js';
import { wallClock } from '../../util/clock.js';

/** The one field of a manifest, plain or encrypted, that tells its age: wall-clock ms since the Unix epoch. */
const createdField = z.object({ createdMs: z.number().int().min(0) });

/** A transfer `onlyFreshManifests` skipped: its topic, id and age in milliseconds. */
export interface SkippedTransfer {
  topic: string;
  id: string;
  ageMs: number;
}

/**
 * `transport` as a receiver sees it when old transfers must be skipped (`mqimg receive --max-age` without
 * `--trust`; typically old retained images on the broker): manifests created more than `maxAgeMs` before
 * `wallNowMs()` (milliseconds since the Unix epoch) never reach the receiver, nor do that transfer's chunks.
 * `onSkipped` is told once per transfer. The age comes from the sender's clock: mind the clocks.
 */
export function onlyFreshManifests(
  transport: MessageTransport,
  maxAgeMs: number,
  onSkipped: (skipped: SkippedTransfer) => void,
  wallNowMs: () => number = wallClock,
): MessageTransport {
  const skipped = new Set<string>();
  const fresh = (topic: string, payload: Uint8Array): boolean => {
    const parsed = parseTopic(topic);
    if (!parsed || payload.length === 0) return true;
    if (parsed.kind !== 'manifest') return !skipped.has(parsed.id);
    const json = parseJson(payload);
    const created = json.ok ? createdField.safeParse(json.value) : undefined;
    if (!created?.success) return true; // the receiver refuses it with the right code
    const ageMs = wallNowMs() - created.data.createdMs;
    if (ageMs <= maxAgeMs) return true;
    if (!skipped.has(parsed.id)) onSkipped({ topic: parsed.topic, id: parsed.id, ageMs });
    skipped.add(parsed.id);
    return false;
  };
  return {
    onMessage: (handler: MessageHandler) =>
      transport.onMessage((topic, payload) => {
        if (fresh(topic, payload)) handler(topic, payload);
      }),
    subscribe: (filters, qos) => transport.subscribe(filters, qos),
    unsubscribe: (filters) => transport.unsubscribe(filters),
    publish: (topic, payload, options) => transport.publish(topic, payload, options),
    waitForSlot: () => transport.waitForSlot(),
    nudge: () => transport.nudge(),
    get hasSlot() {
      return transport.hasSlot;
    },
    get connected() {
      return transport.connected;
    },
    get url() {
      return transport.url;
    },
    get limits() {
      return transport.limits;
    },
  };
}
