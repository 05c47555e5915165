import * as z from 'zod';
import { PROOF_PATTERN } from '../security/receipt.js';
import { fromUtf8, utf8 } from '../wire/bytes.js';
import { MAX_STATUS_RANGES } from '../wire/constants.js';
import type { IndexRange } from '../wire/ranges.js';

/** Most hash pages one status may ask for. */
export const MAX_WANT_PAGES = 16;

/**
 * A receiver's status, published (QoS 1, JSON) on `T/mqimg/ID/r`. It is the receiver's acknowledgement, its
 * request for missing chunks, its flow-control credit and its final word, all in one message:
 * - `want-manifest`: the receiver saw chunks of this transfer but not its manifest; the sender republishes it.
 * - `receiving`: holds every chunk below `next`; `high` is the highest chunk index held (-1: none); `missing`
 *   lists ranges below `high` still lacking; `win` is how many chunks beyond `next` it accepts in flight.
 * - `complete`: the file was verified and saved (or had been already); `proof` proves it (receipt.ts).
 *   `wantPages` (with `receiving`): hash pages the receiver lacks, at most 16.
 * - `failed`: the receiver gave up on this transfer; `reason` is an error code such as `checksum_mismatch`.
 */
export const statusSchema = z.looseObject({
  /** Receiver id: 1..64 characters of [A-Za-z0-9_.-], unique per running receiver. */
  rx: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  state: z.enum(['want-manifest', 'receiving', 'complete', 'failed']),
  next: z.number().int().min(0).optional(),
  high: z.number().int().min(-1).optional(),
  missing: z
    .array(z.tuple([z.number().int().min(0), z.number().int().min(0)]))
    .max(MAX_STATUS_RANGES)
    .optional(),
  win: z.number().int().min(1).max(65_535).optional(),
  reason: z.string().max(200).optional(),
  /** With `complete`: the proof of receipt, 64 hex digits. A sender ignores a `complete` without a valid one. */
  proof: z.string().regex(PROOF_PATTERN).optional(),
  /** With `receiving`: hash pages the receiver still lacks (the sender republishes them). */
  wantPages: z.array(z.number().int().min(0)).max(MAX_WANT_PAGES).optional(),
});

export type Status = z.infer<typeof statusSchema>;

/** A `receiving` status with its progress fields, as the receiver session builds it. */
export interface Progress {
  next: number;
  high: number;
  missing: IndexRange[];
  win: number;
}

/** Parses a status payload; undefined when it is not valid (the sender ignores it). Never throws. */
export function parseStatus(payload: Uint8Array): Status | undefined {
  try {
    const result = statusSchema.safeParse(JSON.parse(fromUtf8(payload)));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/** Serialises a status to the exact bytes published. */
export function encodeStatus(status: Status): Uint8Array {
  return utf8(JSON.stringify(status));
}
