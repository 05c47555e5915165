import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../src/platform/node-crypto.js';
import { askForBlindStart } from '../../../src/protocol/receive/admission.js';
import { encodeStatus, type Status } from '../../../src/protocol/status/status.js';
import {
  receiverSubscriptions,
  shareProbeTopic,
  shareSubscriptions,
  transferSubscriptions,
} from '../../../src/protocol/wire/topics.js';
import type { CoreTransfer as IncomingTransfer } from '../../../src/receiver-core/core-transfer.js';
import { StatusPublisher } from '../../../src/receiver-core/status-publisher.js';
import { type ReceiveEvent, Receiver } from '../../../src/session/receive/receiver.js';
import { shareMemberId, shareMemberPrefix } from '../../../src/session/receive/receiver-id.js';
import { RefusedTransfers } from '../../../src/session/receive/refused-transfers.js';
import { PEER_CLAIM_MS, type ShareActions, ShareGroup } from '../../../src/session/receive/share-group.js';
import { sendTransfer } from '../../../src/session/send/send-session.js';
import {
  LoopbackBroker,
  type LoopbackTransport,
  topicMatches,
} from '../../../src/transport/loopback-transport.js';
import { sha256, tempDir } from '../../helpers/files.js';

const GROUP = 'archive';
const PREFIX = shareMemberPrefix(GROUP);

describe('share group topics and ids', () => {
  it("probes on a topic under the filter's fixed levels that no receiver filter takes for mqimg traffic", () => {
    expect(shareProbeTopic('cam/+', 'ab')).toBe('cam/mqimg/probe/ab');
    expect(shareProbeTopic('site/a/#', 'ab')).toBe('site/a/mqimg/probe/ab');
    expect(shareProbeTopic('#', 'ab')).toBe('mqimg/probe/ab');
    for (const filter of ['#', 'cam/+', 'site/a/#', '+/+/+']) {
      const probe = shareProbeTopic(filter, '28d2ef2b922ac601');
      const { manifests, chunks, retained } = receiverSubscriptions(filter);
      const shared = shareSubscriptions(filter, GROUP);
      const all = [...manifests, ...chunks, ...retained, ...shared.statuses, ...shared.pages];
      expect(all.filter((f) => topicMatches(f, probe))).toEqual([]);
    }
  });

  it('shares the manifest filters only, follows statuses unshared, and takes one transfer whole', () => {
    expect(shareSubscriptions('cam/+', GROUP)).toEqual({
      manifests: ['$share/archive/cam/+/mqimg/+/m'],
      statuses: ['cam/+/mqimg/+/r'],
      pages: ['cam/+/mqimg/+/h/+'],
    });
    expect(shareSubscriptions('#', GROUP).manifests).toHaveLength(8);
    expect(transferSubscriptions('cam/1', '0123456789abcdef')).toEqual(['cam/1/mqimg/0123456789abcdef/c/+']);
  });

  it('gives members receiver ids that name the group and are valid rx values', () => {
    const id = shareMemberId(GROUP, '/tmp/a');
    expect(id).toMatch(/^sh-[0-9a-f]{8}-[0-9a-f]{8}$/);
    expect(id.startsWith(PREFIX)).toBe(true);
    expect(shareMemberId('other', '/tmp/a').startsWith(PREFIX)).toBe(false);
    expect(shareMemberId(GROUP, '/tmp/b')).not.toBe(id);
  });

  it('refuses a group name that cannot be a topic level', () => {
    const transport = new LoopbackBroker().connect('x');
    expect(() => new ShareGroup(transport, 'a/b', { outDir: '/tmp/x' })).toThrow(/invalid --share/);
    expect(() => new ShareGroup(transport, '', { outDir: '/tmp/x' })).toThrow(/invalid --share/);
    expect(() => new ShareGroup(transport, 'g', { outDir: '/tmp/x', receiverId: 'rx-1' })).toThrow(
      /must start/,
    );
  });
});

