import { messageOf } from '../errors.js';
import { hashMatches } from '../protocol/manifest/chunk-hashes.js';
import type { Manifest } from '../protocol/manifest/manifest.js';
import {
  type CheckedManifest,
  manifestVerdict,
  readCheckedManifest,
} from '../protocol/manifest/manifest-checks.js';
import { askForBlindStart } from '../protocol/receive/admission.js';
import { chunkMismatch } from '../protocol/receive/transfer-intake.js';
import { openChunk, openPage } from '../protocol/security/encryption.js';
import { chunkTagInput, receiptProof } from '../protocol/security/receipt.js';
import { namedStatusKey } from '../protocol/security/recipient.js';
import { receiverWindow, STATUS_FLUSH_MS } from '../protocol/status/ack-policy.js';
import { statusKey } from '../protocol/status/status-seal.js';
import { fromBase64 } from '../protocol/wire/bytes.js';
import { FAILURE_CODES, type FailureCode } from '../protocol/wire/codes.js';
import { type ParsedTopic, parseTopic } from '../protocol/wire/topics.js';
import type { Cancel, Clock } from '../util/clock.js';
import { callIsolated } from '../util/isolate-callback.js';
import { SerialQueue } from '../util/serial-queue.js';
import { CoreTransfer } from './core-transfer.js';
import { type EarlyMessage, EarlyMessages } from './early-messages.js';
import { completedEvent, type ReceiveEvent, startedEvent } from './events.js';
import { reportProgress } from './progress.js';
import type { ReceiverCoreOptions } from './receiver-options.js';
import { clearWayFor, FirstSeen } from './room.js';
import { StatusPublisher } from './status-publisher.js';
import type { StoredFile } from './transfer-store.js';

/** Runs `fn` on each item in order, synchronously while `fn` returns nothing, waiting where it returns a promise. */
function inOrder<T>(items: readonly T[], fn: (item: T) => void | Promise<void>): void | Promise<void> {
  for (let i = 0; i < items.length; i++) {
    const result = fn(items[i] as T);
    if (result instanceof Promise) return result.then(() => inOrder(items.slice(i + 1), fn));
  }
}

/**
 * The receiver of mqimg transfers, shared by `mqimg receive` (session/receive/receiver.ts, a disk store) and the
 * display page (display/page-receiver.ts, a memory store): routes each message to its transfer, admits new
 * transfers, checks pages and chunks on arrival, reports progress and missing chunks to the senders, verifies and
 * publishes complete files, and answers with the proof of receipt. Browser-safe: time, timers, hashing and storage
 * are handed in. Messages are handled one at a time in arrival order (SerialQueue), synchronously where the crypto
 * is synchronous. A subclass adds what one kind of receiver needs through the protected hooks.
 */
export class ReceiverCore<F extends StoredFile = StoredFile> {
  readonly receiverId: string;
  protected readonly transfers = new Map<string, CoreTransfer<F>>();
  protected readonly statuses: StatusPublisher;
  protected readonly clock: Clock;
  protected readonly wallClock: Clock;
  private readonly early = new EarlyMessages();
  private readonly firstSeen = new FirstSeen();
  private readonly queue: SerialQueue;
  /** Transfers being verified and published. */
  private readonly background = new Set<Promise<void>>();
  private cancelTimer: Cancel | undefined;
  private stopListening: (() => void) | undefined;

  constructor(protected readonly core: ReceiverCoreOptions<F>) {
    this.receiverId = core.receiverId;
    this.clock = core.clock;
    this.wallClock = core.wallClock;
    this.statuses = new StatusPublisher(core.transport, core.checks.crypto, core.receiverId);
    // A bug in message handling must not end the process; it is reported like any refused message.
    this.queue = new SerialQueue((error) =>
      this.emit({ event: 'rejected', topic: '', code: 'internal', message: String(error) }),
    );
  }

