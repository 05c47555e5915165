import { ExitCode, MqimgError, UsageError } from '../../errors.js';
import { SILENT_RECEIVER_MS } from '../../protocol/send/send-planner.js';
import { fromUtf8, toHex } from '../../protocol/wire/bytes.js';
import {
  receiverSubscriptions,
  shareGroupProblem,
  shareProbeTopic,
  shareSubscriptions,
  transferSubscriptions,
} from '../../protocol/wire/topics.js';
import type { CoreTransfer as IncomingTransfer } from '../../receiver-core/core-transfer.js';
import type { StatusPublisher } from '../../receiver-core/status-publisher.js';
import type { MessageTransport } from '../../transport/message-transport.js';
import { type Cancel, realScheduler } from '../../util/clock.js';
import { shareMemberId, shareMemberPrefix } from './receiver-id.js';
import { RefusedTransfers } from './refused-transfers.js';

/** Options of a receiver that is a member of a shared-subscription group (`mqimg receive --share GROUP`). */
export interface ShareOptions {
  /**
   * Join shared-subscription group `GROUP`: the broker hands each manifest to one member, and that member alone
   * takes the transfer whole (PROTOCOL.md 8.3). Default: none (every transfer is received).
   */
  shareGroup?: string;
  /**
   * Check at start that the broker delivers through shared subscriptions (one probe message and its round trip,
   * `checkSharedSubscriptions`). Default true; false skips it (a broker known to have them, or a test broker that
   * stands in for one).
   */
  checkShare?: boolean;
}

/**
 * How long a group peer's status claims a transfer, in milliseconds: a sender's silence limit (SILENT_RECEIVER_MS,
 * 3 s, PROTOCOL.md 8.1), six of the heartbeats a receiving peer sends every 500 ms. A peer heard from longer ago is
 * taken for gone, and the transfer may be taken over.
 */
export const PEER_CLAIM_MS = SILENT_RECEIVER_MS;

/**
 * How long a share member waits for its probe message to come back through a shared subscription before it says
 * the broker has none (`checkSharedSubscriptions`), in milliseconds: 3 s, a few round trips to a distant broker.
 */
export const SHARE_PROBE_MS = 3000;

/** Most transfer ids whose peer statuses are remembered at once (older ones are forgotten first). */
const MAX_TRACKED = 4096;

/** What a group peer last said about a transfer. */
interface PeerClaim {
  rx: string;
  /**
   * The peer holds or finished the transfer: `receiving` or `complete` (a sealed status counts). Not `want-manifest`:
   * a member asks for a manifest it refused for now, or resumes after a restart, and whichever member the broker
   * hands the manifest to may take it.
   */
  engaged: boolean;
  complete: boolean;
  atMs: number;
}

/** What the receiver does about a peer's status (ShareGroup.onStatus). */
export interface ShareActions {
  transfers: ReadonlyMap<string, IncomingTransfer>;
  /** Give up transfer `t` (a peer receives it too and keeps it). */
  yieldTransfer(t: IncomingTransfer, message: string): void;
  /** Where this member's statuses go. */
  statuses: StatusPublisher;
}

/**
 * A receiver's membership of a shared-subscription group. Only manifests are shared (`$share/GROUP/F/mqimg/+/m`):
 * the member the broker hands a manifest to and that admits the transfer subscribes to that transfer's chunks
 * before it answers, and unsubscribes once the transfer is over (every member gets every hash page: they are
 * small, and come right after the manifest). Members follow every status (not shared) and recognise each other's
 * by their receiver id (`sh-<group hash>-...`):
 * - a manifest (a sender's repeat) for a transfer a peer spoke for within PEER_CLAIM_MS is ignored;
 * - two members that both took a transfer (a repeat reached the second before the first one's status): the one
 *   with the greater receiver id gives it up (`taken_by_peer`), as does any member when a peer completed it;
 * - a member that refused a transfer for now (`too_many_transfers`, `too_many_bytes`) and sees a peer take it tells
 *   the sender it is out (`taken_by_peer`), so that the sender does not wait for it.
 */