/** A ShareGroup with a recording transport and actions; `transfers` lists what "this member" holds. */
function member(rx: string) {
  const broker = new LoopbackBroker();
  const transport = broker.connect('m');
  const refused = new RefusedTransfers();
  const group = new ShareGroup(transport, GROUP, { outDir: '/tmp/m', receiverId: rx, chunkQos: 0, refused });
  const transfers = new Map<string, IncomingTransfer>();
  const yielded: string[] = [];
  const finals: Status[] = [];
  const actions: ShareActions = {
    transfers,
    statuses: new (class extends StatusPublisher {
      override final(topic: string, id: string, s: Status, nowMs: number): void {
        finals.push(s);
        super.final(topic, id, s, nowMs);
      }
    })(transport, nodeCrypto, rx),
    yieldTransfer: (t) => yielded.push(t.id),
  };
  const status = (from: string, fields: Partial<Status> = {}) =>
    encodeStatus({ rx: from, state: 'receiving', next: 0, high: -1, ...fields } as Status);
  const hold = (id: string) =>
    transfers.set(id, { id, finishing: false, manifest: { name: 'a.jpg' } } as unknown as IncomingTransfer);
  return { group, refused, transport, actions, transfers, yielded, finals, status, hold };
}

describe('ShareGroup decisions', () => {
  const A = `${PREFIX}aaaaaaaa`;
  const B = `${PREFIX}bbbbbbbb`;
  const ID = '0123456789abcdef';

  it('a peer that spoke for a transfer within PEER_CLAIM_MS (3 s) claims it; a failure, a stranger or itself does not', () => {
    const m = member(B);
    m.group.onStatus('cam/1', ID, m.status(A), 1000, m.actions);
    expect(m.group.claimedByPeer(ID, 1000 + PEER_CLAIM_MS - 1)).toBe(true);
    expect(m.group.claimedByPeer(ID, 1000 + PEER_CLAIM_MS)).toBe(false); // gone silent: taken over
    const other = '1111111111111111';
    m.group.onStatus(
      'cam/1',
      other,
      m.status(A, { state: 'failed', reason: 'too_many_transfers' }),
      0,
      m.actions,
    );
    m.group.onStatus('cam/1', other, m.status('rx-12345678'), 0, m.actions);
    m.group.onStatus('cam/1', other, m.status(B), 0, m.actions);
    m.group.onStatus('cam/1', other, new TextEncoder().encode('not json'), 0, m.actions);
    expect(m.group.claimedByPeer(other, 1)).toBe(false);
    // A sealed status (encrypted transfer) hides its state: the peer holds the transfer.
    const sealed = new TextEncoder().encode(JSON.stringify({ rx: A, sealed: 'AAAA' }));
    m.group.onStatus('cam/1', other, sealed, 0, m.actions);
    expect(m.group.claimedByPeer(other, 1)).toBe(true);
  });

  it('two members holding one transfer: the greater receiver id gives it up, the smaller keeps it', () => {
    const b = member(B);
    b.hold(ID);
    b.group.onStatus('cam/1', ID, b.status(A), 0, b.actions);
    expect(b.yielded).toEqual([ID]);
    const a = member(A);
    a.hold(ID);
    a.group.onStatus('cam/1', ID, a.status(B), 0, a.actions);
    expect(a.yielded).toEqual([]);
    // ... unless the peer already saved it.
    a.group.onStatus('cam/1', ID, a.status(B, { state: 'complete', proof: '0'.repeat(64) }), 0, a.actions);
    expect(a.yielded).toEqual([ID]);
  });

  it('a member that refused a transfer for now tells the sender it is out once a peer takes it', () => {
    const m = member(B);
    m.group.onStatus('cam/1', ID, m.status(A), 0, m.actions);
    expect(m.finals).toEqual([]); // never refused it: nothing to say
    m.refused.note('cam/1', ID, 0);
    m.group.onStatus('cam/1', ID, m.status(A), 10, m.actions);
    expect(m.finals).toEqual([{ rx: B, state: 'failed', reason: 'taken_by_peer' }]);
    m.group.onStatus('cam/1', ID, m.status(A), 20, m.actions);
    expect(m.finals).toHaveLength(1); // once
  });

  it('asks at once for the blind start its late subscription missed, and unsubscribes when the transfer ends', async () => {
    const m = member(A);
    const t = { id: ID, received: 0, manifest: { chunks: 100 } } as unknown as IncomingTransfer;
    const join: Status = { rx: A, state: 'receiving', next: 0, high: -1 };
    expect(askForBlindStart(join, 100, new Set())).toEqual({ ...join, missing: [[0, 63]] });
    expect(askForBlindStart(join, 3, new Set([1]))).toEqual({
      ...join,
      missing: [
        [0, 0],
        [2, 2],
      ],
    });
    expect(askForBlindStart(join, 2, new Set([0, 1]))).toEqual(join);
    expect(askForBlindStart({ ...join, next: 5, high: 4 }, 100, new Set())).toEqual({
      ...join,
      next: 5,
      high: 4,
    });
    m.group.follow('cam/1', ID);
    const transport = m.transport as LoopbackTransport;
    expect(transport.wants(`cam/1/mqimg/${ID}/c/3`)).toBe(true);
    m.group.tick(0, new Map([[ID, t]]));
    expect(transport.wants(`cam/1/mqimg/${ID}/c/3`)).toBe(true);
    m.group.tick(0, new Map());
    await Promise.resolve();
    expect(transport.wants(`cam/1/mqimg/${ID}/c/3`)).toBe(false);
  });
});

