import type { Status } from '../status/status.js';
import { FAILURE_CODES, type FailureCode } from '../wire/codes.js';
import { MAX_WINDOW_CHUNKS } from '../wire/constants.js';
import { definedOnly } from '../wire/defined.js';
import { expandRanges } from '../wire/ranges.js';
import type { ReceiverState, ReceiverView } from './planner-receivers.js';
import { MAX_RTO_MS, RttEstimator } from './rtt-estimator.js';

export type { ReceiverView } from './planner-receivers.js';

/** Options of `SendPlanner`; every time is in milliseconds of the clock handed to its methods. */
export interface SendPlannerOptions {
  /** Number of chunks in the transfer. */
  chunks: number;
  /**
   * Chunks allowed beyond the slowest receiver's `next` at the start. Default `maxWindow`: the window exists to
   * keep the broker's queue for a receiver below its limit, which `maxWindow` already does, so probing upwards
   * from a small window (TCP's slow start) would only cost round trips. Losses still halve it.
   */
  initialWindow?: number;
  /**
   * Most chunks ever allowed beyond the slowest receiver's `next`. Default 256: well below Mosquitto's default
   * per-subscriber queue (20 in flight + 1000 queued), so the broker never has to drop.
   */
  maxWindow?: number;
  /**
   * A receiver silent this long has left: it stops setting the pace and the sender stops waiting for it (it counts
   * again when it speaks again). Default SILENT_RECEIVER_MS (3,000): six of the heartbeats a receiver MUST send
   * every 500 ms while a transfer is in progress.
   */
  stallMs?: number;
  /** Receivers that must confirm before the transfer counts as delivered. Default 1. */
  minReceivers?: number;
  /**
   * Chunks published before any receiver has answered (never more than the window). Default 0. Receivers keep
   * chunks that arrive while they set a transfer up (PROTOCOL.md 8.2), so this saves the round trip of the join,
   * and the outgoing chunks carry the TCP acknowledgements a broker without TCP_NODELAY waits for.
   */
  blindChunks?: number;
}

/** Default `stallMs`: a receiver heard from less recently than this, in milliseconds, is not waited for. */
export const SILENT_RECEIVER_MS = 3000;
/** Requests for the same resent chunk within this many milliseconds (or one round trip) are served by one resend. */
const MERGE_REQUESTS_MS = 20;
/** Most receivers a sender keeps track of; statuses from further receiver ids are ignored. */
export const MAX_RECEIVERS = 64;
/**
 * Resend budgets, in chunk publications: one receiver's requests (and its retransmission timer) may cost at most
 * RESEND_BUDGET_PER_RECEIVER times the file's chunks plus RESEND_ALLOWANCE, all receivers together at most
 * RESEND_BUDGET_TOTAL times plus twice the allowance. Requests beyond are ignored, so forged repair requests cost a
 * bounded multiple of the file (PROTOCOL.md, sender rules).
 */
export const RESEND_BUDGET_PER_RECEIVER = 3;
export const RESEND_BUDGET_TOTAL = 6;
export const RESEND_ALLOWANCE = 256;

/**
 * How long every receiver that answered must have been failed before the send fails, in milliseconds: one
 * silence period. One forged `failed` from a made-up receiver cannot end a send that a real receiver is about to
 * join (its join comes within a heartbeat or a manifest repeat); a genuine refusal ends it this much later.
 */
export const FAIL_GRACE_MS = SILENT_RECEIVER_MS;

/** Refusal codes after which a sender offers the transfer again (FAILURE_CODES marks them `retry`). */
const RETRY_LATER: ReadonlySet<string> = new Set(
  Object.entries(FAILURE_CODES)
    .filter(([, code]) => 'retry' in code && code.retry)
    .map(([name]) => name),
);

/** Where the transfer stands. `delivered`: enough receivers confirmed and nobody active is still receiving. */
export type PlannerPhase = 'waiting-for-receivers' | 'sending' | 'delivered' | 'failed';

/**
 * The sender's decisions, with no I/O and no timers: which chunk to publish next, which to publish again, and
 * how many may be outstanding. Flow control is receiver-driven, like TCP: the window (`cwnd`, in chunks) is
 * counted from the slowest active receiver's cumulative acknowledgement (`next`), grows while receivers keep up
 * and halves when they report losses, and never exceeds what a receiver offers (`win`) or `maxWindow`.
 */
