import { receiverWindow, STATUS_FLUSH_MS } from '../protocol/ack-policy.js';
import { admit } from '../protocol/admission.js';
import { toHex } from '../protocol/bytes.js';
import { HASH_BYTES, hashMatches } from '../protocol/chunk-hashes.js';
import { chunkOffset } from '../protocol/chunking.js';
import type { FailureCode, RejectionCode } from '../protocol/codes.js';
import type { CryptoProvider } from '../protocol/crypto.js';
import { openChunk, openPage } from '../protocol/encryption.js';
import type { Manifest } from '../protocol/manifest.js';
import { manifestVerdict, readCheckedManifest } from '../protocol/manifest-checks.js';
import { receiptProof } from '../protocol/receipt.js';
import type { Status } from '../protocol/status.js';
import { statusKey } from '../protocol/status-seal.js';
import { parseTopic } from '../protocol/topics.js';
import { chunkMismatch, TransferIntake } from '../protocol/transfer-intake.js';
import { EarlyMessages } from '../session/early-messages.js';
import { SerialQueue } from '../session/serial-queue.js';
import { StatusPublisher } from '../session/status-publisher.js';
import type { MessageTransport } from '../transport/message-transport.js';
import type { MemoryReplayGuard } from './memory-replay-guard.js';

/** An image the page received and verified. */
export interface ReceivedImage {
  manifest: Manifest;
  /** The file's bytes, whose SHA-256 matched the manifest. */
  bytes: Uint8Array;
  /** Its SHA-256, 64 hex digits. */
  sha256: string;
  /** When its last chunk arrived (monotonic ms, the page's `performance.now()`). */
  lastChunkMs: number;
}

/** What the page receiver tells the page (overlay, tests), besides images. */
export type PageEvent =
  | { event: 'started'; id: string; name: string; size: number; chunks: number }
  | { event: 'progress'; id: string; name: string; received: number; chunks: number }
  | { event: 'failed'; id: string; code: FailureCode; message: string }
  | { event: 'rejected'; code: RejectionCode | FailureCode | 'internal'; message: string };

/** What a page receiver needs. */
export interface PageReceiverOptions {
  transport: MessageTransport;
  crypto: CryptoProvider;
  receiverId: string;
  /** Shared secret: only encrypted transfers. */
  secret?: Uint8Array | undefined;
  /** Trusted raw Ed25519 public keys by key id: only signed transfers. */
  trust?: ReadonlyMap<string, Uint8Array> | undefined;
  /** Required with `trust`: refuses replays (display/memory-replay-guard.ts). */
  replayGuard?: MemoryReplayGuard | undefined;
  /** Largest file, and most bytes held in memory for transfers in progress; default 64 MiB. */
  maxBytes?: number;
  /** A transfer nothing arrived for this long is given up, in milliseconds; default 30,000. */
  timeoutMs?: number;
  /** Monotonic clock in milliseconds; default `performance.now`. */
  now?: () => number;
  /** Wall clock in ms since the epoch; default `Date.now`. */
  wallNow?: () => number;
  onImage: (image: ReceivedImage) => void;
  onEvent?: (event: PageEvent) => void;
}

/** Most transfers a page takes in at once: a display shows one image, and a newer one usually replaces it. */
const MAX_TRANSFERS = 2;

/** One transfer the page is taking in: the shared receiver rules plus the file's bytes in memory. */
class PageTransfer {
  readonly intake: TransferIntake;
  readonly bytes: Uint8Array;
  finishing = false;
  statusKey: Promise<Uint8Array> | undefined;
  lastChunkMs = 0;
  lastProgressMs = 0;

  constructor(
    readonly manifest: Manifest,
    readonly topic: string,
    readonly chunkKey: Uint8Array | undefined,
    nowMs: number,
  ) {
    this.intake = new TransferIntake(manifest, nowMs);
    this.bytes = new Uint8Array(manifest.size);
  }

  get id(): string {
    return this.manifest.id;
  }
}

/**
 * The display page's receiver: the same protocol as `mqimg receive` (protocol/: manifest checks, TransferIntake,
 * ack policy, repair requests, status sealing, proof of receipt), with the file kept in memory instead of on disk,
 * its SHA-256 checked with WebCrypto, and each verified image handed to `onImage`. Messages are handled one at a
 * time in arrival order (SerialQueue), since every hash check waits for WebCrypto.
 */
export class PageReceiver {
  private readonly transfers = new Map<string, PageTransfer>();
  private readonly statuses: StatusPublisher;
  private readonly early = new EarlyMessages();
  private readonly queue: SerialQueue;
  private readonly now: () => number;
  private readonly wallNow: () => number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopListening: (() => void) | undefined;