  /** Starts handling messages (the caller subscribes) and the status timer. */
  protected listen(): void {
    this.stopListening = this.core.transport.onMessage((topic, payload) => {
      const arrivedMs = this.clock();
      this.queue.run(() => this.onMessage(topic, payload, arrivedMs));
    });
    this.cancelTimer = this.core.scheduler.every(STATUS_FLUSH_MS, () => this.tick());
  }

  /**
   * Stops receiving. Transfers in progress are closed with `keep` (a disk store keeps them for a resume by a
   * receiver started again on the same folder).
   */
  async stop(): Promise<void> {
    this.cancelTimer?.();
    this.stopListening?.();
    await this.queue.idle();
    const pending = [...this.transfers.values()].filter((t) => !t.finishing);
    this.transfers.clear();
    await Promise.all(pending.map((t) => t.file.close(true)));
  }

  /**
   * Resolves once every message received so far has been handled and every transfer that completed meanwhile has
   * been verified and published, or refused. For tests and orderly shutdowns.
   */
  async idle(): Promise<void> {
    await this.queue.idle();
    while (this.background.size > 0) await Promise.all(this.background);
  }

  protected emit(event: ReceiveEvent): void {
    this.core.onEvent(event);
  }

  // Hooks: what a kind of receiver adds. The defaults are the page's (a plain receiver with no group or disk).

  /** A message on a topic that is not an mqimg transfer topic, read as one if it announces a transfer. */
  protected announced(_topic: string, _payload: Uint8Array): ParsedTopic | undefined {
    return undefined;
  }

  /** A status on a transfer's status topic (only share group members subscribe to them). */
  protected onStatus(_topic: string, _id: string, _payload: Uint8Array): void {}

  /** True when a manifest of transfer `id` is to be ignored at monotonic `nowMs` (a share group peer holds it). */
  protected heldElsewhere(_id: string, _nowMs: number): boolean {
    return false;
  }

  /** Transfer `id` was refused for now (`too_many_*`): it may be asked for again when there is room. */
  protected refusedForNow(_topic: string, _id: string): void {}

  /**
   * Transfer `id` was admitted; returns true when its join status should ask for the chunks of its blind start
   * (the sender sent them before this receiver could take them: a share member, or a transfer refused before).
   */
  protected admitted(_topic: string, _id: string): boolean {
    return false;
  }

  /** True when a piece of unknown transfer `id` should make this receiver ask for its manifest. */
  protected asksForUnknown(_id: string): boolean {
    return true;
  }

  /** A hash page or chunk of `bytes` arrived (its memory can be reclaimed after). */
  protected pieceArrived(_bytes: number): void {}

  /** What follows a publish, before the final status (republishing); returns the republish topic, if any. */
  protected afterPublish(_t: CoreTransfer<F>, _path: string): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  /** More timer work, after the transfers' own. */
  protected tickMore(_nowMs: number): void {}

  // Routing.

  private onMessage(name: string, payload: Uint8Array, arrivedMs: number): void | Promise<void> {
    // An empty payload is a retained message being cleared (`send --retain` replacing an image): not for us.
    if (payload.length === 0) return;
    const parsed = parseTopic(name) ?? this.announced(name, payload);
    if (parsed?.kind === 'manifest') return this.onManifest(parsed.topic, parsed.id, payload);
    if (parsed?.kind === 'chunk' || parsed?.kind === 'page')
      return this.onPiece(parsed.kind, parsed.topic, parsed.id, parsed.index, payload, arrivedMs);
    if (parsed?.kind === 'status') this.onStatus(parsed.topic, parsed.id, payload);
  }

