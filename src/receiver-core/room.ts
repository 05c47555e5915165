import type { Manifest } from '../protocol/manifest/manifest.js';
import {
  type AdmissionLimits,
  admit,
  type Refusal,
  reclaimFor,
  SLOW_GRACE_MS,
} from '../protocol/receive/admission.js';
import { sameContent as isSameContent } from '../protocol/wire/transfer-id.js';
import type { CoreTransfer } from './core-transfer.js';

/**
 * The one supersede rule of every receiver: when a new transfer is admitted on a sender topic, unfinished transfers
 * on that topic created before it are dropped (`superseded`) if the new manifest says `supersede`, or if the
 * receiver keeps only the newest image anyway (`keepsOnlyNewest`: the display page, which shows one image). An
 * archive (`mqimg receive`) keeps every image unless the sender asked.
 */
export interface SupersedeRule {
  keepsOnlyNewest: boolean;
}

/**
 * Clears the way for new transfer `incoming` on `room.topic`, or refuses it: an unfinished transfer of the same
 * content (its sender restarted: new id) is given up for it to continue (`timeout`, partial state kept); then, when
 * it fits (`roomFor`), unfinished older transfers on the same topic are dropped by the SupersedeRule. Returns the
 * refusal, or undefined when it may be admitted.
 */
export function clearWayFor<T extends CoreTransfer>(
  transfers: ReadonlyMap<string, T>,
  incoming: Manifest,
  room: { limits: AdmissionLimits; nowMs: number; firstSeen: FirstSeen; topic: string } & SupersedeRule,
  giveUp: (t: T, code: 'timeout' | 'superseded', message: string) => void,
): Refusal | undefined {
  const { topic } = room;
  for (const old of sameContent(transfers, topic, incoming))
    giveUp(old, 'timeout', `${old.manifest.name}: sent again as transfer ${incoming.id}, which continues it`);
  // The newest image only needs room once the older ones on its topic are gone; but an image that could not be
  // taken even then (larger than the limit) leaves them alone.
  if (room.keepsOnlyNewest) {
    const others = [...transfers.values()].filter((t) => !isOlder(t, incoming, topic));
    const bytes = others.reduce((sum, t) => sum + t.manifest.size, 0);
    const refusal = admit(incoming, { transfers: others.length, bytes }, room.limits);
    if (refusal) return refusal;
    dropOlder(transfers, incoming, topic, giveUp);
  }
  const refusal = roomFor(transfers, incoming, room, (t, why) => giveUp(t, 'timeout', why));
  if (refusal || !incoming.supersede) return refusal;
  dropOlder(transfers, incoming, topic, giveUp);
  return undefined;
}

/** True when `t` is an unfinished transfer on `topic` created before `incoming`. */
function isOlder(t: CoreTransfer, incoming: Manifest, topic: string): boolean {
  return t.topic === topic && t.manifest.createdMs < incoming.createdMs && !t.finishing;
}

/** Gives up the unfinished transfers on `topic` created before `incoming` (`superseded`). */
function dropOlder<T extends CoreTransfer>(
  transfers: ReadonlyMap<string, T>,
  incoming: Manifest,
  topic: string,
  giveUp: (t: T, code: 'superseded', message: string) => void,
): void {
  for (const older of [...transfers.values()]) {
    if (isOlder(older, incoming, topic)) {
      const message = `${older.manifest.name}: a newer image arrived on ${topic} before it finished; dropped`;
      giveUp(older, 'superseded', message);
    }
  }
}

/**
 * Decides whether a new transfer on sender topic `room.topic` fits, giving up others to make room when it is new
 * here (an id never admitted before: a manifest republished after it was given up does not evict others again).
 * Returns the refusal, or undefined when it fits.
 */
export function roomFor<T extends CoreTransfer>(
  transfers: ReadonlyMap<string, T>,
  incoming: Manifest,
  room: { limits: AdmissionLimits; nowMs: number; firstSeen: FirstSeen; topic: string },
  giveUp: (t: T, message: string) => void,
): Refusal | undefined {
  const { maxBytes, maxTransfers } = room.limits;
  const limits = { maxBytes, maxTransfers };
  if (!room.firstSeen.has(incoming.id)) makeRoom(transfers, incoming, room.topic, limits, room.nowMs, giveUp);
  const active = [...transfers.values()];
  const bytes = active.reduce((sum, t) => sum + t.manifest.size, 0);
  return admit(incoming, { transfers: active.length, bytes }, limits);
}

