import type { Status } from '../status/status.js';
import { MAX_STATUS_RANGES } from '../wire/constants.js';

/** Limits a receiver admits transfers within. */
export interface AdmissionLimits {
  /** Largest file, and most bytes of all transfers in progress together. */
  maxBytes: number;
  /** Most transfers in progress at once. */
  maxTransfers: number;
}

/** What the receiver holds now. */
export interface AdmissionLoad {
  /** Transfers in progress. */
  transfers: number;
  /** Their declared sizes, summed, in bytes. */
  bytes: number;
}

/** Why a transfer is refused; whether the refusal is final is in FAILURE_CODES. */
export interface Refusal {
  code: 'too_large' | 'too_many_bytes' | 'too_many_transfers';
  message: string;
}

/**
 * A transfer in progress no chunk arrived for this long, in milliseconds (2 s), may be given up to make room for a
 * new one: a manifest costs nothing to send, so a flood of them must not lock good transfers out for longer.
 */
export const RECLAIM_IDLE_MS = 2000;
/**
 * A transfer that has run for SLOW_GRACE_MS (5 s) and stored less than SLOW_BYTES_PER_MS (100 bytes per
 * millisecond: 100 kB/s) on average since it was first admitted may also be given up to make room: a trickle of
 * valid chunks (forged transfers fed one chunk a second, or one huge transfer fed 64 KiB a second) cannot hold the
 * admission of good transfers. A genuine one given up this way keeps its partial state and resumes when it has room.
 */
export const SLOW_GRACE_MS = 5000;
export const SLOW_BYTES_PER_MS = 100;

/** Decides whether a receiver takes a transfer of `size` bytes named `name`; undefined means yes. Pure. */
export function admit(
  transfer: { name: string; size: number },
  load: AdmissionLoad,
  limits: AdmissionLimits,
): Refusal | undefined {
  if (transfer.size > limits.maxBytes) {
    return {
      code: 'too_large',
      message: `${transfer.name} is ${transfer.size} bytes, more than --max-bytes ${limits.maxBytes}`,
    };
  }
  if (load.bytes + transfer.size > limits.maxBytes) {
    return {
      code: 'too_many_bytes',
      message: `${transfer.name} (${transfer.size} bytes) would bring transfers in progress to ${load.bytes + transfer.size} bytes, more than --max-bytes ${limits.maxBytes}; try again later`,
    };
  }
  if (load.transfers >= limits.maxTransfers) {
    return {
      code: 'too_many_transfers',
      message: `already receiving ${load.transfers} transfers (--max-transfers ${limits.maxTransfers})`,
    };
  }
  return undefined;
}

/**
 * Which transfers in progress to give up so that one of `size` bytes fits: those idle for RECLAIM_IDLE_MS or more,
 * the longest idle first, then those slower than SLOW_BYTES_PER_MS (`bytesPerMs`, given once a transfer ran for
 * SLOW_GRACE_MS), the slowest first; as few as needed. Returns their ids, or undefined when giving up every one of
 * them would still not make room (then nothing is given up). Pure.
 */
export function reclaimFor(
  size: number,
  active: ReadonlyArray<{ id: string; size: number; idleMs: number; bytesPerMs?: number | undefined }>,
  limits: AdmissionLimits,
): string[] | undefined {
  let bytes = active.reduce((sum, t) => sum + t.size, 0);
  let transfers = active.length;
  const fits = () => bytes + size <= limits.maxBytes && transfers < limits.maxTransfers;
  const chosen: string[] = [];
  const idle = active.filter((t) => t.idleMs >= RECLAIM_IDLE_MS).sort((a, b) => b.idleMs - a.idleMs);
  const slow = active
    .filter(
      (t) => t.idleMs < RECLAIM_IDLE_MS && t.bytesPerMs !== undefined && t.bytesPerMs < SLOW_BYTES_PER_MS,
    )
    .sort((a, b) => (a.bytesPerMs ?? 0) - (b.bytesPerMs ?? 0));
  for (const t of [...idle, ...slow]) {
    if (fits()) break;
    chosen.push(t.id);
    bytes -= t.size;
    transfers--;
  }
  return fits() ? chosen : undefined;
}

/** Most chunks a sender publishes before any receiver answers (blind start, PROTOCOL.md 8.1): 64. */
export const MAX_BLIND_CHUNKS = 64;

/**
 * A join status (`receiving`, nothing held yet) that also asks for the blind start, chunks 0 to min(`chunks`, 64)
 * - 1, except those in `held` (kept from before the manifest): for a receiver that subscribed to a transfer's chunks
 * only when it took it (a share group member), or that refused it for now while its first chunks went by. Without
 * this, those chunks come back only by the sender's retransmission timer, a second later. Pure.
 */
export function askForBlindStart(status: Status, chunks: number, held: ReadonlySet<number>): Status {
  if (status.state !== 'receiving' || (status.high ?? -1) >= 0) return status;
  const ranges: [number, number][] = [];
  for (let i = 0; i < Math.min(chunks, MAX_BLIND_CHUNKS); i++) {
    if (held.has(i)) continue;
    const last = ranges[ranges.length - 1];
    if (last && last[1] === i - 1) last[1] = i;
    else ranges.push([i, i]);
  }
  if (ranges.length === 0) return status;
  return { ...status, missing: [...ranges, ...(status.missing ?? [])].slice(0, MAX_STATUS_RANGES) };
}