  private onManifest(topic: string, id: string, payload: Uint8Array): void | Promise<void> {
    const now = this.clock();
    if (this.statuses.isFinished(id)) return this.statuses.repeatFinal(id, now, true);
    const current = this.transfers.get(id);
    if (current) return this.sendStatus(current, now);
    if (this.heldElsewhere(id, now)) return;
    const read = readCheckedManifest(payload, topic, this.core.checks);
    if (!(read instanceof Promise)) return this.admit(topic, id, read);
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
    // The key this receiver seals its statuses of this transfer with, refusals included (a named receiver's, 12.1,
    // or an encrypted transfer's, 13.1); none for a plain transfer.
    const key =
      this.namedKey(manifest) ?? (chunkKey ? statusKey(this.core.checks.crypto, chunkKey) : undefined);
    const { maxBytes, maxTransfers, keepsOnlyNewest } = this.core;
    const room = {
      limits: { maxBytes, maxTransfers },
      nowMs: this.clock(),
      firstSeen: this.firstSeen,
      topic,
    };
    const refusal = clearWayFor(this.transfers, manifest, { ...room, keepsOnlyNewest }, (t, code, why) =>
      this.abandon(t, code, why),
    );
    if (refusal) {
      if (!FAILURE_CODES[refusal.code].final) this.refusedForNow(topic, id);
      this.fail(topic, id, refusal.code, refusal.message, key);
      return;
    }
    this.statuses.known(id);
    // From here to `transfers.set` nothing waits (the store opens synchronously), so no chunk or repeated manifest
    // of this transfer can arrive in between.
    const nowMs = this.clock();
    const startedMs = this.firstSeen.admit(id, nowMs);
    let t: CoreTransfer<F> | undefined;
    const opened = this.core.store.open(manifest, topic, () => ({
      bitmap: t?.reassembly.bitmap() ?? new Uint8Array(0),
      proof: t?.proof.bytes ?? new Uint8Array(0),
    }));
    if (!opened.ok) {
      this.fail(topic, id, 'write_failed', opened.message, key);
      return;
    }
    t = new CoreTransfer(manifest, topic, opened.file, chunkKey, startedMs, opened.resumed);
    t.lastActivityMs = nowMs;
    t.statusKey = key;
    this.transfers.set(id, t);
    const askBlindStart = this.admitted(topic, id); // before the join status, which makes the sender publish more
    const resumedWith = opened.resumed ? t.reassembly.received : undefined;
    this.emit(startedEvent(manifest, topic, resumedWith));
    // Pages and chunks that came before the manifest, in the order they came.
    const early = this.early.take(id);
    if (t.reassembly.complete) this.finish(t);
    else this.sendStatus(t, this.clock(), askBlindStart ? early : undefined);
    for (const m of early) {
      const arrivedMs = this.clock();
      this.queue.run(() => this.onPiece(m.kind, topic, id, m.index, m.payload, arrivedMs));
    }
  }

  /** A hash page or a chunk. */
  private onPiece(
    kind: 'page' | 'chunk',
    topic: string,
    id: string,
    index: number,
    payload: Uint8Array,
    arrivedMs: number,
  ): void | Promise<void> {
    this.pieceArrived(payload.length);
    const t = this.transfers.get(id);
    if (!t) {
      const now = this.clock();
      if (this.statuses.isFinished(id)) this.statuses.repeatFinal(id, now, false);
      else {
        this.early.hold(id, { kind, index, payload });
        if (this.asksForUnknown(id)) this.statuses.askForManifest(topic, id, now);
      }
      return;
    }
    if (t.finishing) return;
    const take = (bytes: Uint8Array) =>
      kind === 'page' ? this.storePage(t, index, bytes, arrivedMs) : this.store(t, index, bytes, arrivedMs);
    if (!t.chunkKey) return take(payload);
    const open = kind === 'page' ? openPage : openChunk;
    return open(this.core.checks.crypto, t.chunkKey, id, index, payload).then((opened) => {
      if (opened) return take(opened);
      this.emit({
        event: 'rejected',
        topic,
        code: 'chunk_auth_failed',
        message: `transfer ${id}: ${kind} ${index} fails authentication (changed in transit, or sealed under another key); dropped`,
      });
    });
  }

  private storePage(
    t: CoreTransfer<F>,
    page: number,
    bytes: Uint8Array,
    arrivedMs: number,
  ): void | Promise<void> {
    const hash = this.core.sha256(bytes);
    const take = (h: Uint8Array): void | Promise<void> => {
      if (t.finishing || this.transfers.get(t.id) !== t) return;
      const outcome = t.intake.storePage(page, bytes, h);
      if (outcome.kind === 'rejected') {
        const message = `transfer ${t.id}: ${outcome.message}`;
        return this.emit({ event: 'rejected', topic: t.topic, code: 'page_hash_mismatch', message });
      }
      return inOrder(outcome.waiting, ([index, payload]) => this.store(t, index, payload, arrivedMs));
    };
    return hash instanceof Promise ? hash.then(take) : take(hash);
  }

