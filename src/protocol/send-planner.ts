import { FAILURE_CODES } from './codes.js';
import { MAX_WINDOW_CHUNKS } from './constants.js';
import { definedOnly } from './defined.js';
import { expandRanges } from './ranges.js';
import type { Status } from './status.js';

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
  /** A receiver silent this long stops setting the pace (it may come back). Default 10,000. */
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

/** Refusal codes after which a sender offers the transfer again (FAILURE_CODES marks them `retry`). */
const RETRY_LATER: ReadonlySet<string> = new Set(
  Object.entries(FAILURE_CODES)
    .filter(([, code]) => 'retry' in code && code.retry)
    .map(([name]) => name),
);

/** What the sender knows about one receiver. */
export interface ReceiverView {
  id: string;
  state: Status['state'] | 'stalled';
  /** Every chunk below this index is held by the receiver. */
  next: number;
  high: number;
  reason?: string;
  lastHeardMs: number;
}

interface ReceiverState {
  id: string;
  state: Status['state'];
  next: number;
  high: number;
  win: number;
  reason?: string;
  lastHeardMs: number;
  lastProgressMs: number;
  rtoMs: number;
  /** Resends this receiver's requests and timer caused. */
  resends: number;
}

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
  private srttMs = Number.NaN;
  private retransmissions = 0;
  private publications = 0;
  private lastAnyProgressMs: number;
  private resendsQueued = 0;

  constructor(options: SendPlannerOptions, nowMs: number) {
    this.chunks = options.chunks;
    this.maxWindow = options.maxWindow ?? MAX_WINDOW_CHUNKS;
    this.cwnd = Math.min(options.initialWindow ?? this.maxWindow, this.maxWindow);
    this.ssthresh = this.maxWindow;
    this.stallMs = options.stallMs ?? 10_000;
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
      if (this.receivers.size >= MAX_RECEIVERS) return false;
      r = {
        id: status.rx,
        state: 'want-manifest', // neutral until this status is applied below
        next: 0,
        high: -1,
        win: this.maxWindow,
        lastHeardMs: nowMs,
        lastProgressMs: nowMs,
        rtoMs: this.baseRtoMs(),
        resends: 0,
      };
      this.receivers.set(status.rx, r);
    }
    r.lastHeardMs = nowMs;
    if (r.state === 'complete' || r.state === 'failed') return false; // final; late duplicates change nothing
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
    if (status.state === 'failed') return false;

    const next = Math.min(status.next ?? 0, this.chunks);
    const high = Math.min(status.high ?? -1, this.chunks - 1);
    if (status.win !== undefined) r.win = status.win;
    const slowestBefore = this.slowestNext(nowMs);
    if (next > r.next || high > r.high) {
      if (high > r.high) this.sampleRtt(high, nowMs);
      r.lastProgressMs = nowMs;
      this.lastAnyProgressMs = nowMs;
      r.rtoMs = this.baseRtoMs();
    }
    r.next = Math.max(r.next, next);
    r.high = Math.max(r.high, high);

    // Grow the window by what the slowest receiver newly acknowledged (slow start, then additive increase).
    const slowestAfter = this.slowestNext(nowMs);
    const acked = slowestAfter - slowestBefore;
    if (acked > 0 && Number.isFinite(acked)) {
      this.cwnd = Math.min(
        this.maxWindow,
        this.cwnd < this.ssthresh ? this.cwnd + acked : this.cwnd + acked / this.cwnd,
      );
    }

    const missing = status.missing ?? [];
    if (missing.length > 0) {
      const firstMissing = missing[0]?.[0] ?? 0;
      // One loss event per round trip: halve once, then hold until the chunks sent before it are acknowledged.
      if (firstMissing > this.recoverUntil) {
        this.ssthresh = Math.max(4, Math.floor(this.cwnd / 2));
        this.cwnd = this.ssthresh;
        this.recoverUntil = this.nextFresh - 1;
      }
      for (const index of expandRanges(missing, this.chunks)) this.queueResend(index, nowMs, r);
    }
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
   * Timer work, called every few tens of milliseconds: a receiver that made no progress for its retransmission
   * timeout gets the chunks above its highest one sent again (they may have been lost at the tail, where no later
   * chunk reveals the gap), and the timeout doubles until it progresses again.
   */
  tick(nowMs: number): void {
    for (const r of this.receivers.values()) {
      if (r.state !== 'receiving' || this.isStalled(r, nowMs)) continue;
      if (nowMs - r.lastProgressMs < r.rtoMs) continue;
      const from = Math.max(r.next, r.high + 1);
      const to = Math.min(this.nextFresh - 1, from + Math.max(1, Math.floor(this.cwnd)) - 1);
      for (let i = from; i <= to; i++) this.queueResend(i, nowMs, r);
      // Holes below `high` are the receiver's to report; ask again by resending its lowest missing chunk.
      if (r.next < r.high) this.queueResend(r.next, nowMs, r);
      r.lastProgressMs = nowMs;
      r.rtoMs = Math.min(r.rtoMs * 2, 8000);
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
    if (complete === 0 && failed > 0 && failed === this.receivers.size) return 'failed';
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
    return this.srttMs;
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

  /** Lowest `next` among receivers that set the pace (receiving, not stalled); Infinity when there are none. */
  private slowestNext(nowMs: number): number {
    let slowest = Number.POSITIVE_INFINITY;
    for (const r of this.receivers.values()) {
      if (r.state === 'receiving' && !this.isStalled(r, nowMs)) slowest = Math.min(slowest, r.next);
    }
    return slowest;
  }

  private windowLimit(nowMs: number): number {
    let base = Number.POSITIVE_INFINITY;
    let win = Number.POSITIVE_INFINITY;
    for (const r of this.receivers.values()) {
      if (r.state !== 'receiving' || this.isStalled(r, nowMs)) continue;
      base = Math.min(base, r.next);
      win = Math.min(win, r.win);
    }
    // Nobody is receiving: publish nothing into the void, except the blind start while nobody has answered yet.
    if (!Number.isFinite(base))
      return this.receivers.size === 0 ? Math.floor(Math.min(this.blindChunks, this.cwnd)) : 0;
    return base + Math.max(1, Math.floor(Math.min(this.cwnd, win)));
  }

  private queueResend(index: number, nowMs: number, r: ReceiverState): void {
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
    const mergeMs = Math.max(MERGE_REQUESTS_MS, Number.isNaN(this.srttMs) ? 0 : this.srttMs);
    if ((this.sendCount[index] ?? 0) >= 2 && nowMs - last < mergeMs) return;
    this.queued[index] = 1;
    this.resendQueue.push(index);
    r.resends++;
    this.resendsQueued++;
  }

  private sampleRtt(index: number, nowMs: number): void {
    if (this.sendCount[index] !== 1) return; // Karn: a resent chunk's acknowledgement is ambiguous
    const sent = this.lastSentMs[index] ?? Number.NaN;
    if (Number.isNaN(sent)) return;
    const sample = Math.max(0, nowMs - sent);
    this.srttMs = Number.isNaN(this.srttMs) ? sample : this.srttMs * 0.875 + sample * 0.125;
  }

  private baseRtoMs(): number {
    return Number.isNaN(this.srttMs) ? 1000 : Math.min(8000, Math.max(300, 3 * this.srttMs + 100));
  }
}
