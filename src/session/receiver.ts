import { basename } from 'node:path';
import { UsageError } from '../errors.js';
import { nodeCrypto } from '../platform/node-crypto.js';
import { rawPublicKey } from '../platform/node-keys.js';
import { receiverWindow, STATUS_FLUSH_MS } from '../protocol/ack-policy.js';
import { admit } from '../protocol/admission.js';
import { fromBase64 } from '../protocol/bytes.js';
import { FAILURE_CODES, type FailureCode } from '../protocol/codes.js';
import { openChunk } from '../protocol/encryption.js';
import { encodeStatus, type Status } from '../protocol/status.js';
import { filterProblem, parseTopic, receiverSubscriptions, statusTopic } from '../protocol/topics.js';
import type { MessageTransport } from '../transport/message-transport.js';
import { type CheckedManifest, type ManifestChecks, readCheckedManifest } from './checked-manifest.js';
import { type Clock, monotonicClock, wallClock } from './clock.js';
import { IncomingTransfer } from './incoming-transfer.js';
import { PartialFile } from './partial-file.js';
import { loadPartialStates, PARTIAL_TTL_MS, type PartialState, removePartialState } from './partial-state.js';
import { completedEvent, type ReceiveEvent, type ReceiverOptions } from './receive-events.js';
import { defaultReceiverId } from './receiver-id.js';
import { ReplayGuard } from './replay-guard.js';
import { republishSaved, saveVerified } from './save-verified.js';
import { SenderAnswers } from './sender-answers.js';
import { SerialQueue } from './serial-queue.js';
import { PayloadReclaimer } from './young-gc.js';

export type { ReceiveEvent, ReceiverOptions } from './receive-events.js';

/** How often the partial state of a transfer in progress is saved for resuming, at most, in milliseconds. */
const SAVE_STATE_MS = 1000;

/**
 * Receives mqimg transfers: routes each message to its transfer, admits new transfers, reports progress and
 * missing chunks to the senders, and hands complete transfers to `saveVerified`. One instance serves any number
 * of senders and transfers at once. The steps of one transfer live in `IncomingTransfer`; the decisions in
 * protocol/ (`admit`, `AckPolicy`, `receiverWindow`).
 */