export class SendPlanner {
  readonly chunks: number;
  private readonly maxWindow: number;
  private readonly stallMs: number;
  private readonly minReceivers: number;
  private readonly blindChunks: number;
  private readonly receivers = new Map<string, ReceiverState>();
  /** Last time each chunk was published, NaN when never. */
  private readonly lastSentMs: Float64Array;
  /** How often each chunk was published. */
  private readonly sendCount: Uint16Array;
  private readonly resendQueue: number[] = [];
  private readonly queued: Uint8Array;
  private nextFresh = 0;
  private cwnd: number;
  private ssthresh: number;
  private recoverUntil = -1;
  private readonly rtt = new RttEstimator();
  private retransmissions = 0;
  private publications = 0;
  private lastAnyProgressMs: number;
  /** When a receiver last reported a failure (FAIL_GRACE_MS). */
  private lastFailureMs = Number.NEGATIVE_INFINITY;
  private resendsQueued = 0;

  constructor(options: SendPlannerOptions, nowMs: number) {
    this.chunks = options.chunks;
    this.maxWindow = options.maxWindow ?? MAX_WINDOW_CHUNKS;
    this.cwnd = Math.min(options.initialWindow ?? this.maxWindow, this.maxWindow);
    this.ssthresh = this.maxWindow;
    this.stallMs = options.stallMs ?? SILENT_RECEIVER_MS;
    this.minReceivers = options.minReceivers ?? 1;
    this.blindChunks = Math.min(options.blindChunks ?? 0, this.maxWindow);
    this.lastSentMs = new Float64Array(this.chunks).fill(Number.NaN);
    this.sendCount = new Uint16Array(this.chunks);
    this.queued = new Uint8Array(this.chunks);
    this.lastAnyProgressMs = nowMs;
  }

  /** Takes a receiver's status into account. Returns true when the sender should republish the manifest. */
  onStatus(status: Status, nowMs: number): boolean {
    let r = this.receivers.get(status.rx);
    if (!r) {
      if (this.receivers.size >= MAX_RECEIVERS && !this.evictIdle()) return false;
      r = {
        id: status.rx,
        state: 'want-manifest', // neutral until this status is applied below
        next: 0,
        high: -1,
        win: this.maxWindow,
        lastHeardMs: nowMs,
        lastProgressMs: nowMs,
        lastAdvanceMs: nowMs,
        finalFailure: false,
        rtoMs: this.rtt.rtoMs,
        resends: 0,
      };
      this.receivers.set(status.rx, r);
    }
    r.lastHeardMs = nowMs;
    // Final: late duplicates change nothing. A refusal that is not final (a tampered copy of a signed manifest
    // refused as bad_signature, PROTOCOL.md 12) gives way to what the receiver says next.
    if (r.state === 'complete' || (r.state === 'failed' && r.finalFailure)) return false;
    if (status.reason !== undefined) r.reason = status.reason;
    // A refusal that says "try again later" (the receiver is full) is not final: the sender keeps offering the
    // manifest, and the receiver takes the transfer once it has room.
    if (status.state === 'failed' && status.reason !== undefined && RETRY_LATER.has(status.reason)) {
      r.state = 'want-manifest';
      return false;
    }
    r.state = status.state;
    if (status.state === 'want-manifest') return true;
    if (status.state === 'complete') {
      r.next = this.chunks;
      r.high = this.chunks - 1;
      this.lastAnyProgressMs = nowMs;
      return false;
    }
    if (status.state === 'failed') {
      r.finalFailure = FAILURE_CODES[status.reason as FailureCode]?.final ?? true;
      this.lastFailureMs = nowMs;
      return false;
    }

    const next = Math.min(status.next ?? 0, this.chunks);
    const high = Math.min(status.high ?? -1, this.chunks - 1);
    if (status.win !== undefined) r.win = status.win;
    const slowestBefore = this.slowestNext(nowMs);
    if (next > r.next || high > r.high) {
      if (high > r.high) this.sampleRtt(high, nowMs);
      r.lastProgressMs = nowMs;
      r.lastAdvanceMs = nowMs;
      this.lastAnyProgressMs = nowMs;
      r.rtoMs = this.rtt.rtoMs;
    }
    r.next = Math.max(r.next, next);
    r.high = Math.max(r.high, high);
    this.resendLostLowest(r, nowMs);

    // Grow the window by what the slowest receiver newly acknowledged (slow start, then additive increase).
    const slowestAfter = this.slowestNext(nowMs);
    const acked = slowestAfter - slowestBefore;
    if (acked > 0 && Number.isFinite(acked)) {
      this.cwnd = Math.min(
        this.maxWindow,
        this.cwnd < this.ssthresh ? this.cwnd + acked : this.cwnd + acked / this.cwnd,
      );
    }

    // A gap the receiver reports while later chunks keep arriving is loss on the way (a lossy last hop, a broker
    // dropping one message), not a queue that overflows: the queue is moving, so the window stays and only the
    // missing chunks go out again. Congestion shows as a queue that stops moving, which the retransmission timer
    // detects (tick). The window cap keeps each receiver's broker queue below the broker's limit either way.
    const missing = status.missing ?? [];
    if (missing.length > 0)
      for (const index of expandRanges(missing, this.chunks)) this.queueResend(index, nowMs, r);
    return false;
  }