/**
 * Gives up transfers when that makes room for a new transfer of `size` bytes on `topic` that would otherwise be
 * refused: those idle (no chunk for RECLAIM_IDLE_MS), and, when the newcomer's topic has nothing in progress,
 * those that never received anything from a topic holding two or more of them (fair shares by sender topic: a
 * flood of manifests on one topic cannot crowd out another camera). A transfer that makes progress is never given
 * up for one that has not started. Each one given up goes to `giveUp` with a message.
 */
export function makeRoom<T extends CoreTransfer>(
  transfers: ReadonlyMap<string, T>,
  incoming: { name: string; size: number },
  topic: string,
  limits: AdmissionLimits,
  nowMs: number,
  giveUp: (t: T, message: string) => void,
): void {
  const active = [...transfers.values()].filter((t) => !t.finishing);
  const crowding = crowdingTopic(active, topic);
  // A transfer that never received anything is idle since it was first admitted, however often it was again;
  // one that crowds the newcomer's topic out counts as idle longer than any other.
  const idleMs = (t: T) =>
    t.received === 0 && t.topic === crowding
      ? Number.MAX_SAFE_INTEGER / 2 + (nowMs - t.startedMs)
      : nowMs - (t.received === 0 ? t.startedMs : t.lastActivityMs);
  // The average rate since first admitted, once the transfer ran for SLOW_GRACE_MS (reclaimFor: a trickle of
  // valid chunks cannot hold a place).
  const bytesPerMs = (t: T) => {
    const ranMs = nowMs - t.startedMs;
    if (ranMs < SLOW_GRACE_MS) return undefined;
    return Math.min(t.manifest.size, t.reassembly.received * t.manifest.chunkBytes) / ranMs;
  };
  const candidates = active.map((t) => ({
    id: t.id,
    size: t.manifest.size,
    idleMs: idleMs(t),
    bytesPerMs: bytesPerMs(t),
  }));
  for (const id of reclaimFor(incoming.size, candidates, limits) ?? []) {
    const t = transfers.get(id);
    if (!t) continue;
    giveUp(t, `${t.manifest.name}: ${t.heldSummary(nowMs)}; given up to make room for ${incoming.name}`);
  }
}

/**
 * The sender topic whose transfers that never received anything should make room for a newcomer on `topic`: the
 * one with the most of them (two or more), when `topic` has no transfer in progress; undefined otherwise.
 */
function crowdingTopic<T extends CoreTransfer>(active: readonly T[], topic: string): string | undefined {
  if (active.some((t) => t.topic === topic)) return undefined;
  const idleByTopic = new Map<string, number>();
  for (const t of active) if (t.received === 0) idleByTopic.set(t.topic, (idleByTopic.get(t.topic) ?? 0) + 1);
  let most: [string, number] | undefined;
  for (const entry of idleByTopic) if (entry[1] >= 2 && (!most || entry[1] > most[1])) most = entry;
  return most?.[0];
}

/** Unfinished transfers on `topic` of the same content as `manifest` (protocol/transfer-id.ts `sameContent`). */
export function sameContent<T extends CoreTransfer>(
  transfers: ReadonlyMap<string, T>,
  topic: string,
  manifest: Manifest,
): T[] {
  return [...transfers.values()].filter(
    (t) => t.topic === topic && !t.finishing && t.id !== manifest.id && isSameContent(t.manifest, manifest),
  );
}

/**
 * When each transfer id was first admitted, for the last `capacity` ids (default 4,096). A transfer given up
 * for room and admitted again (its manifest republished) keeps its first time, so a flood of republished
 * manifests that never bring a chunk stays reclaimable at once instead of looking new every second.
 */
export class FirstSeen {
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity = 4096) {}

  /** True when `id` was admitted before. */
  has(id: string): boolean {
    return this.seen.has(id);
  }

  /** When `id` was first admitted (now, the first time), in monotonic milliseconds. */
  admit(id: string, nowMs: number): number {
    const first = this.seen.get(id);
    if (first !== undefined) return first;
    if (this.seen.size >= this.capacity) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.set(id, nowMs);
    return nowMs;
  }
}