export class ShareGroup {
  readonly receiverId: string;
  private readonly prefix: string;
  private readonly claims = new Map<string, PeerClaim[]>();
  private readonly followed = new Map<string, string[]>();
  private readonly chunkQos: 0 | 1;
  private readonly checkShare: boolean;
  /** Transfers this member refused for now (the receiver's). */
  private readonly refused: RefusedTransfers;

  constructor(
    private readonly transport: MessageTransport,
    readonly group: string,
    options: {
      outDir: string;
      receiverId?: string;
      chunkQos?: 0 | 1;
      refused?: RefusedTransfers;
      checkShare?: boolean;
    },
  ) {
    this.refused = options.refused ?? new RefusedTransfers();
    const problem = shareGroupProblem(group);
    if (problem) throw new UsageError(`invalid --share: ${problem}`);
    this.prefix = shareMemberPrefix(group);
    this.receiverId = options.receiverId ?? shareMemberId(group, options.outDir);
    if (!this.receiverId.startsWith(this.prefix))
      throw new UsageError(
        `a receiver id of share group ${group} must start with ${this.prefix}, so that its peers recognise it (got ${this.receiverId})`,
      );
    this.chunkQos = options.chunkQos ?? 0;
    this.checkShare = options.checkShare ?? true;
  }

  /**
   * Subscribes to the status and hash page filters and the shared manifest filters for user filter `filter`
   * (default '#'). Pages at the chunks' QoS, so that no broker lets a chunk overtake its page.
   */
  async subscribe(filter = '#'): Promise<void> {
    if (this.checkShare) await this.checkSharedSubscriptions(filter);
    const { manifests, statuses, pages } = shareSubscriptions(filter, this.group);
    await this.transport.subscribe(statuses, 1);
    await this.transport.subscribe(pages, this.chunkQos);
    await this.transport.subscribe(manifests, 1);
  }