  /**
   * The next chunk to publish now, or undefined when the window is full or there is nothing to send. Resends
   * come first. Call `markSent` once it has been handed to the broker.
   */
  take(nowMs: number): { index: number; resend: boolean } | undefined {
    const resend = this.resendQueue.shift();
    if (resend !== undefined) {
      this.queued[resend] = 0;
      return { index: resend, resend: true };
    }
    // Every active receiver already holds what lies below the slowest one's `next` (a receiver that resumed, or
    // a sender that restarted): skip it.
    const base = this.slowestNext(nowMs);
    if (Number.isFinite(base) && base > this.nextFresh) this.nextFresh = Math.min(base, this.chunks);
    if (this.nextFresh >= this.chunks) return undefined;
    const limit = this.windowLimit(nowMs);
    if (this.nextFresh >= limit) return undefined;
    return { index: this.nextFresh, resend: false };
  }

  /** Records that chunk `index` was published at `nowMs`. */
  markSent(index: number, nowMs: number): void {
    if (index === this.nextFresh) {
      this.nextFresh++;
      this.lastAnyProgressMs = nowMs; // a first publication is progress that nobody else can fake
    }
    const count = this.sendCount[index] ?? 0;
    if (count > 0) this.retransmissions++;
    this.publications++;
    this.sendCount[index] = Math.min(count + 1, 65_535);
    this.lastSentMs[index] = nowMs;
  }

  /**
   * Timer work, called every few tens of milliseconds. A receiver that made no progress for its retransmission
   * timeout while it still lacks published chunks gets a probe: the last chunk published (chunks lost at the tail
   * have no later chunk to reveal their gap; the probe does, and the receiver then lists them in `missing`) and its
   * lowest missing chunk. The queue stopped moving, which is congestion: the window halves (once per round trip)
   * and the timeout doubles until the receiver progresses again.
   */
  tick(nowMs: number): void {
    for (const r of this.receivers.values()) {
      if (r.state !== 'receiving' || this.isStalled(r, nowMs)) continue;
      if (nowMs - r.lastProgressMs < r.rtoMs) continue;
      r.lastProgressMs = nowMs;
      const lastSent = this.nextFresh - 1;
      // It holds everything published so far: nothing is outstanding, the window is what holds the sender back.
      if (r.next > lastSent) continue;
      if (r.high < lastSent) this.queueResend(lastSent, nowMs, r);
      if (r.next < r.high) this.queueResend(r.next, nowMs, r);
      r.rtoMs = Math.min(r.rtoMs * 2, MAX_RTO_MS);
      if (lastSent > this.recoverUntil) {
        this.ssthresh = Math.max(4, Math.floor(this.cwnd / 2));
        this.cwnd = this.ssthresh;
        this.recoverUntil = lastSent;
      }
    }
  }

  /** Where the transfer stands. */
  phase(nowMs: number): PlannerPhase {
    let complete = 0;
    let failed = 0;
    let active = 0;
    for (const r of this.receivers.values()) {
      if (r.state === 'complete') complete++;
      else if (r.state === 'failed') failed++;
      else if (!this.isStalled(r, nowMs)) active++;
    }
    if (active > 0) return 'sending';
    if (complete >= this.minReceivers) return 'delivered';
    if (
      complete === 0 &&
      failed > 0 &&
      failed === this.receivers.size &&
      nowMs - this.lastFailureMs >= FAIL_GRACE_MS
    )
      return 'failed';
    return this.receivers.size === 0 ? 'waiting-for-receivers' : 'sending';
  }