export class Receiver {
  readonly receiverId: string;
  private readonly transfers = new Map<string, IncomingTransfer>();
  private readonly answers = new SenderAnswers();
  /** Partial transfers found on disk at start, waiting for their manifest to resume. */
  private resumable = new Map<string, PartialState>();
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;
  private readonly clock: Clock;
  private readonly wallClock: Clock;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxTransfers: number;
  private readonly filter: string;
  private readonly checks: ManifestChecks;
  private readonly reclaimer: PayloadReclaimer | undefined;
  private readonly queue: SerialQueue;
  /** Transfers being verified and saved. */
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly transport: MessageTransport,
    private readonly options: ReceiverOptions,
  ) {
    this.receiverId = options.receiverId ?? defaultReceiverId(options.outDir);
    this.clock = options.clock ?? monotonicClock;
    this.wallClock = options.wallClock ?? wallClock;
    const gcEveryBytes = options.gcEveryBytes ?? 0;
    this.reclaimer = gcEveryBytes > 0 ? new PayloadReclaimer(gcEveryBytes) : undefined;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.maxTransfers = options.maxTransfers ?? 16;
    this.filter = options.topicFilter ?? '#';
    const problem = filterProblem(this.filter);
    if (problem) throw new UsageError(`invalid --topic: ${problem}`);
    this.checks = {
      crypto: options.crypto ?? nodeCrypto,
      secret: options.secret,
      trust: options.trust && new Map([...options.trust].map(([kid, key]) => [kid, rawPublicKey(key)])),
      wallNowMs: this.wallClock,
    };
    this.queue = new SerialQueue((error) => {
      // A bug in message handling must not end the process; it is reported like any refused message.
      this.emit({ event: 'rejected', topic: '', code: 'internal', message: String(error) });
    });
  }

  /** Subscribes and starts receiving. */
  async start(): Promise<void> {
    if (this.checks.trust) {
      if (this.checks.trust.size === 0)
        throw new UsageError('--trust names no public key: nothing could be accepted');
      const { outDir, maxAgeMs } = this.options;
      this.checks.replayGuard = await ReplayGuard.load(outDir, maxAgeMs, this.wallClock());
    }
    this.stopListening = this.transport.onMessage((topic, payload) =>
      this.queue.run(() => this.onMessage(topic, payload)),
    );
    const { manifests, chunks } = receiverSubscriptions(this.filter);
    await this.transport.subscribe(manifests, 1);
    await this.transport.subscribe(chunks, this.options.chunkQos ?? 0);
    this.resumable = await loadPartialStates(
      this.options.outDir,
      this.options.partialTtlMs ?? PARTIAL_TTL_MS,
      this.wallClock(),
    );
    // A sender still running republishes its manifest when asked, and the transfer resumes where it stopped.
    for (const state of this.resumable.values()) {
      this.publishStatus(state.topic, state.manifest.id, { rx: this.receiverId, state: 'want-manifest' });
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
    this.options.onEvent?.(event);
  }

  private onMessage(topicName: string, payload: Uint8Array): void | Promise<void> {
    const parsed = parseTopic(topicName);
    // An empty payload is a retained message being cleared (`send --retain` replacing an image): not for us.
    if (!parsed || payload.length === 0) return;
    if (parsed.kind === 'manifest') return this.onManifest(parsed.topic, parsed.id, payload);
    if (parsed.kind === 'chunk') return this.onChunk(parsed.topic, parsed.id, parsed.index, payload);
  }

  private onManifest(topic: string, id: string, payload: Uint8Array): void | Promise<void> {
    const now = this.clock();
    if (this.answers.isFinished(id)) {
      this.repeatFinal(id, now, true);
      return;
    }
    const current = this.transfers.get(id);
    if (current) {
      this.sendStatus(current, now);
      return;
    }
    const read = readCheckedManifest(payload, topic, this.checks);
    if (!(read instanceof Promise)) {
      this.admit(topic, id, read);
      return;
    }
    return read.then((checked) => this.admit(topic, id, checked));
  }

  /** Takes a transfer whose manifest was read (and checked), or refuses it. */
  private admit(topic: string, id: string, read: CheckedManifest): void {
    if (!read.ok && 'refused' in read) {
      // Not remembered as final: a forged manifest must not stop the genuine transfer with the same id.
      this.fail(topic, id, read.refused.code, read.refused.message);
      return;
    }
    if (!read.ok) {
      const { code, message } = read.problem;
      // A transfer refused for its encryption is reported to its sender too, which then stops at once.
      if (code === 'encrypted' || code === 'not_encrypted' || code === 'wrong_key')
        this.fail(topic, id, code, message);
      else this.emit({ event: 'rejected', topic, code, message });
      return;
    }
    const manifest = read.manifest;
    if (manifest.id !== id) {
      const message = `manifest id ${manifest.id} does not match its topic's id ${id}`;
      this.emit({ event: 'rejected', topic, code: 'invalid_manifest', message });
      return;
    }
    const active = [...this.transfers.values()];
    const refusal = admit(
      manifest,
      { transfers: active.length, bytes: active.reduce((sum, t) => sum + t.manifest.size, 0) },
      { maxBytes: this.maxBytes, maxTransfers: this.maxTransfers },
    );
    if (refusal) {
      this.fail(topic, id, refusal.code, refusal.message);
      return;
    }
    this.answers.known(id);
    if (manifest.supersede) {
      for (const older of active) {
        if (older.topic === topic && older.manifest.createdMs < manifest.createdMs && !older.finishing) {
          const message = `${older.manifest.name}: a newer image arrived on ${topic} before it finished; dropped`;
          this.abandon(older, 'superseded', message);
        }
      }
    }
    // From here to `transfers.set` nothing waits (the partial file is created synchronously), so no chunk or
    // repeated manifest of this transfer can arrive in between: a sender's first chunks, published right after
    // the manifest, find the transfer set up.
    const saved = this.resumable.get(id);
    const resume =
      saved !== undefined &&
      saved.manifest.sha256 === manifest.sha256 &&
      saved.manifest.size === manifest.size &&
      saved.manifest.chunkBytes === manifest.chunkBytes;
    this.resumable.delete(id);
    let file: PartialFile;
    try {
      file = PartialFile.create(this.options.outDir, id, resume);
    } catch (error) {
      const message = `cannot create a partial file in ${this.options.outDir}: ${(error as Error).message}`;
      this.fail(topic, id, 'write_failed', message);
      return;
    }
    const chunkKey = 'chunkKey' in read ? read.chunkKey : undefined;
    const bitmap = resume ? (fromBase64(saved?.bitmap ?? '') ?? new Uint8Array(0)) : undefined;
    const t = new IncomingTransfer(manifest, topic, file, chunkKey, this.clock(), bitmap);
    this.transfers.set(id, t);
    this.emit({
      event: 'started',
      id,
      topic,
      name: manifest.name,
      type: manifest.type,
      size: manifest.size,
      chunks: manifest.chunks,
      ...(resume ? { resumedWith: t.reassembly.received } : {}),
    });
    if (t.reassembly.complete) this.finish(t);
    else this.sendStatus(t, this.clock());
  }

  private onChunk(topic: string, id: string, index: number, payload: Uint8Array): void | Promise<void> {
    this.reclaimer?.released(payload.length);
    const t = this.transfers.get(id);
    if (!t) {
      const now = this.clock();
      if (this.answers.isFinished(id)) this.repeatFinal(id, now, false);
      else if (this.answers.askForManifest(id, now))
        this.publishStatus(topic, id, { rx: this.receiverId, state: 'want-manifest' });
      return;
    }
    if (t.finishing) return;
    if (!t.chunkKey) return this.store(t, index, payload);
    const key = t.chunkKey;
    return openChunk(this.checks.crypto, key, id, index, payload).then((opened) => {
      if (opened) return this.store(t, index, opened);
      this.emit({
        event: 'rejected',
        topic,
        code: 'chunk_auth_failed',
        message: `transfer ${id}: chunk ${index} fails authentication (changed in transit, or sealed under another key); dropped`,
      });
    });
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
    } else if (outcome.kind === 'rejected' || outcome.conflicting) {
      const message =
        outcome.kind === 'rejected'
          ? `transfer ${t.id}: ${outcome.message}`
          : `transfer ${t.id}: chunk ${index} arrived again with different bytes; the first copy is kept and the SHA-256 decides`;
      const code = outcome.kind === 'rejected' ? outcome.code : 'conflicting_chunk';
      this.emit({ event: 'rejected', topic: t.topic, code, message });
    }
  }

  /** Verifies and saves a transfer whose chunks are all held, then tells its sender. Runs in the background. */
  private finish(t: IncomingTransfer): void {
    t.finishing = true;
    const saving = this.finishing(t).finally(() => this.background.delete(saving));
    this.background.add(saving);
  }

  private async finishing(t: IncomingTransfer): Promise<void> {
    const { manifest, topic, id } = t;
    const saved = await saveVerified(t, {
      outDir: this.options.outDir,
      verifyFile: this.options.verifyFile,
      replayGuard: this.checks.replayGuard,
      wallNowMs: this.wallClock(),
    });
    if (!saved.ok) {
      this.abandon(t, saved.code, saved.message);
      return;
    }
    this.transfers.delete(id);
    await t.saving;
    await removePartialState(this.options.outDir, id);
    let republished: string | undefined;
    if (this.options.republishTopic) {
      try {
        republished = await republishSaved(this.transport, this.options.republishTopic, topic, saved.path);
      } catch (error) {
        this.emit({
          event: 'rejected',
          topic,
          code: 'republish_failed',
          message: `could not republish ${basename(saved.path)}: ${(error as Error).message}`,
        });
      }
    }
    const status: Status = { rx: this.receiverId, state: 'complete', next: manifest.chunks };
    this.answers.finish(id, topic, status, this.clock());
    this.publishStatus(topic, id, status);
    this.emit(completedEvent(manifest, topic, saved, this.clock() - t.startedMs, republished));
  }

  /**
   * Gives a transfer up. After a timeout its partial state is kept (the sender may come back within
   * PARTIAL_TTL_MS and the transfer then resumes); after anything else it is deleted.
   */
  private abandon(t: IncomingTransfer, code: FailureCode, message: string): void {
    if (this.transfers.get(t.id) !== t) return;
    this.transfers.delete(t.id);
    t.finishing = true;
    const resumable = code === 'timeout';
    if (resumable) void t.keepForResume(this.options.outDir, this.clock(), this.wallClock());
    else void t.discard(this.options.outDir);
    this.fail(t.topic, t.id, code, message);
  }

  /**
   * Reports a failure. A `final` one is remembered and repeated to the sender; a passing one (timeout, too many
   * transfers at once) is not, so that the same transfer can start again later.
   */
  private fail(
    topic: string,
    id: string,
    code: FailureCode,
    message: string,
    final = FAILURE_CODES[code].final,
  ): void {
    const status: Status = { rx: this.receiverId, state: 'failed', reason: code };
    if (final) this.answers.finish(id, topic, status, this.clock());
    this.publishStatus(topic, id, status);
    this.emit({ event: 'failed', id, topic, code, message });
  }

  private repeatFinal(id: string, now: number, force: boolean): void {
    const answer = this.answers.repeatFinal(id, now, force);
    if (answer) this.publishStatus(answer.topic, id, answer.status);
  }

  /** Chunks this receiver offers a sender beyond its `next`: its budget shared among active transfers. */
  private window(t: IncomingTransfer): number {
    return receiverWindow(this.transfers.size, t.manifest.chunkBytes);
  }

  private sendStatus(t: IncomingTransfer, now: number): void {
    this.publishStatus(t.topic, t.id, t.status(this.receiverId, this.window(t), now));
  }

  private publishStatus(topic: string, id: string, status: Status): void {
    this.transport.publish(statusTopic(topic, id), encodeStatus(status)).catch(() => {
      // Lost statuses are repeated by the heartbeat; the connection layer reports outages.
    });
  }

  private tick(): void {
    const now = this.clock();
    for (const t of this.transfers.values()) {
      if (t.finishing) continue;
      if (now - t.lastActivityMs > this.timeoutMs) {
        this.abandon(
          t,
          'timeout',
          `${t.manifest.name}: nothing received for ${Math.round(this.timeoutMs / 1000)} s with ${t.reassembly.received} of ${t.manifest.chunks} chunks held; the sender may be gone`,
        );
        continue;
      }
      if (t.ack.due(now)) this.sendStatus(t, now);
      t.saveStateEvery(SAVE_STATE_MS, this.options.outDir, now, this.wallClock());
    }
  }
}