/**
 * Two real receivers of one group over the in-memory broker, which knows nothing of `$share`: a "dealer" hands
 * each manifest to the members the test chooses, as a broker would hand a first copy and a repeat to different
 * members.
 */
describe('two members and a sender in one process', () => {
  async function setUp() {
    const broker = new LoopbackBroker();
    const members = ['aaaaaaaa', 'bbbbbbbb'].map((suffix, i) => {
      const transport = broker.connect(`member${i}`);
      const events: ReceiveEvent[] = [];
      const outDir = tempDir('mqimg-share-');
      const receiver = new Receiver(transport, {
        outDir,
        topicFilter: 'cam/+',
        shareGroup: GROUP,
        checkShare: false, // the in-memory broker has no $share: the test deals the manifests
        receiverId: `${PREFIX}${suffix}`,
        onEvent: (e) => events.push(e),
      } as ConstructorParameters<typeof Receiver>[1]);
      return { transport, events, receiver, outDir };
    });
    for (const m of members) await m.receiver.start();
    const dealer = broker.connect('dealer');
    await dealer.subscribe(['cam/+/mqimg/+/m']);
    return { broker, members, dealer };
  }
  const file = { bytes: randomBytes(300_000), name: 'a.jpg', mediaType: 'image/jpeg', width: 1, height: 1 };
  const completed = (events: ReceiveEvent[]) => events.filter((e) => e.event === 'completed');

  it('a manifest handed to both at once: both start, one gives way, the file is saved once', async () => {
    const { broker, members, dealer } = await setUp();
    dealer.onMessage((topic, payload) => {
      for (const m of members) m.transport.deliver(topic, payload);
    });
    const result = await sendTransfer(broker.connect('tx'), file, { topic: 'cam/1', chunkBytes: 1024 });
    for (const m of members) await m.receiver.idle();
    const [a, b] = members.map((m) => m.events);
    expect(a?.some((e) => e.event === 'started') && b?.some((e) => e.event === 'started')).toBe(true);
    expect(completed(a ?? []).map((e) => e.event === 'completed' && e.path)).toHaveLength(1);
    expect(completed(b ?? [])).toHaveLength(0);
    expect(b?.filter((e) => e.event === 'failed').map((e) => e.event === 'failed' && e.code)).toEqual([
      'taken_by_peer',
    ]);
    const saved = completed(a ?? [])[0];
    expect(saved?.event === 'completed' && sha256(readFileSync(saved.path))).toBe(sha256(file.bytes));
    expect(result.receivers.map((r) => [r.id, r.state]).sort()).toEqual([
      [`${PREFIX}aaaaaaaa`, 'complete'],
      [`${PREFIX}bbbbbbbb`, 'failed'],
    ]);
    for (const m of members) await m.receiver.stop();
  });

  it("a repeat handed to the other member while the first one's status is fresh is ignored", async () => {
    const { broker, members, dealer } = await setUp();
    let copies = 0;
    dealer.onMessage((topic, payload) => {
      const target = members[copies++ % 2];
      target?.transport.deliver(topic, payload);
      // The same manifest again, to the other member, once the first has answered (a sender's repeat).
      if (copies === 1) setTimeout(() => members[1]?.transport.deliver(topic, payload), 100);
    });
    const result = await sendTransfer(broker.connect('tx'), file, { topic: 'cam/1', chunkBytes: 1024 });
    for (const m of members) await m.receiver.idle();
    expect(completed(members[0]?.events ?? [])).toHaveLength(1);
    expect(members[1]?.events ?? []).toEqual([]);
    expect(result.receivers.map((r) => r.state)).toEqual(['complete']);
    for (const m of members) await m.receiver.stop();
  });
});

