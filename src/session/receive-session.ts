import { createHash, type Hash, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { chunkOffset } from '../protocol/chunking.js';
import { MAX_STATUS_RANGES, MAX_WINDOW_BYTES } from '../protocol/constants.js';
import { openChunk } from '../protocol/encryption.js';
import type { Manifest } from '../protocol/manifest.js';
import { Reassembly } from '../protocol/reassembly.js';
import { RepairRequests } from '../protocol/repair-requests.js';
import { checkSignature } from '../protocol/signature.js';
import { encodeStatus, type Status } from '../protocol/status.js';
import { filterProblem, parseTopic, receiverSubscriptions, statusTopic } from '../protocol/topics.js';
import { readManifest } from '../protocol/wire-manifest.js';
import type { MessageTransport } from '../transport/message-transport.js';
import { type Clock, monotonicClock } from './clock.js';
import { PartialFile } from './partial-file.js';
import {
  loadPartialStates,
  PARTIAL_TTL_MS,
  type PartialState,
  removePartialState,
  savePartialState,
} from './partial-state.js';
import { ReplayGuard } from './replay-guard.js';
import { safeFileName } from './safe-file-name.js';
import { PayloadReclaimer } from './young-gc.js';

/** Events a receiver reports, one per line with `mqimg receive --json`. */
export type ReceiveEvent =
  | {
      event: 'started';
      id: string;
      topic: string;
      name: string;
      type: string;
      size: number;
      chunks: number;
      /** Chunks already held from an earlier, interrupted run, when the transfer resumed. */
      resumedWith?: number;
    }
  | {
      event: 'completed';
      id: string;
      topic: string;
      name: string;
      path: string;
      size: number;
      sha256: string;
      width: number;
      height: number;
      /** The topic the file was republished on (`--republish`). */
      republished?: string;
      /** For raw pixels: their layout and bytes per row (PROTOCOL.md, pixel formats). */
      pixelFormat?: string;
      stride?: number;
      durationMs: number;
    }
  | { event: 'failed'; id: string; topic: string; code: string; message: string }
  | { event: 'rejected'; topic: string; code: string; message: string };

/** Options of a receiver. Times are in milliseconds, sizes in bytes. */
export interface ReceiverOptions {
  /** Folder the files are saved in; must exist. */
  outDir: string;
  /** MQTT topic filter of the sender topics to receive from. Default '#': every mqimg transfer. */
  topicFilter?: string;
  /** A transfer that receives nothing for this long fails. Default 30,000. */
  timeoutMs?: number;
  /** Largest file accepted, and most bytes of all transfers in progress together. Default 256 MiB. */
  maxBytes?: number;
  /** Most transfers received at once; more are refused. Default 16. */
  maxTransfers?: number;
  /**
   * QoS of the chunk subscription. Default 0: losses are recovered end to end by statuses, and the last hop then
   * carries no PUBACKs, which halves its packets (about 30% faster at 4 KiB chunks, docs/benchmarks.md).
   * 1 lets the broker hold chunks in its per-client queue (within its limits). Manifests are always QoS 1.
   */
  chunkQos?: 0 | 1;
  /**
   * Checks a verified file before it is saved; returns why it must not be, or undefined. `mqimg receive
   * --verify-image` passes a full decode with sharp (`imageProblem`); the default saves any file whose SHA-256
   * matches.
   */
  verifyFile?: (path: string, manifest: Manifest) => Promise<string | undefined>;
  /**
   * Also publish each saved file, whole, as one retained QoS 1 message on this topic: the form Home Assistant's
   * MQTT camera and image integrations read. `{topic}` is replaced by the sender topic and `{name}` by the saved
   * file name. Mind the broker's message size limit.
   */
  republishTopic?: string;
  /** Unfinished partial transfers older than this are deleted at start. Default 24 hours. */
  partialTtlMs?: number;
  /**
   * Receiver id in statuses. Default `rx-` and 8 hex digits derived from the host name and the absolute `outDir`:
   * stable across restarts, so that a sender recognises a receiver that resumes.
   */
  receiverId?: string;
  /**
   * Save only transfers whose manifest is signed by one of these Ed25519 public keys (key id -> key; `mqimg
   * receive --trust`). Every other transfer fails with `unsigned`, `untrusted_key` or `bad_signature`, and signed
   * ones replayed later with `expired_signature`, `future_signature` or `replayed`. Default: no check.
   */
  trust?: ReadonlyMap<string, KeyObject>;
  /** With `trust`: refuse signed manifests created more than this long ago, in milliseconds. Default 600,000. */
  maxAgeMs?: number;
  /**
   * 32-byte shared secret (`--encrypt`): accept only encrypted transfers, and open them with it. A plain transfer
   * fails with `not_encrypted`, one under another secret with `wrong_key`. Without it, encrypted transfers fail
   * with `encrypted`.
   */
  secret?: Buffer;
  /**
   * Run a minor garbage collection after every this many bytes of chunk payload, so that dead payload Buffers do
   * not pile up (PayloadReclaimer). It sets V8's `--expose-gc` flag in the process at the first collection. 0 turns
   * it off. Default 4 MiB.
   */
  gcEveryBytes?: number;
  onEvent?: (event: ReceiveEvent) => void;
  clock?: Clock;
}

interface Incoming {
  manifest: Manifest;
  /** The key chunks are sealed with (encrypted transfers only). */
  chunkKey: Buffer | undefined;
  topic: string;
  reassembly: Reassembly;
  file: PartialFile;
  startedMs: number;
  lastActivityMs: number;
  lastStatusMs: number;
  newSinceStatus: number;
  repairs: RepairRequests;
  /** SHA-256 of the chunks below `hashedChunks`, fed in order as they arrive; undefined once abandoned. */
  hash: Hash | undefined;
  hashedChunks: number;
  /** Chunks that arrived ahead of `hashedChunks`, waiting to be hashed, and their total size in bytes. */
  heldBack: Map<number, Buffer>;
  heldBackBytes: number;
  finishing: boolean;
  /** Chunks arrived since the partial state was last saved. */
  dirty: boolean;
  lastSavedMs: number;
  saving: Promise<void> | undefined;
}

/** Receiver timer period: statuses not yet sent for new chunks go out within this many milliseconds. */
const TICK_MS = 25;
const HEARTBEAT_MS = 500;
/** How often the partial state of a transfer in progress is saved for resuming, at most. */
const SAVE_STATE_MS = 1000;
const FINAL_REPEAT_MS = 500;
/** Most bytes of early chunks kept in memory for in-order hashing, per transfer. */
const HELD_BACK_BYTES = 4 * 1024 * 1024;
/** Chunks the broker may queue for this receiver across all transfers: below Mosquitto's 1000 queued messages. */
const WINDOW_BUDGET = 768;

/** New chunks between two statuses: an eighth of the window, 1 to 16. */
function ackEvery(window: number): number {
  return Math.max(1, Math.min(16, Math.floor(window / 8)));
}

/**
 * Receives mqimg transfers: validates manifests, writes chunks to a hidden partial file as they arrive, reports
 * progress and missing chunks to the sender, verifies the SHA-256, and moves each finished file into `outDir`
 * whole. One instance serves any number of senders and transfers at once.
 */
export class Receiver {
  readonly receiverId: string;
  private readonly transfers = new Map<string, Incoming>();
  /** Finished transfers (`id` -> final status), to answer senders that did not hear it. */
  private readonly finished = new Map<string, { status: Status; topic: string; lastSentMs: number }>();
  private readonly unknown = new Map<string, number>();
  /** Partial transfers found on disk at start, waiting for their manifest to resume. */
  private resumable = new Map<string, PartialState>();
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxTransfers: number;
  private readonly filter: string;
  private replayGuard: ReplayGuard | undefined;
  private readonly reclaimer: PayloadReclaimer | undefined;

  constructor(
    private readonly transport: MessageTransport,
    private readonly options: ReceiverOptions,
  ) {
    this.receiverId =
      options.receiverId ??
      `rx-${createHash('sha256')
        .update(`${hostname()}\0${resolve(options.outDir)}`)
        .digest('hex')
        .slice(0, 8)}`;
    this.clock = options.clock ?? monotonicClock;
    const gcEveryBytes = options.gcEveryBytes ?? 4 * 1024 * 1024;
    this.reclaimer = gcEveryBytes > 0 ? new PayloadReclaimer(gcEveryBytes) : undefined;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.maxTransfers = options.maxTransfers ?? 16;
    this.filter = options.topicFilter ?? '#';
    const problem = filterProblem(this.filter);
    if (problem) throw new UsageError(`invalid --topic: ${problem}`);
  }

  /** Subscribes and starts receiving. */
  async start(): Promise<void> {
    if (this.options.trust) {
      if (this.options.trust.size === 0)
        throw new UsageError('--trust names no public key: nothing could be accepted');
      this.replayGuard = await ReplayGuard.load(this.options.outDir, this.options.maxAgeMs);
    }
    this.stopListening = this.transport.onMessage((topic, payload) => this.onMessage(topic, payload));
    const { manifests, chunks } = receiverSubscriptions(this.filter);
    await this.transport.subscribe(manifests, 1);
    await this.transport.subscribe(chunks, this.options.chunkQos ?? 0);
    this.resumable = await loadPartialStates(
      this.options.outDir,
      this.options.partialTtlMs ?? PARTIAL_TTL_MS,
      Date.now(),
    );
    // A sender still running republishes its manifest when asked, and the transfer resumes where it stopped.
    for (const state of this.resumable.values()) {
      this.publishStatus(state.topic, state.manifest.id, { rx: this.receiverId, state: 'want-manifest' });
    }
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /**
   * Stops receiving. Transfers in progress keep their partial state in `<out>/.mqimg-partial` (never in `<out>`
   * itself), so that a receiver started again with the same `outDir` resumes them.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopListening?.();
    const pending = [...this.transfers.values()].filter((t) => !t.finishing);
    this.transfers.clear();
    await Promise.all(pending.map((t) => this.keepForResume(t)));
  }

  /** Number of transfers in progress. */
  get active(): number {
    return this.transfers.size;
  }

  private emit(event: ReceiveEvent): void {
    this.options.onEvent?.(event);
  }

  private onMessage(topicName: string, payload: Buffer): void {
    const parsed = parseTopic(topicName);
    // An empty payload is a retained message being cleared (`send --retain` replacing an image): not for us.
    if (!parsed || payload.length === 0) return;
    if (parsed.kind === 'manifest') this.onManifest(parsed.topic, parsed.id, payload);
    else if (parsed.kind === 'chunk') this.onChunk(parsed.topic, parsed.id, parsed.index, payload);
  }

  private onManifest(topic: string, id: string, payload: Buffer): void {
    const now = this.clock();
    const done = this.finished.get(id);
    if (done) {
      this.repeatFinal(id, done, now, true);
      return;
    }
    const current = this.transfers.get(id);
    if (current) {
      this.sendStatus(current, now);
      return;
    }
    const result = readManifest(payload, this.options.secret);
    if (!result.ok) {
      const { code, message } = result.problem;
      // A transfer refused for its encryption is reported to its sender too, which then stops at once.
      if (['encrypted', 'not_encrypted', 'wrong_key'].includes(code))
        this.fail(topic, id, code, message, false);
      else this.emit({ event: 'rejected', topic, code, message });
      return;
    }
    const manifest = result.manifest;
    if (manifest.id !== id) {
      this.emit({
        event: 'rejected',
        topic,
        code: 'invalid_manifest',
        message: `manifest id ${manifest.id} does not match its topic's id ${id}`,
      });
      return;
    }
    if (this.options.trust && this.replayGuard) {
      const refused =
        checkSignature(manifest, topic, this.options.trust) ?? this.replayGuard.check(manifest, Date.now());
      // Not remembered as final: a forged manifest must not stop the genuine transfer with the same id.
      if (refused) {
        this.fail(topic, id, refused.code, refused.message, false);
        return;
      }
    }
    if (manifest.size > this.maxBytes) {
      this.fail(
        topic,
        manifest.id,
        'too_large',
        `${manifest.name} is ${manifest.size} bytes, more than --max-bytes ${this.maxBytes}`,
      );
      return;
    }
    const committed = [...this.transfers.values()].reduce((sum, t) => sum + t.manifest.size, 0);
    if (committed + manifest.size > this.maxBytes) {
      this.fail(
        topic,
        manifest.id,
        'too_many_bytes',
        `${manifest.name} (${manifest.size} bytes) would bring transfers in progress to ${committed + manifest.size} bytes, more than --max-bytes ${this.maxBytes}; try again later`,
        false,
      );
      return;
    }
    if (this.transfers.size >= this.maxTransfers) {
      this.fail(
        topic,
        manifest.id,
        'too_many_transfers',
        `already receiving ${this.transfers.size} transfers (--max-transfers ${this.maxTransfers})`,
        false,
      );
      return;
    }
    this.unknown.delete(id);
    if (manifest.supersede) {
      for (const older of [...this.transfers.values()]) {
        if (older.topic === topic && older.manifest.createdMs < manifest.createdMs && !older.finishing) {
          this.abandon(
            older,
            'superseded',
            `${older.manifest.name}: a newer image arrived on ${topic} before it finished; dropped`,
          );
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
      this.fail(
        topic,
        id,
        'write_failed',
        `cannot create a partial file in ${this.options.outDir}: ${(error as Error).message}`,
      );
      return;
    }
    const incoming: Incoming = {
      manifest,
      chunkKey: result.chunkKey,
      topic,
      reassembly: new Reassembly(
        manifest.chunks,
        manifest.size,
        manifest.chunkBytes,
        resume ? Buffer.from(saved?.bitmap ?? '', 'base64') : undefined,
      ),
      file,
      startedMs: now,
      lastActivityMs: now,
      lastStatusMs: Number.NEGATIVE_INFINITY,
      newSinceStatus: 0,
      repairs: new RepairRequests(),
      // A resumed transfer is hashed from disk at the end: its first chunks are not in memory.
      hash: resume ? undefined : createHash('sha256'),
      hashedChunks: 0,
      heldBack: new Map(),
      heldBackBytes: 0,
      finishing: false,
      dirty: false,
      lastSavedMs: now,
      saving: undefined,
    };
    this.transfers.set(id, incoming);
    this.emit({
      event: 'started',
      id,
      topic,
      name: manifest.name,
      type: manifest.type,
      size: manifest.size,
      chunks: manifest.chunks,
      ...(resume ? { resumedWith: incoming.reassembly.received } : {}),
    });
    if (incoming.reassembly.complete) {
      incoming.finishing = true;
      void this.finish(incoming);
      return;
    }
    this.sendStatus(incoming, this.clock());
  }

  private onChunk(topic: string, id: string, index: number, payload: Buffer): void {
    this.reclaimer?.released(payload.length);
    const now = this.clock();
    const t = this.transfers.get(id);
    if (!t) {
      const done = this.finished.get(id);
      if (done) this.repeatFinal(id, done, now, false);
      else this.askForManifest(topic, id, now);
      return;
    }
    if (t.finishing) return;
    if (t.chunkKey) {
      const opened = openChunk(t.chunkKey, id, index, payload);
      if (!opened) {
        this.emit({
          event: 'rejected',
          topic,
          code: 'chunk_auth_failed',
          message: `transfer ${id}: chunk ${index} fails authentication (changed in transit, or sealed under another key); dropped`,
        });
        return;
      }
      payload = opened;
    }
    const result = t.reassembly.accept(index, payload.length);
    if (result.kind === 'rejected') {
      this.emit({
        event: 'rejected',
        topic,
        code: result.code,
        message: `transfer ${id}: ${result.message}`,
      });
      return;
    }
    t.lastActivityMs = now;
    if (result.kind === 'duplicate') {
      // Rare, so compared with the copy on disk rather than with a checksum kept for every chunk on the hot path.
      let same = true;
      try {
        same = t.file.holds(chunkOffset(index, t.manifest.chunkBytes), payload);
      } catch {
        // Unreadable now: the SHA-256 at the end decides anyway.
      }
      if (!same) {
        this.emit({
          event: 'rejected',
          topic,
          code: 'conflicting_chunk',
          message: `transfer ${id}: chunk ${index} arrived again with different bytes; the first copy is kept and the SHA-256 decides`,
        });
      }
      return;
    }
    const repaired = t.repairs.arrived(index, now);
    this.hashInOrder(t, index, payload);
    t.newSinceStatus++;
    t.dirty = true;
    try {
      t.file.write(chunkOffset(index, t.manifest.chunkBytes), payload);
    } catch (error) {
      this.abandon(t, 'write_failed', `cannot write ${t.file.path}: ${(error as Error).message}`);
      return;
    }
    if (t.reassembly.complete) {
      t.finishing = true;
      void this.finish(t);
      return;
    }
    // Report at once when a gap appears or a repair arrives, otherwise every few chunks (like TCP's delayed ACK),
    // so that a sender whose window is small is not left waiting.
    const gap = index > t.reassembly.next && !t.reassembly.has(index - 1);
    if (gap || repaired || t.newSinceStatus >= ackEvery(this.window(t))) this.sendStatus(t, now);
  }

  /**
   * Feeds the running SHA-256 with chunks in index order, holding back early ones (at most HELD_BACK_BYTES), so
   * that verification needs no second read of the file in the usual, mostly ordered, case. Past the limit it gives
   * up and `finish` hashes the file from disk instead: memory stays bounded either way.
   */
  private hashInOrder(t: Incoming, index: number, payload: Buffer): void {
    if (!t.hash) return;
    if (index !== t.hashedChunks) {
      t.heldBack.set(index, payload);
      t.heldBackBytes += payload.length;
      if (t.heldBackBytes > HELD_BACK_BYTES) {
        t.hash = undefined;
        t.heldBack.clear();
        t.heldBackBytes = 0;
      }
      return;
    }
    t.hash.update(payload);
    t.hashedChunks++;
    for (let next = t.heldBack.get(t.hashedChunks); next; next = t.heldBack.get(t.hashedChunks)) {
      t.heldBack.delete(t.hashedChunks);
      t.heldBackBytes -= next.length;
      t.hash.update(next);
      t.hashedChunks++;
    }
  }

  private async finish(t: Incoming): Promise<void> {
    const { manifest, topic } = t;
    const id = manifest.id;
    let sha256: string;
    try {
      await t.file.sync();
      sha256 = t.hash && t.hashedChunks === manifest.chunks ? t.hash.digest('hex') : await t.file.sha256();
    } catch (error) {
      return this.abandon(t, 'write_failed', `cannot read back ${t.file.path}: ${(error as Error).message}`);
    }
    if (sha256 !== manifest.sha256) {
      return this.abandon(
        t,
        'checksum_mismatch',
        `${manifest.name}: SHA-256 of the received bytes is ${sha256}, the manifest says ${manifest.sha256}; nothing saved`,
      );
    }
    const problem = await this.options.verifyFile?.(t.file.path, manifest);
    if (problem) {
      return this.abandon(t, 'not_an_image', `${manifest.name}: ${problem}; nothing saved`);
    }
    let path: string;
    try {
      // Record the signature before the file appears, so that no crash can let the same manifest save twice.
      await this.replayGuard?.remember(manifest, Date.now());
      path = await t.file.publish(
        this.options.outDir,
        safeFileName(manifest.name, manifest.type, manifest.pixelFormat),
      );
    } catch (error) {
      return this.abandon(
        t,
        'write_failed',
        `cannot save ${manifest.name} in ${this.options.outDir}: ${(error as Error).message}`,
      );
    }
    this.transfers.delete(id);
    await t.saving;
    await removePartialState(this.options.outDir, id);
    let republished: string | undefined;
    if (this.options.republishTopic) {
      republished = this.options.republishTopic
        .replaceAll('{topic}', topic)
        .replaceAll('{name}', basename(path));
      try {
        await this.transport.publish(republished, await readFile(path), { retain: true });
      } catch (error) {
        this.emit({
          event: 'rejected',
          topic,
          code: 'republish_failed',
          message: `could not republish ${basename(path)} on ${republished}: ${(error as Error).message}`,
        });
        republished = undefined;
      }
    }
    const status: Status = { rx: this.receiverId, state: 'complete', next: manifest.chunks };
    this.finished.set(id, { status, topic, lastSentMs: this.clock() });
    this.publishStatus(topic, id, status);
    this.emit({
      event: 'completed',
      id,
      topic,
      name: manifest.name,
      path,
      size: manifest.size,
      sha256,
      width: manifest.width,
      height: manifest.height,
      ...(manifest.pixelFormat !== undefined && manifest.stride !== undefined
        ? { pixelFormat: manifest.pixelFormat, stride: manifest.stride }
        : {}),
      durationMs: Math.round(this.clock() - t.startedMs),
      ...(republished !== undefined ? { republished } : {}),
    });
  }

  /**
   * Gives a transfer up. After a timeout its partial state is kept (the sender may come back within
   * PARTIAL_TTL_MS and the transfer then resumes); after anything else it is deleted.
   */
  private abandon(t: Incoming, code: string, message: string): void {
    if (this.transfers.get(t.manifest.id) !== t) return;
    this.transfers.delete(t.manifest.id);
    t.finishing = true;
    const resumable = code === 'timeout';
    if (resumable) void this.keepForResume(t);
    else
      void Promise.resolve(t.saving).then(() =>
        Promise.all([t.file.discard(), removePartialState(this.options.outDir, t.manifest.id)]),
      );
    this.fail(t.topic, t.manifest.id, code, message, !resumable);
  }

  /** Saves the partial state and closes the file, for a later resume. */
  private async keepForResume(t: Incoming): Promise<void> {
    await t.saving;
    await this.saveState(t).catch(() => {});
    await t.file.close().catch(() => {});
  }

  /** Writes the transfer's partial state (the bitmap of chunks already written to its file). */
  private saveState(t: Incoming): Promise<void> {
    t.dirty = false;
    t.lastSavedMs = this.clock();
    return savePartialState(this.options.outDir, {
      topic: t.topic,
      manifest: t.manifest,
      bitmap: Buffer.from(t.reassembly.bitmap()).toString('base64'),
      savedAtMs: Date.now(),
    });
  }

  /**
   * Reports a failure. A `final` one is remembered and repeated to the sender; a passing one (timeout, too many
   * transfers at once) is not, so that the same transfer can start again later.
   */
  private fail(topic: string, id: string, code: string, message: string, final = true): void {
    const status: Status = { rx: this.receiverId, state: 'failed', reason: code };
    if (final) this.finished.set(id, { status, topic, lastSentMs: this.clock() });
    this.publishStatus(topic, id, status);
    this.emit({ event: 'failed', id, topic, code, message });
  }

  private repeatFinal(
    id: string,
    done: { status: Status; topic: string; lastSentMs: number },
    now: number,
    force: boolean,
  ): void {
    if (!force && now - done.lastSentMs < FINAL_REPEAT_MS) return;
    done.lastSentMs = now;
    this.publishStatus(done.topic, id, done.status);
  }

  private askForManifest(topic: string, id: string, now: number): void {
    const last = this.unknown.get(id);
    if (last !== undefined && now - last < 1000) return;
    if (last === undefined && this.unknown.size >= 64) return; // do not let a flood of ids grow this map
    this.unknown.set(id, now);
    this.publishStatus(topic, id, { rx: this.receiverId, state: 'want-manifest' });
  }

  /** Chunks this receiver offers each sender beyond its `next`: its budget shared among active transfers. */
  private window(t: Incoming): number {
    const share = Math.floor(WINDOW_BUDGET / Math.max(1, this.transfers.size));
    return Math.max(4, Math.min(share, Math.floor(MAX_WINDOW_BYTES / t.manifest.chunkBytes)));
  }

  private sendStatus(t: Incoming, now: number): void {
    const r = t.reassembly;
    const missing = t.repairs.due(r.missing(MAX_STATUS_RANGES), now);
    t.lastStatusMs = now;
    t.newSinceStatus = 0;
    const status: Status = {
      rx: this.receiverId,
      state: 'receiving',
      next: r.next,
      high: r.high,
      win: this.window(t),
    };
    if (missing.length > 0) status.missing = missing;
    this.publishStatus(t.topic, t.manifest.id, status);
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
      if (now - t.lastStatusMs >= HEARTBEAT_MS || t.newSinceStatus > 0) {
        this.sendStatus(t, now);
      }
      if (t.dirty && !t.saving && now - t.lastSavedMs >= SAVE_STATE_MS) {
        t.saving = this.saveState(t)
          .catch(() => {})
          .finally(() => {
            t.saving = undefined;
          });
      }
    }
    if (this.finished.size > 10_000) {
      // Forget the oldest finished transfers; a sender still asking after this long has given up anyway.
      for (const id of [...this.finished.keys()].slice(0, 5000)) this.finished.delete(id);
    }
  }
}