  private store(
    t: CoreTransfer<F>,
    index: number,
    payload: Uint8Array,
    arrivedMs: number,
  ): void | Promise<void> {
    if (t.finishing || this.transfers.get(t.id) !== t) return;
    const checked = t.intake.check(index, payload);
    if (checked.kind === 'waiting') {
      if (!checked.held) this.sendStatus(t, this.clock()); // asks for the missing hash page at once
      return;
    }
    if (checked.kind === 'duplicate') return;
    if (checked.kind === 'rejected') {
      const message = `transfer ${t.id}: ${checked.message}`;
      return this.emit({ event: 'rejected', topic: t.topic, code: checked.code, message });
    }
    // Checked on arrival: a wrong copy is refused now, and the next copy of the chunk is taken. Its whole SHA-256
    // then gives its tag for the proof of receipt (PROTOCOL.md 7.1): no pass over the file of its own.
    const tagOf = (h: Uint8Array) =>
      hashMatches(h, checked.expected) ? this.core.sha256(chunkTagInput(t.nonce, index, h)) : undefined;
    const commit = (tag: Uint8Array | undefined) => this.commit(t, index, payload, tag, arrivedMs);
    const hash = this.core.sha256(payload);
    if (hash instanceof Promise) return hash.then(tagOf).then(commit);
    const tag = tagOf(hash);
    return tag instanceof Promise ? tag.then(commit) : commit(tag);
  }

  private commit(
    t: CoreTransfer<F>,
    index: number,
    payload: Uint8Array,
    /** The chunk's tag for the proof of receipt; undefined when it did not match its hash. */
    tag: Uint8Array | undefined,
    arrivedMs: number,
  ): void {
    if (!tag) {
      const { code, message } = chunkMismatch(index);
      this.emit({ event: 'rejected', topic: t.topic, code, message: `transfer ${t.id}: ${message}` });
      return;
    }
    if (t.finishing || this.transfers.get(t.id) !== t) return;
    const now = this.clock();
    const { complete, reportNow } = t.intake.commit(index, now, this.window(t));
    t.proof.add(tag);
    const problem = t.file.write(index, payload);
    if (problem) {
      this.abandon(t, 'write_failed', problem);
      return;
    }
    t.lastChunkMs = arrivedMs;
    if (complete) this.finish(t);
    else if (reportNow) this.sendStatus(t, now);
  }

  // The end of a transfer.

  /** Verifies and publishes a transfer whose chunks are all held, then tells its sender. Runs in the background. */
  private finish(t: CoreTransfer<F>): void {
    t.finishing = true;
    const finishing = this.verifyAndPublish(t).finally(() => this.background.delete(finishing));
    this.background.add(finishing);
  }