describe('a member that dies mid-transfer', () => {
  it('is replaced: after 3 s of its silence the repeated manifest goes to a peer, which takes the transfer whole', async () => {
    const broker = new LoopbackBroker();
    const members = ['aaaaaaaa', 'bbbbbbbb'].map((suffix, i) => {
      const transport = broker.connect(`member${i}`);
      const events: ReceiveEvent[] = [];
      const receiver = new Receiver(transport, {
        outDir: tempDir('mqimg-share-'),
        topicFilter: 'cam/+',
        shareGroup: GROUP,
        checkShare: false, // the in-memory broker has no $share: the test deals the manifests
        receiverId: `${PREFIX}${suffix}`,
        onEvent: (e) => events.push(e),
      } as ConstructorParameters<typeof Receiver>[1]);
      return { transport, events, receiver };
    });
    for (const m of members) await m.receiver.start();
    const [a, b] = members;
    if (!a || !b) throw new Error('two members');
    // Member a gets the first manifest; once it holds some chunks it dies (no final word). Repeats go to b.
    const dealer = broker.connect('dealer');
    await dealer.subscribe(['cam/+/mqimg/+/m']);
    let first = true;
    dealer.onMessage((topic, payload) => {
      (first ? a : b).transport.deliver(topic, payload);
      first = false;
    });
    let killed = false;
    const watch = setInterval(() => {
      if (!killed && a.events.some((e) => e.event === 'progress' || e.event === 'started')) {
        killed = true;
        a.transport.close();
      }
    }, 5);
    const bytes = randomBytes(2_000_000);
    const image = { bytes, name: 'big.jpg', mediaType: 'image/jpeg', width: 1, height: 1 };
    try {
      const result = await sendTransfer(broker.connect('tx'), image, {
        topic: 'cam/1',
        chunkBytes: 1024,
        timeoutMs: 30_000,
      });
      await b.receiver.idle();
      expect(killed).toBe(true);
      const saved = b.events.filter((e) => e.event === 'completed');
      expect(saved).toHaveLength(1);
      const path = saved[0]?.event === 'completed' ? saved[0].path : '';
      expect(sha256(readFileSync(path))).toBe(sha256(bytes));
      expect(result.receivers.find((r) => r.id === `${PREFIX}bbbbbbbb`)?.state).toBe('complete');
      expect(a.events.filter((e) => e.event === 'completed')).toEqual([]);
    } finally {
      clearInterval(watch);
      await a.receiver.stop();
      await b.receiver.stop();
    }
  }, 40_000);
});