  /**
   * Makes sure the broker delivers through shared subscriptions: some accept a `$share/...` subscription and
   * never deliver anything through it (aedes, so `mqimg broker`, takes it for an ordinary topic filter), and a
   * member of such a group would wait for ever. Subscribes to `$share/GROUP/<probe topic>` (shareProbeTopic, under
   * the filter's fixed levels, where the receiver's rights already are), publishes one message there, and throws
   * an `MqimgError` (`share_unsupported`, exit 2) when it has not come back within SHARE_PROBE_MS.
   */
  private async checkSharedSubscriptions(filter: string): Promise<void> {
    const topic = shareProbeTopic(filter, toHex(globalThis.crypto.getRandomValues(new Uint8Array(8))));
    const shared = `$share/${this.group}/${topic}`;
    let delivered = false;
    let wake = () => {};
    const stopListening = this.transport.onMessage((t) => {
      if (t !== topic) return;
      delivered = true;
      wake();
    });
    let cancel: Cancel | undefined;
    try {
      await this.transport.subscribe([shared], 1);
      await this.transport.publish(topic, 'mqimg share probe');
      if (!delivered) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          cancel = realScheduler.after(SHARE_PROBE_MS, resolve);
        });
      }
      if (!delivered) {
        throw new MqimgError(
          'share_unsupported',
          `--share ${this.group}: this broker does not deliver through MQTT shared subscriptions ($share/${this.group}/...): a message published on ${topic} did not come back through one within ${SHARE_PROBE_MS / 1000} s. Use a broker that has them (Mosquitto 2, EMQX, HiveMQ, VerneMQ, AWS IoT Core; not aedes, so not mqimg broker), or run one receiver without --share`,
          ExitCode.usage,
          { group: this.group, probeTopic: topic },
        );
      }
    } finally {
      cancel?.();
      stopListening();
      await this.transport.unsubscribe([shared]);
    }
  }

  /** True when a group peer spoke for transfer `id` (not a failure) less than PEER_CLAIM_MS ago. */
  claimedByPeer(id: string, nowMs: number): boolean {
    return (this.claims.get(id) ?? []).some((c) => c.engaged && nowMs - c.atMs < PEER_CLAIM_MS);
  }

  /**
   * Subscribes to the chunks of transfer `id` on `topic`, just admitted. Not awaited: the broker handles a
   * connection's packets in order, so the subscription is in place before the status that follows reaches the
   * sender. What the sender published before it (the blind start) the join asks for again (`askForBlindStart`).
   */
  follow(topic: string, id: string): void {
    if (this.followed.has(id)) return;
    const filters = transferSubscriptions(topic, id);
    this.followed.set(id, filters);
    this.transport.subscribe(filters, this.chunkQos).catch(() => {});
  }

  /** A status on `topic` for transfer `id`: a peer's is noted, and may make this member give a transfer up. */
  onStatus(topic: string, id: string, payload: Uint8Array, nowMs: number, actions: ShareActions): void {
    const claim = this.readClaim(payload, nowMs);
    if (!claim) return;
    const claims = (this.claims.get(id) ?? []).filter((c) => c.rx !== claim.rx);
    claims.push(claim);
    this.claims.delete(id); // re-inserted last: the map stays ordered by last use
    this.claims.set(id, claims);
    if (this.claims.size > MAX_TRACKED) {
      const oldest = this.claims.keys().next();
      if (!oldest.done) this.claims.delete(oldest.value);
    }
    if (!claim.engaged) return;
    const t = actions.transfers.get(id);
    if (t && !t.finishing && (claim.complete || claim.rx < this.receiverId)) {
      const what = claim.complete ? 'saved it already' : 'receives it too and keeps it';
      actions.yieldTransfer(
        t,
        `${t.manifest.name}: ${claim.rx}, a member of share group ${this.group}, ${what}`,
      );
    } else if (!t && this.refused.forget(id)) {
      // It refused the transfer for now (the sender keeps waiting for it); a peer took it: this member is out.
      actions.statuses.failed(topic, id, 'taken_by_peer', nowMs);
    }
  }

  /** Timer work: unsubscribe from transfers that are over; forget old claims. */
  tick(nowMs: number, transfers: ReadonlyMap<string, IncomingTransfer>): void {
    for (const [id, filters] of this.followed) {
      if (transfers.has(id)) continue;
      this.followed.delete(id);
      void this.transport.unsubscribe(filters);
    }
    for (const [id, claims] of this.claims)
      if (claims.every((c) => nowMs - c.atMs >= PEER_CLAIM_MS)) this.claims.delete(id);
  }

  /** A peer's claim from a status payload (plain or sealed), or undefined when it is not a group peer's. */
  private readClaim(payload: Uint8Array, nowMs: number): PeerClaim | undefined {
    let value: unknown;
    try {
      value = JSON.parse(fromUtf8(payload));
    } catch {
      return undefined;
    }
    if (typeof value !== 'object' || value === null) return undefined;
    const { rx, state, sealed } = value as Record<string, unknown>;
    if (typeof rx !== 'string' || !rx.startsWith(this.prefix) || rx === this.receiverId) return undefined;
    // A sealed status (an encrypted transfer) hides its state: the peer holds the transfer, or did.
    if (typeof sealed === 'string') return { rx, engaged: true, complete: false, atMs: nowMs };
    if (state !== 'receiving' && state !== 'want-manifest' && state !== 'complete' && state !== 'failed')
      return undefined;
    const engaged = state === 'receiving' || state === 'complete';
    return { rx, engaged, complete: state === 'complete', atMs: nowMs };
  }
}

/**
 * Makes a receiver's subscriptions: a share group member's (`ShareGroup.subscribe`), or for user filter `filter`
 * (default '#') the manifests and the `T/mqimg/retained` pointer at QoS 1, then pages and chunks at `chunkQos`.
 */
export async function subscribeReceiver(
  transport: MessageTransport,
  filter: string | undefined,
  chunkQos: 0 | 1,
  share: ShareGroup | undefined,
): Promise<void> {
  if (share) return share.subscribe(filter);
  const { manifests, chunks, retained } = receiverSubscriptions(filter);
  await transport.subscribe([...manifests, ...retained], 1);
  await transport.subscribe(chunks, chunkQos);
}