  /**
   * Checks the file's SHA-256 against the manifest, runs the store's check, records a signed manifest's signature
   * (before the file appears, so that no crash can let the same manifest save twice), publishes the file, and
   * answers with the proof of receipt. Nothing is published unless every check passed.
   */
  private async verifyAndPublish(t: CoreTransfer<F>): Promise<void> {
    const { manifest, file } = t;
    let sha256: string;
    try {
      sha256 = await file.sha256();
    } catch (error) {
      return this.abandon(t, 'write_failed', `cannot read back ${manifest.name}: ${messageOf(error)}`);
    }
    if (sha256 !== manifest.sha256) {
      const message = `${manifest.name}: SHA-256 of the received bytes is ${sha256}, the manifest says ${manifest.sha256}; nothing saved`;
      return this.abandon(t, 'checksum_mismatch', message);
    }
    let proof: string;
    try {
      // Computed before the file is published: a resumed transfer's store reads it from the stored bytes.
      const accumulator = t.proofFromStore ? await file.accumulator?.() : t.proof.bytes;
      proof = await receiptProof(
        this.core.checks.crypto,
        manifest.nonce,
        accumulator ?? t.proof.bytes,
        this.receiverId,
      );
    } catch (error) {
      return this.abandon(t, 'write_failed', `cannot read back ${manifest.name}: ${messageOf(error)}`);
    }
    // A library user's check that throws refuses the file, with the reason, instead of ending the process.
    const checked = await callIsolated(() => this.core.store.check?.(file, manifest));
    const problem = checked.ok ? checked.value : `the file check threw: ${String(checked.error)}`;
    if (problem) return this.abandon(t, 'not_an_image', `${manifest.name}: ${problem}; nothing saved`);
    let path: string;
    try {
      await this.core.checks.replayGuard?.remember(manifest, this.wallClock());
      path = await file.publish();
    } catch (error) {
      return this.abandon(t, 'write_failed', `cannot save ${manifest.name}: ${messageOf(error)}`);
    }
    this.transfers.delete(t.id);
    const republished = await this.afterPublish(t, path);
    const { topic, id } = t;
    const status = {
      rx: this.receiverId,
      state: 'complete',
      next: manifest.chunks,
      proof,
    } as const;
    this.statuses.final(topic, id, status, this.clock(), t.statusKey);
    const saved = { path, sha256 };
    this.emit(completedEvent(manifest, topic, saved, this.clock() - t.startedMs, republished));
  }

  /**
   * Gives a transfer up. After a timeout with chunks held its store keeps them (the sender may come back and the
   * transfer then resumes); after anything else they are deleted.
   */
  protected abandon(t: CoreTransfer<F>, code: FailureCode, message: string): void {
    if (this.transfers.get(t.id) !== t) return;
    this.transfers.delete(t.id);
    t.finishing = true;
    void t.file.close(code === 'timeout' && t.received > 0);
    this.fail(t.topic, t.id, code, message, t.statusKey);
  }

  /**
   * A named receiver's status key for `manifest` (PROTOCOL.md 12.1), when this receiver has an identity and the
   * sender named receivers (`epk`); undefined otherwise.
   */
  private namedKey(manifest: Manifest): Promise<Uint8Array> | undefined {
    const { identity, checks } = this.core;
    const epk = manifest.epk === undefined ? undefined : fromBase64(manifest.epk);
    if (!identity || !epk) return undefined;
    const key = checks.crypto
      .x25519(identity, epk)
      .then((shared) => namedStatusKey(checks.crypto, shared, manifest.nonce, manifest.id, this.receiverId));
    key.catch(() => {}); // a low-order epk: the statuses cannot be sealed, and the sender hears nothing
    return key;
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

  // Answers.

  /** Chunks this receiver offers a sender beyond its `next`: its budget shared among active transfers. */
  private window(t: CoreTransfer<F>): number {
    return receiverWindow(this.transfers.size, t.manifest.chunkBytes);
  }

  /** Publishes `t`'s status; a join status after its blind start went by (`early`: what came of it) asks for it. */
  protected sendStatus(t: CoreTransfer<F>, nowMs: number, early?: readonly EarlyMessage[]): void {
    let status = t.status(this.receiverId, this.window(t), nowMs);
    const held = (m: EarlyMessage) => (m.kind === 'chunk' ? [m.index] : []);
    if (early) status = askForBlindStart(status, t.manifest.chunks, new Set(early.flatMap(held)));
    this.statuses.send(t.topic, t.id, status, t.statusKey);
  }

  private tick(): void {
    const now = this.clock();
    for (const t of this.transfers.values()) {
      if (t.finishing) continue;
      if (now - t.lastActivityMs > this.core.timeoutMs) {
        this.abandon(t, 'timeout', `${t.manifest.name}: ${t.heldSummary(now)}; the sender may be gone`);
        continue;
      }
      if (t.ack.due(now)) this.sendStatus(t, now);
      t.file.tick?.(now);
      reportProgress(t, now, (event) => this.emit(event));
    }
    this.tickMore(now);
  }
}
