import { UsageError } from '../../errors.js';
import { sha256Digest } from '../../platform/node-crypto.js';
import { namedReceiverId } from '../../protocol/security/recipient.js';
import { filterProblem, type ParsedTopic } from '../../protocol/wire/topics.js';
import type { CoreTransfer } from '../../receiver-core/core-transfer.js';
import { ReceiverCore } from '../../receiver-core/receiver-core.js';
import type { MessageTransport } from '../../transport/message-transport.js';
import { monotonicClock, realScheduler, wallClock } from '../../util/clock.js';
import { isolate } from '../../util/isolate-callback.js';
import { type ManifestChecks, manifestChecks } from './checked-manifest.js';
import { type DiskFile, DiskStore } from './disk/disk-store.js';
import { trimPartialStates } from './disk/partial-budget.js';
import { loadPartialStates, PARTIAL_TTL_MS } from './disk/partial-state.js';
import { checkOutDir } from './out-dir-check.js';
import { acquireOutLock, type OutLock } from './out-lock.js';
import { PayloadReclaimer } from './payload-reclaimer.js';
import { defaultReceiverId } from './receiver-id.js';
import type { ReceiverOptions } from './receiver-options.js';
import { RefusedTransfers } from './refused-transfers.js';
import { ReplayGuard } from './replay-guard.js';
import { republishSaved } from './republish.js';
import { RetainedPointers } from './retained-pointers.js';
import { ShareGroup, type ShareOptions, subscribeReceiver } from './share-group.js';

export type { ReceiveEvent, ReceiverOptions } from './receiver-options.js';

/**
 * `mqimg receive`: the receiver core (receiver-core/) with a disk store (partial files in `<out>/.mqimg-partial`,
 * resumed after a crash or a timeout, moved into `<out>` once verified), the `--out` lock, the replay guard kept in
 * `<out>`, share groups (`--share`), retained transfers announced on `T/mqimg/retained`, and transfers refused for
 * now asked for again when there is room. One instance serves any number of senders and transfers at once.
 */
export class Receiver extends ReceiverCore<DiskFile> {
  private readonly disk: DiskStore;
  private readonly refused: RefusedTransfers;
  private readonly pointers: RetainedPointers;
  /** Membership of a shared-subscription group (`shareGroup`), if any. */
  private readonly share: ShareGroup | undefined;
  private readonly checks: ManifestChecks;
  private readonly reclaimer: PayloadReclaimer | undefined;
  private lock: OutLock | undefined;

  constructor(
    private readonly transport: MessageTransport,
    private readonly options: ReceiverOptions & ShareOptions,
  ) {
    const { shareGroup: g, ...rest } = options;
    const refused = new RefusedTransfers();
    const share = g === undefined ? undefined : new ShareGroup(transport, g, { ...rest, refused });
    const { identity } = options;
    const receiverId =
      share?.receiverId ??
      (identity
        ? namedReceiverId(identity.keyId)
        : (options.receiverId ?? defaultReceiverId(options.outDir)));
    const clock = options.clock ?? monotonicClock;
    const wall = options.wallClock ?? wallClock;
    const problem = filterProblem(options.topicFilter ?? '#');
    if (problem) throw new UsageError(`invalid --topic: ${problem}`);
    const checks = manifestChecks(options, wall);
    const maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    const disk = new DiskStore({
      outDir: options.outDir,
      receiverId,
      maxBytes,
      clock,
      wallClock: wall,
      activeIds: () => new Set(this?.transfers.keys() ?? []),
      verifyFile: options.verifyFile,
      saveAs: options.saveAs,
      latest: options.latest,
      keep: options.keep,
    });
    super({
      transport,
      store: disk,
      receiverId,
      identity: identity?.x25519Private,
      checks,
      sha256: sha256Digest,
      timeoutMs: options.timeoutMs ?? 30_000,
      maxBytes,
      maxTransfers: options.maxTransfers ?? 16,
      keepsOnlyNewest: false,
      clock,
      wallClock: wall,
      scheduler: options.scheduler ?? realScheduler,
      onEvent: isolate(options.onEvent ?? (() => {}), (error) =>
        process.emitWarning(`mqimg: the onEvent callback threw: ${String(error)}`),
      ),
    });
    this.disk = disk;
    this.refused = refused;
    this.share = share;
    this.checks = checks;
    this.pointers = new RetainedPointers(transport);
    this.reclaimer = (options.gcEveryBytes ?? 0) > 0 ? new PayloadReclaimer(options.gcEveryBytes) : undefined;
  }