  /** True when a receiver that joined has gone silent without a final word. */
  hasStalled(nowMs: number): boolean {
    for (const r of this.receivers.values())
      if (r.state === 'receiving' && this.isStalled(r, nowMs)) return true;
    return false;
  }

  /** Receivers that completed (the session passes on only completions with a valid proof of receipt). */
  get completed(): number {
    let n = 0;
    for (const r of this.receivers.values()) if (r.state === 'complete') n++;
    return n;
  }

  /** Receivers that joined (receiving, complete or failed); a sender repeats its manifest until enough have. */
  get joined(): number {
    let n = 0;
    for (const r of this.receivers.values()) if (r.state !== 'want-manifest') n++;
    return n;
  }

  /**
   * Last time a receiver acknowledged more (a higher `next` or `high`) or proved completion; a receiver that only
   * joins or repeats itself is no progress. The sender gives up `--timeout` after it.
   */
  get lastProgressMs(): number {
    return this.lastAnyProgressMs;
  }

  /** Chunk publications so far, first ones and resends. */
  get published(): number {
    return this.publications;
  }

  /** Chunks published more than once so far (each extra publication counts once). */
  get retransmitted(): number {
    return this.retransmissions;
  }

  /** Current congestion window, in chunks. */
  get window(): number {
    return Math.floor(this.cwnd);
  }

  /** Smoothed round-trip time from chunk publication to acknowledgement, NaN until measured. */
  get smoothedRttMs(): number {
    return this.rtt.smoothedMs;
  }

  /** What the sender knows about each receiver. */
  receiverViews(nowMs: number): ReceiverView[] {
    return [...this.receivers.values()].map((r) =>
      definedOnly({
        id: r.id,
        state: r.state === 'receiving' && this.isStalled(r, nowMs) ? ('stalled' as const) : r.state,
        next: r.next,
        high: r.high,
        lastHeardMs: r.lastHeardMs,
        reason: r.reason,
      }),
    );
  }

  private isStalled(r: ReceiverState, nowMs: number): boolean {
    return nowMs - r.lastHeardMs >= this.stallMs;
  }

  /**
   * Makes room in a full receiver table for a new receiver id: gives up the receiver heard from least recently
   * among those that never claimed a chunk (`next` 0, `high` -1) and are not complete. A receiver that makes
   * progress or proved receipt is never given up for a new id; made-up ids that claim nothing push out only each
   * other. Returns false when there is none to give up.
   */
  private evictIdle(): boolean {
    let idle: ReceiverState | undefined;
    for (const r of this.receivers.values()) {
      if (r.state === 'complete' || r.next > 0 || r.high >= 0) continue;
      if (!idle || r.lastHeardMs < idle.lastHeardMs) idle = r;
    }
    if (idle) this.receivers.delete(idle.id);
    return idle !== undefined;
  }

  /**
   * True when receiver `r` sets the pace at `nowMs`: it is receiving, was heard from within `stallMs`, and its
   * `next` or `high` rose within `stallMs` of the latest rise of any receiver (`freshestMs`). A receiver that stops
   * advancing while others go on (one that offers a window of 1 and never takes a chunk) stops holding them back;
   * it still gets every resend it asks for.
   */
  private setsPace(r: ReceiverState, nowMs: number, freshestMs: number): boolean {
    return (
      r.state === 'receiving' && !this.isStalled(r, nowMs) && freshestMs - r.lastAdvanceMs < this.stallMs
    );
  }

  /** The latest time any receiving receiver's `next` or `high` rose. */
  private freshestAdvanceMs(nowMs: number): number {
    let freshest = Number.NEGATIVE_INFINITY;
    for (const r of this.receivers.values())
      if (r.state === 'receiving' && !this.isStalled(r, nowMs))
        freshest = Math.max(freshest, r.lastAdvanceMs);
    return freshest;
  }

  /** Lowest `next` among receivers that set the pace (receiving, not stalled); Infinity when there are none. */
  private slowestNext(nowMs: number): number {
    let slowest = Number.POSITIVE_INFINITY;
    const freshest = this.freshestAdvanceMs(nowMs);
    for (const r of this.receivers.values()) {
      if (this.setsPace(r, nowMs, freshest)) slowest = Math.min(slowest, r.next);
    }
    return slowest;
  }