  constructor(private readonly options: PageReceiverOptions) {
    this.now = options.now ?? (() => performance.now());
    this.wallNow = options.wallNow ?? (() => Date.now());
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    if (options.trust && !options.replayGuard)
      throw new Error('a page that trusts keys needs a replay guard');
    this.statuses = new StatusPublisher(options.transport, options.crypto, options.receiverId);
    this.queue = new SerialQueue((error) =>
      this.emit({ event: 'rejected', code: 'internal', message: String(error) }),
    );
  }

  /** Starts handling messages (the transport subscribes) and the status timer. */
  start(): void {
    this.stopListening = this.options.transport.onMessage((topic, payload) => {
      const arrivedMs = this.now();
      this.queue.run(() => this.onMessage(topic, payload, arrivedMs));
    });
    this.timer = setInterval(() => this.tick(), STATUS_FLUSH_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.stopListening?.();
  }

  /** Resolves once every message received so far was handled. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private emit(event: PageEvent): void {
    this.options.onEvent?.(event);
  }

  private onMessage(name: string, payload: Uint8Array, arrivedMs: number): void | Promise<void> {
    if (payload.length === 0) return;
    const parsed = parseTopic(name);
    if (parsed?.kind === 'manifest') return this.onManifest(parsed.topic, parsed.id, payload);
    if (parsed?.kind === 'chunk' || parsed?.kind === 'page')
      return this.onPiece(parsed.kind, parsed.topic, parsed.id, parsed.index, payload, arrivedMs);
  }

  private async onManifest(topic: string, id: string, payload: Uint8Array): Promise<void> {
    if (this.statuses.isFinished(id)) return this.statuses.repeatFinal(id, this.now(), true);
    const current = this.transfers.get(id);
    if (current) return this.sendStatus(current);
    const { crypto, secret, trust, replayGuard } = this.options;
    const checks = { crypto, secret, trust, replayGuard, wallNowMs: this.wallNow };
    const verdict = manifestVerdict(await readCheckedManifest(payload, topic, checks), id);
    if (verdict.kind === 'reject') return this.emit({ event: 'rejected', ...verdict.rejection });
    if (verdict.kind === 'fail') return this.fail(topic, id, verdict.code, verdict.message);
    const { manifest, chunkKey } = verdict;
    // The newest image is the one to show: an unfinished older one on the same topic is given up for it.
    for (const older of [...this.transfers.values()]) {
      if (older.topic === topic && older.manifest.createdMs <= manifest.createdMs)
        this.abandon(older, 'superseded', `${older.manifest.name}: a newer image arrived; dropped`);
    }
    const load = { transfers: this.transfers.size, bytes: this.heldBytes() };
    const refusal = admit(manifest, load, { maxBytes: this.maxBytes, maxTransfers: MAX_TRANSFERS });
    if (refusal) return this.fail(topic, id, refusal.code, refusal.message);
    this.statuses.known(id);
    const t = new PageTransfer(manifest, topic, chunkKey, this.now());
    if (chunkKey) t.statusKey = statusKey(crypto, chunkKey);
    this.transfers.set(id, t);
    const { name, size, chunks } = manifest;
    this.emit({ event: 'started', id, name, size, chunks });
    this.sendStatus(t);
    for (const m of this.early.take(id)) {
      this.queue.run(() => this.onPiece(m.kind, topic, id, m.index, m.payload, this.now()));
    }
  }

  private async onPiece(
    kind: 'page' | 'chunk',
    topic: string,
    id: string,
    index: number,
    payload: Uint8Array,
    arrivedMs: number,
  ): Promise<void> {
    const t = this.transfers.get(id);
    if (!t) {
      if (this.statuses.isFinished(id)) this.statuses.repeatFinal(id, this.now(), false);
      else {
        this.early.hold(id, { kind, index, payload });
        this.statuses.askForManifest(topic, id, this.now());
      }
      return;
    }
    if (t.finishing) return;
    let bytes = payload;
    if (t.chunkKey) {
      const opened = await (kind === 'page' ? openPage : openChunk)(
        this.options.crypto,
        t.chunkKey,
        id,
        index,
        payload,
      );
      if (!opened) {
        const message = `transfer ${id}: ${kind} ${index} fails authentication (changed in transit, or sealed under another key); dropped`;
        return this.emit({ event: 'rejected', code: 'chunk_auth_failed', message });
      }
      bytes = opened;
    }
    if (kind === 'page') return this.storePage(t, index, bytes, arrivedMs);
    return this.store(t, index, bytes, arrivedMs);
  }

  private async shortHash(bytes: Uint8Array): Promise<Uint8Array> {
    return (await this.options.crypto.sha256(bytes)).subarray(0, HASH_BYTES);
  }

  private async storePage(
    t: PageTransfer,
    page: number,
    bytes: Uint8Array,
    arrivedMs: number,
  ): Promise<void> {
    const outcome = t.intake.storePage(page, bytes, await this.shortHash(bytes));
    if (outcome.kind === 'rejected') {
      const message = `transfer ${t.id}: ${outcome.message}`;
      return this.emit({ event: 'rejected', code: 'page_hash_mismatch', message });
    }
    for (const [index, payload] of outcome.waiting) await this.store(t, index, payload, arrivedMs);
  }

  private async store(t: PageTransfer, index: number, payload: Uint8Array, arrivedMs: number): Promise<void> {
    if (t.finishing || this.transfers.get(t.id) !== t) return;
    const checked = t.intake.check(index, payload);
    if (checked.kind === 'waiting') {
      if (!checked.held) this.sendStatus(t); // asks for the missing hash page at once
      return;
    }
    if (checked.kind === 'duplicate') return;
    if (checked.kind === 'rejected') {
      return this.emit({
        event: 'rejected',
        code: checked.code,
        message: `transfer ${t.id}: ${checked.message}`,
      });
    }
    // Checked on arrival: a wrong copy is refused now, and the next copy of the chunk is taken.
    if (!hashMatches(await this.shortHash(payload), checked.expected)) {
      const { code, message } = chunkMismatch(index);
      return this.emit({ event: 'rejected', code, message: `transfer ${t.id}: ${message}` });
    }
    if (t.finishing || this.transfers.get(t.id) !== t) return;
    const nowMs = this.now();
    const { complete, reportNow } = t.intake.commit(index, nowMs, this.window(t));
    t.bytes.set(payload, chunkOffset(index, t.manifest.chunkBytes));
    t.lastChunkMs = arrivedMs;
    if (complete) return this.finish(t);
    if (reportNow) this.sendStatus(t);
  }

  /** Checks the SHA-256 of the complete file, proves receipt to the sender, and hands the image over. */
  private async finish(t: PageTransfer): Promise<void> {
    t.finishing = true;
    const { manifest, bytes } = t;
    const sha256 = toHex(await this.options.crypto.sha256(bytes));
    if (sha256 !== manifest.sha256) {
      const message = `${manifest.name}: SHA-256 of the received bytes is ${sha256}, the manifest says ${manifest.sha256}; not shown`;
      return this.abandon(t, 'checksum_mismatch', message);
    }
    const proof = await receiptProof(this.options.crypto, manifest.nonce, bytes, this.options.receiverId);
    this.transfers.delete(t.id);
    this.options.replayGuard?.remember(manifest, this.wallNow());
    const status: Status = { rx: this.options.receiverId, state: 'complete', next: manifest.chunks, proof };
    this.statuses.final(t.topic, t.id, status, this.now(), t.statusKey);
    this.options.onImage({ manifest, bytes, sha256, lastChunkMs: t.lastChunkMs });
  }

  private abandon(t: PageTransfer, code: FailureCode, message: string): void {
    if (this.transfers.get(t.id) !== t) return;
    this.transfers.delete(t.id);
    t.finishing = true;
    this.fail(t.topic, t.id, code, message, t.statusKey);
  }

  /** Reports a failure to the sender; a `final` one is remembered and repeated (FAILURE_CODES). */
  private fail(
    topic: string,
    id: string,
    code: FailureCode,
    message: string,
    key?: Promise<Uint8Array>,
  ): void {
    this.statuses.failed(topic, id, code, this.now(), key);
    this.emit({ event: 'failed', id, code, message });
  }

  private heldBytes(): number {
    let bytes = 0;
    for (const t of this.transfers.values()) bytes += t.manifest.size;
    return bytes;
  }

  private window(t: PageTransfer): number {
    return receiverWindow(this.transfers.size, t.manifest.chunkBytes);
  }

  private sendStatus(t: PageTransfer): void {
    const status = t.intake.status(this.options.receiverId, this.window(t), this.now());
    this.statuses.send(t.topic, t.id, status, t.statusKey);
  }

  private tick(): void {
    const now = this.now();
    for (const t of this.transfers.values()) {
      if (t.finishing) continue;
      if (now - t.intake.lastActivityMs > this.timeoutMs) {
        this.abandon(
          t,
          'timeout',
          `${t.manifest.name}: ${t.intake.heldSummary(now)}; the sender may be gone`,
        );
        continue;
      }
      if (t.intake.ack.due(now)) this.sendStatus(t);
      if (now - t.lastProgressMs >= 200) {
        t.lastProgressMs = now;
        const { id, name, chunks } = t.manifest;
        this.emit({ event: 'progress', id, name, received: t.intake.reassembly.received, chunks });
      }
    }
  }
}