  /**
   * Checks `outDir` (created if missing; UsageError when it cannot be written), locks it against a second
   * receiver, subscribes and starts receiving.
   */
  async start(): Promise<void> {
    const { outDir, partialTtlMs, maxAgeMs, topicFilter, chunkQos } = this.options;
    await checkOutDir(outDir);
    this.lock = await acquireOutLock(outDir);
    await this.disk.saved.start();
    if (this.checks.trust) {
      if (this.checks.trust.size === 0)
        throw new UsageError('--trust names no public key: nothing could be accepted');
      this.checks.replayGuard = await ReplayGuard.load(outDir, maxAgeMs, this.wallClock());
    }
    this.listen();
    await subscribeReceiver(this.transport, topicFilter, chunkQos ?? 0, this.share);
    this.disk.resumable = await loadPartialStates(outDir, partialTtlMs ?? PARTIAL_TTL_MS, this.wallClock());
    // Partial state kept for resuming counts against --max-bytes on disk too: the oldest goes first.
    const maxBytes = this.options.maxBytes ?? 256 * 1024 * 1024;
    for (const id of await trimPartialStates(outDir, maxBytes, new Set())) this.disk.resumable.delete(id);
    // A sender still running republishes its manifest when asked, and the transfer resumes where it stopped.
    for (const state of this.disk.resumable.values()) {
      this.statuses.wantManifest(state.topic, state.manifest.id);
    }
  }

  /**
   * Stops receiving. Transfers in progress keep their partial state in `<out>/.mqimg-partial` (never in `<out>`
   * itself), so that a receiver started again with the same `outDir` resumes them.
   */
  override async stop(): Promise<void> {
    await super.stop();
    await this.lock?.release();
  }

  protected override announced(topic: string, payload: Uint8Array): ParsedTopic | undefined {
    // A manifest from `T/mqimg/retained` counts as one from its own topic.
    return this.pointers.announced(topic, payload);
  }

  protected override onStatus(topic: string, id: string, payload: Uint8Array): void {
    this.share?.onStatus(topic, id, payload, this.clock(), {
      transfers: this.transfers,
      statuses: this.statuses,
      yieldTransfer: (t, message) => this.abandon(t as CoreTransfer<DiskFile>, 'taken_by_peer', message),
    });
  }

  protected override heldElsewhere(id: string, nowMs: number): boolean {
    // A sender's repeat handed to this member while a peer in its share group holds the transfer.
    return this.share?.claimedByPeer(id, nowMs) ?? false;
  }

  protected override refusedForNow(topic: string, id: string): void {
    this.refused.note(topic, id, this.clock());
  }

  protected override admitted(topic: string, id: string): boolean {
    const retried = this.refused.forget(id);
    this.share?.follow(topic, id); // before the join status, which makes the sender publish more
    return this.share !== undefined || retried;
  }

  protected override asksForUnknown(id: string): boolean {
    // Not a loss: a share member gets all pages; a transfer refused for now is asked for with room (tickMore).
    return !this.share && !this.refused.has(id);
  }

  protected override pieceArrived(bytes: number): void {
    this.reclaimer?.released(bytes);
  }

  protected override async afterPublish(
    t: CoreTransfer<DiskFile>,
    path: string,
  ): Promise<string | undefined> {
    const template = this.options.republishTopic;
    if (template === undefined) return undefined;
    return republishSaved(this.transport, template, t.topic, path, (message) =>
      this.emit({ event: 'rejected', topic: t.topic, code: 'republish_failed', message }),
    );
  }

  protected override tickMore(nowMs: number): void {
    this.pointers.tick(nowMs, this.transfers);
    const room = (this.options.maxTransfers ?? 16) - this.transfers.size;
    for (const r of this.refused.askNow(nowMs, room)) // room again: ask at once
      this.statuses.wantManifest(r.topic, r.id);
    this.share?.tick(nowMs, this.transfers);
  }
}
