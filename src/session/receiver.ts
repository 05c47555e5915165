import { UsageError } from '../errors.js';
import { receiverWindow, STATUS_FLUSH_MS } from '../protocol/ack-policy.js';
import { askForBlindStart } from '../protocol/admission.js';
import { FAILURE_CODES, type FailureCode } from '../protocol/codes.js';
import { openChunk, openPage } from '../protocol/encryption.js';
import { statusKey } from '../protocol/status-seal.js';
import { filterProblem, parseTopic } from '../protocol/topics.js';
import type { MessageTransport } from '../transport/message-transport.js';
import {
  type CheckedManifest,
  type ManifestChecks,
  manifestChecks,
  manifestVerdict,
  readCheckedManifest,
} from './checked-manifest.js';
import { type Clock, monotonicClock, wallClock } from './clock.js';
import { type EarlyMessage, EarlyMessages } from './early-messages.js';
import { finishTransfer } from './finish-transfer.js';
import type { IncomingTransfer } from './incoming-transfer.js';
import { isolate } from './isolate-callback.js';
import { clearWayFor, FirstSeen } from './make-room.js';
import { openTransfer } from './open-transfer.js';
import { checkOutDir } from './out-dir-check.js';
import { acquireOutLock, type OutLock } from './out-lock.js';
import { trimPartialStates } from './partial-budget.js';
import { loadPartialStates, PARTIAL_TTL_MS, type PartialState } from './partial-state.js';
import { type ReceiveEvent, type ReceiverOptions, startedEvent } from './receive-events.js';
import { reportProgress } from './receive-progress.js';
import { defaultReceiverId } from './receiver-id.js';
import { RefusedTransfers } from './refused-transfers.js';
import { ReplayGuard } from './replay-guard.js';
import { RetainedPointers } from './retained-pointers.js';
import { SerialQueue } from './serial-queue.js';
import { ShareGroup, type ShareOptions, subscribeReceiver } from './share-group.js';
import { StatusPublisher } from './status-publisher.js';
import { PayloadReclaimer } from './young-gc.js';

export type { ReceiveEvent, ReceiverOptions } from './receive-events.js';

/**
 * Receives mqimg transfers: routes each message to its transfer, admits new transfers, reports progress and
 * missing chunks to the senders, and hands complete transfers to `saveVerified`. One instance serves any number
 * of senders and transfers at once. The steps of one transfer live in `IncomingTransfer`; the decisions in
 * protocol/ (`admit`, `AckPolicy`, `receiverWindow`).
 */