  /**
   * First chunk index that may not be published yet. Two limits: the receiver's window `win` counts from its `next`
   * (what it is ready to hold beyond its first hole: its memory), the congestion window counts from its `high` + 1
   * (what is in flight on the way to it: the broker's queue). Counting `cwnd` from `next` instead would let one lost
   * chunk stop the flow for a whole repair round trip, while its repair waits behind the queue.
   */
  private windowLimit(nowMs: number): number {
    let base = Number.POSITIVE_INFINITY;
    let top = Number.POSITIVE_INFINITY;
    let win = Number.POSITIVE_INFINITY;
    const freshest = this.freshestAdvanceMs(nowMs);
    for (const r of this.receivers.values()) {
      if (!this.setsPace(r, nowMs, freshest)) continue;
      base = Math.min(base, r.next);
      top = Math.min(top, Math.max(r.next, r.high + 1));
      win = Math.min(win, r.win);
    }
    // Nobody is receiving: publish nothing into the void, except the blind start while nobody has answered yet.
    if (!Number.isFinite(base))
      return this.receivers.size === 0 ? Math.floor(Math.min(this.blindChunks, this.cwnd)) : 0;
    return Math.min(base + Math.max(1, win), top + Math.max(1, Math.floor(this.cwnd)));
  }

  /**
   * The receiver's lowest missing chunk (`next`) holds the window back. When the receiver already holds a chunk that
   * was published once, after the last copy of `next` (its `high`), that copy is lost: brokers keep one publisher's
   * messages in order for a subscriber, so it would have arrived first. It goes out again at once, without waiting
   * for the receiver's repeated request (PROTOCOL.md 7.2: a few hundred milliseconds while the window stands still).
   * Like TCP's RACK; once resent, the rule fires again only when a chunk published after the resend arrives.
   */
  private resendLostLowest(r: ReceiverState, nowMs: number): void {
    const lowest = r.next;
    const highest = r.high;
    if (lowest >= highest || highest >= this.chunks) return;
    if (this.sendCount[highest] !== 1) return; // which copy of it arrived is unknown
    const lowestSent = this.lastSentMs[lowest] ?? Number.NaN;
    const highestSent = this.lastSentMs[highest] ?? Number.NaN;
    if (Number.isNaN(lowestSent) || !(highestSent > lowestSent)) return;
    this.queueResend(lowest, nowMs, r, true);
  }

  /** Queues chunk `index` to go out again; `lost`: its last copy is known to be lost, so no merging. */
  private queueResend(index: number, nowMs: number, r: ReceiverState, lost = false): void {
    if (this.queued[index] === 1) return;
    if (r.resends >= RESEND_BUDGET_PER_RECEIVER * this.chunks + RESEND_ALLOWANCE) return;
    if (this.resendsQueued >= RESEND_BUDGET_TOTAL * this.chunks + 2 * RESEND_ALLOWANCE) return;
    const last = this.lastSentMs[index] ?? Number.NaN;
    // Never sent and still ahead: it goes out as a fresh chunk in order. (Never sent but behind `nextFresh` means
    // it was skipped because every receiver then held it; a receiver that joined later may need it.)
    if (Number.isNaN(last) && index >= this.nextFresh) return;
    // Several receivers asking for the same resent chunk at about the same time get one resend. A chunk sent
    // only once is resent at the first request: receivers pace their own repeated requests (RepairRequests).
    // The window follows the round trip (at least MERGE_REQUESTS_MS): on a loaded host two receivers' reports of
    // the same loss can arrive further apart than a fixed few milliseconds.
    const srtt = this.rtt.smoothedMs;
    const mergeMs = Math.max(MERGE_REQUESTS_MS, Number.isNaN(srtt) ? 0 : srtt);
    if (!lost && (this.sendCount[index] ?? 0) >= 2 && nowMs - last < mergeMs) return;
    this.queued[index] = 1;
    this.resendQueue.push(index);
    r.resends++;
    this.resendsQueued++;
  }

  private sampleRtt(index: number, nowMs: number): void {
    if (this.sendCount[index] !== 1) return; // Karn: a resent chunk's acknowledgement is ambiguous
    const sent = this.lastSentMs[index] ?? Number.NaN;
    if (!Number.isNaN(sent)) this.rtt.sample(sent, nowMs);
  }
}