export class Receiver {
  readonly receiverId: string;
  private readonly transfers = new Map<string, IncomingTransfer>();
  private readonly statuses: StatusPublisher;
  private readonly early = new EarlyMessages();
  private readonly firstSeen = new FirstSeen();
  private readonly refused = new RefusedTransfers();
  private readonly pointers: RetainedPointers;
  /** Membership of a shared-subscription group (`shareGroup`), if any. */
  private readonly share: ShareGroup | undefined;
  /** Partial transfers found on disk at start, waiting for their manifest to resume. */
  private resumable = new Map<string, PartialState>();
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;
  private readonly clock: Clock;
  private readonly wallClock: Clock;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxTransfers: number;
  private readonly checks: ManifestChecks;
  private readonly reclaimer: PayloadReclaimer | undefined;
  private readonly queue: SerialQueue;
  private lock: OutLock | undefined;
  /** The library user's `onEvent`, isolated: a callback that throws is reported on stderr, never fatal. */
  private readonly onEvent: (event: ReceiveEvent) => void;
  /** Transfers being verified and saved. */
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly transport: MessageTransport,
    private readonly options: ReceiverOptions & ShareOptions,
  ) {
    const { shareGroup: g, ...rest } = options;
    this.share =
      g === undefined ? undefined : new ShareGroup(transport, g, { ...rest, refused: this.refused });
    this.receiverId = this.share?.receiverId ?? options.receiverId ?? defaultReceiverId(options.outDir);
    this.clock = options.clock ?? monotonicClock;
    this.wallClock = options.wallClock ?? wallClock;
    this.reclaimer = (options.gcEveryBytes ?? 0) > 0 ? new PayloadReclaimer(options.gcEveryBytes) : undefined;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.maxTransfers = options.maxTransfers ?? 16;
    const problem = filterProblem(options.topicFilter ?? '#');
    if (problem) throw new UsageError(`invalid --topic: ${problem}`);
    this.checks = manifestChecks(options, this.wallClock);
    this.statuses = new StatusPublisher(transport, this.checks.crypto, this.receiverId);
    this.pointers = new RetainedPointers(transport);
    this.onEvent = isolate(options.onEvent ?? (() => {}), (error) =>
      process.emitWarning(`mqimg: the onEvent callback threw: ${String(error)}`),
    );
    this.queue = new SerialQueue((error) => {
      // A bug in message handling must not end the process; it is reported like any refused message.
      this.emit({ event: 'rejected', topic: '', code: 'internal', message: String(error) });
    });
  }

  /**
   * Checks `outDir` (created if missing; UsageError when it cannot be written), locks it against a second
   * receiver, subscribes and starts receiving.
   */
  async start(): Promise<void> {
    await checkOutDir(this.options.outDir);
    this.lock = await acquireOutLock(this.options.outDir);
    if (this.checks.trust) {
      if (this.checks.trust.size === 0)
        throw new UsageError('--trust names no public key: nothing could be accepted');
      const { outDir, maxAgeMs } = this.options;
      this.checks.replayGuard = await ReplayGuard.load(outDir, maxAgeMs, this.wallClock());
    }
    this.stopListening = this.transport.onMessage((topic, payload) =>
      this.queue.run(() => this.onMessage(topic, payload)),
    );
    await subscribeReceiver(this.transport, this.options.topicFilter, this.options.chunkQos ?? 0, this.share);
    const { outDir, partialTtlMs } = this.options;
    this.resumable = await loadPartialStates(outDir, partialTtlMs ?? PARTIAL_TTL_MS, this.wallClock());
    // Partial state kept for resuming counts against --max-bytes on disk too: the oldest goes first.
    for (const id of await trimPartialStates(outDir, this.maxBytes, new Set())) this.resumable.delete(id);
    // A sender still running republishes its manifest when asked, and the transfer resumes where it stopped.
    for (const state of this.resumable.values()) {
      this.statuses.send(state.topic, state.manifest.id, { rx: this.receiverId, state: 'want-manifest' });
    }
    this.timer = setInterval(() => this.tick(), STATUS_FLUSH_MS);
  }

  /**
   * Stops receiving. Transfers in progress keep their partial state in `<out>/.mqimg-partial` (never in `<out>`
   * itself), so that a receiver started again with the same `outDir` resumes them.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopListening?.();
    await this.queue.idle();
    const pending = [...this.transfers.values()].filter((t) => !t.finishing);
    this.transfers.clear();
    await Promise.all(
      pending.map((t) => t.keepForResume(this.options.outDir, this.clock(), this.wallClock())),
    );
    await this.lock?.release();
  }

  /**
   * Resolves once every message received so far has been handled and every transfer that completed meanwhile
   * has been verified and saved, or refused. For tests and orderly shutdowns.
   */
  async idle(): Promise<void> {
    await this.queue.idle();
    while (this.background.size > 0) await Promise.all(this.background);
  }

  /** Number of transfers in progress. */
  get active(): number {
    return this.transfers.size;
  }

  private emit(event: ReceiveEvent): void {
    this.onEvent(event);
  }

  private onMessage(topicName: string, payload: Uint8Array): void | Promise<void> {
    // An empty payload is a retained message being cleared (`send --retain` replacing an image): not for us.
    if (payload.length === 0) return;
    // A manifest from `T/mqimg/retained` (RetainedPointers) counts as one from its own topic.
    const parsed = parseTopic(topicName) ?? this.pointers.announced(topicName, payload);
    if (parsed?.kind === 'manifest') return this.onManifest(parsed.topic, parsed.id, payload);
    if (parsed?.kind === 'chunk' || parsed?.kind === 'page')
      return this.onPiece(parsed.kind, parsed.topic, parsed.id, parsed.index, payload);
    // Statuses: only share group members subscribe to them.
    if (parsed?.kind === 'status')
      this.share?.onStatus(parsed.topic, parsed.id, payload, this.clock(), {
        transfers: this.transfers,
        statuses: this.statuses,
        yieldTransfer: (t, message) => this.abandon(t, 'taken_by_peer', message),
      });
  }

  private onManifest(topic: string, id: string, payload: Uint8Array): void | Promise<void> {
    const now = this.clock();
    if (this.statuses.isFinished(id)) {
      this.statuses.repeatFinal(id, now, true);
      return;
    }
    const current = this.transfers.get(id);
    if (current) {
      this.sendStatus(current, now);
      return;
    }
    // A sender's repeat handed to this member while a peer in its share group holds the transfer.
    if (this.share?.claimedByPeer(id, now)) return;
    const read = readCheckedManifest(payload, topic, this.checks);
    if (!(read instanceof Promise)) {
      this.admit(topic, id, read);
      return;
    }
    return read.then((checked) => this.admit(topic, id, checked));
  }

  /** Takes a transfer whose manifest was read (and checked), or refuses it. */
  private admit(topic: string, id: string, read: CheckedManifest): void {
    const verdict = manifestVerdict(read, id);
    if (verdict.kind !== 'take') {
      if (verdict.kind === 'fail') this.fail(topic, id, verdict.code, verdict.message);
      else this.emit({ event: 'rejected', topic, ...verdict.rejection });
      return;
    }
    const { manifest, chunkKey } = verdict;
    const limits = { maxBytes: this.maxBytes, maxTransfers: this.maxTransfers };
    const room = { limits, nowMs: this.clock(), firstSeen: this.firstSeen, topic };
    const refusal = clearWayFor(this.transfers, manifest, room, (t, code, why) => this.abandon(t, code, why));
    if (refusal) {
      if (!FAILURE_CODES[refusal.code].final) this.refused.note(topic, id, this.clock());
      this.fail(topic, id, refusal.code, refusal.message);
      return;
    }
    this.statuses.known(id);
    const retried = this.refused.forget(id);
    // From here to `transfers.set` nothing waits (the partial file is created synchronously), so no chunk or
    // repeated manifest of this transfer can arrive in between.
    const { outDir } = this.options;
    const nowMs = this.clock();
    const firstSeenMs = this.firstSeen.admit(id, nowMs);
    const context = { outDir, receiverId: this.receiverId, resumable: this.resumable, nowMs, firstSeenMs };
    const opened = openTransfer(context, topic, manifest, chunkKey);
    if (!opened.ok) {
      this.fail(topic, id, 'write_failed', opened.message);
      return;
    }
    const t = opened.transfer;
    if (chunkKey) t.statusKey = statusKey(this.checks.crypto, chunkKey);
    this.transfers.set(id, t);
    this.share?.follow(topic, id); // before the join status, which makes the sender publish more
    this.emit(startedEvent(manifest, topic, opened.resumedWith));
    // Pages and chunks that came before the manifest, in the order they came.
    const early = this.early.take(id);
    if (t.reassembly.complete) this.finish(t);
    else this.sendStatus(t, this.clock(), this.share || retried ? early : undefined);
    for (const m of early) this.queue.run(() => this.onPiece(m.kind, topic, id, m.index, m.payload));
  }

  /** A hash page or a chunk. */
  private onPiece(
    kind: 'page' | 'chunk',
    topic: string,
    id: string,
    index: number,
    payload: Uint8Array,
  ): void | Promise<void> {
    this.reclaimer?.released(payload.length);
    const t = this.transfers.get(id);
    if (!t) {
      const now = this.clock();
      if (this.statuses.isFinished(id)) this.statuses.repeatFinal(id, now, false);
      else {
        this.early.hold(id, { kind, index, payload });
        // Not a loss: a share member gets all pages; a transfer refused for now is asked for with room (tick).
        if (!this.share && !this.refused.has(id)) this.statuses.askForManifest(topic, id, now);
      }
      return;
    }
    if (t.finishing) return;
    const take = (bytes: Uint8Array) =>
      kind === 'page' ? this.storePage(t, index, bytes) : this.store(t, index, bytes);
    if (!t.chunkKey) return take(payload);
    const open = kind === 'page' ? openPage : openChunk;
    return open(this.checks.crypto, t.chunkKey, id, index, payload).then((opened) => {
      if (opened) return take(opened);
      this.emit({
        event: 'rejected',
        topic,
        code: 'chunk_auth_failed',
        message: `transfer ${id}: ${kind} ${index} fails authentication (changed in transit, or sealed under another key); dropped`,
      });
    });
  }

  private storePage(t: IncomingTransfer, page: number, bytes: Uint8Array): void {
    if (t.finishing || this.transfers.get(t.id) !== t) return;
    const outcome = t.storePage(page, bytes);
    if (outcome.kind === 'rejected') {
      const message = `transfer ${t.id}: ${outcome.message}`;
      this.emit({ event: 'rejected', topic: t.topic, code: 'page_hash_mismatch', message });
      return;
    }
    for (const [index, payload] of outcome.waiting) this.store(t, index, payload);
  }

  private store(t: IncomingTransfer, index: number, payload: Uint8Array): void {
    if (t.finishing || this.transfers.get(t.id) !== t) return;
    const now = this.clock();
    const outcome = t.store(index, payload, now, this.window(t));
    if (outcome.kind === 'stored') {
      if (outcome.complete) this.finish(t);
      else if (outcome.reportNow) this.sendStatus(t, now);
    } else if (outcome.kind === 'write_failed') {
      this.abandon(t, 'write_failed', outcome.message);
    } else if (outcome.kind === 'rejected') {
      const message = `transfer ${t.id}: ${outcome.message}`;
      this.emit({ event: 'rejected', topic: t.topic, code: outcome.code, message });
    } else if (outcome.kind === 'waiting' && !outcome.held) {
      this.sendStatus(t, now); // asks for the missing hash page at once
    }
  }

  /** Verifies and saves a transfer whose chunks are all held, then tells its sender. Runs in the background. */
  private finish(t: IncomingTransfer): void {
    t.finishing = true;
    const saving = this.finishing(t).finally(() => this.background.delete(saving));
    this.background.add(saving);
  }

  private async finishing(t: IncomingTransfer): Promise<void> {
    const { transport, statuses, clock, receiverId, checks } = this;
    const saving = {
      ...this.options,
      replayGuard: checks.replayGuard,
      wallNowMs: this.wallClock(),
      receiverId,
    };
    const ctx = { ...saving, transport, statuses, clock, emit: (event: ReceiveEvent) => this.emit(event) };
    const failure = await finishTransfer(t, ctx, () => this.transfers.delete(t.id));
    if (failure) this.abandon(t, failure.code, failure.message);
  }

  /**
   * Gives a transfer up. After a timeout its partial state is kept (the sender may come back within
   * PARTIAL_TTL_MS and the transfer then resumes); after anything else it is deleted.
   */
  private abandon(t: IncomingTransfer, code: FailureCode, message: string): void {
    if (this.transfers.get(t.id) !== t) return;
    this.transfers.delete(t.id);
    t.finishing = true;
    const resumable = code === 'timeout' && t.received > 0; // nothing held, nothing to keep
    // Kept, and resumable by content in this process too (a sender that restarts sends with a new id).
    if (resumable) this.resumable.set(t.id, t.partialState(this.wallClock()));
    if (resumable) void this.keepForResume(t);
    else void t.discard(this.options.outDir);
    this.fail(t.topic, t.id, code, message, t.statusKey);
  }

  /** Keeps a transfer's partial state for a resume, within --max-bytes of partial state on disk. */
  private async keepForResume(t: IncomingTransfer): Promise<void> {
    await t.keepForResume(this.options.outDir, this.clock(), this.wallClock());
    await trimPartialStates(this.options.outDir, this.maxBytes, new Set(this.transfers.keys())).catch(
      () => {},
    );
  }

  /** Reports a failure to the sender (StatusPublisher.failed) and as a `failed` event. */
  private fail(
    topic: string,
    id: string,
    code: FailureCode,
    message: string,
    key?: Promise<Uint8Array>,
  ): void {
    this.statuses.failed(topic, id, code, this.clock(), key);
    this.emit({ event: 'failed', id, topic, code, message });
  }

  /** Chunks this receiver offers a sender beyond its `next`: its budget shared among active transfers. */
  private window(t: IncomingTransfer): number {
    return receiverWindow(this.transfers.size, t.manifest.chunkBytes);
  }

  /** Publishes `t`'s status; a join status after its blind start went by (`early`: what came of it) asks for it. */
  private sendStatus(t: IncomingTransfer, now: number, early?: readonly EarlyMessage[]): void {
    let status = t.status(this.receiverId, this.window(t), now);
    const held = (m: EarlyMessage) => (m.kind === 'chunk' ? [m.index] : []);
    if (early) status = askForBlindStart(status, t.manifest.chunks, new Set(early.flatMap(held)));
    this.statuses.send(t.topic, t.id, status, t.statusKey);
  }

  private tick(): void {
    const now = this.clock();
    for (const t of this.transfers.values()) {
      if (t.finishing) continue;
      if (now - t.lastActivityMs > this.timeoutMs) {
        this.abandon(t, 'timeout', `${t.manifest.name}: ${t.heldSummary(now)}; the sender may be gone`);
        continue;
      }
      if (t.ack.due(now)) this.sendStatus(t, now);
      t.saveStateEvery(this.options.outDir, now, this.wallClock());
      reportProgress(t, now, (event) => this.emit(event));
    }
    this.pointers.tick(now, this.transfers);
    for (const r of this.refused.askNow(now, this.maxTransfers - this.transfers.size)) // room again: ask at once
      this.statuses.send(r.topic, r.id, { rx: this.receiverId, state: 'want-manifest' });
    this.share?.tick(now, this.transfers);
  }
}
