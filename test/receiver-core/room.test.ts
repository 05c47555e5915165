import { describe, expect, it } from 'vitest';
import {
  chunkHashes,
  nodeCrypto,
  pageHashes,
  sha256Digest,
  sha256Hex,
} from '../../src/platform/node-crypto.js';
import { cutPages } from '../../src/protocol/manifest/chunk-hashes.js';
import type { Manifest } from '../../src/protocol/manifest/manifest.js';
import { composeManifest } from '../../src/protocol/manifest/manifest-builder.js';
import { type AdmissionLimits, RECLAIM_IDLE_MS } from '../../src/protocol/receive/admission.js';
import { toBase64 } from '../../src/protocol/wire/bytes.js';
import { chunkCount } from '../../src/protocol/wire/chunking.js';
import { CoreTransfer } from '../../src/receiver-core/core-transfer.js';
import { MemoryFile } from '../../src/receiver-core/memory-store.js';
import { clearWayFor, FirstSeen, makeRoom, roomFor, sameContent } from '../../src/receiver-core/room.js';

/** The first 16 bytes of SHA-256: what hash pages carry. */
const shortHash = (bytes: Uint8Array) => sha256Digest(bytes).subarray(0, 16);

/**
 * room.ts: who makes way for a new transfer. The restart rule (same content, new id: the old one is given up for
 * the new to continue it), the supersede rule (strict `createdMs <`, on the same topic, unfinished only; by the
 * manifest's flag, or always when the receiver keeps only the newest image), and making room within the limits.
 */

const NOW_MS = 1_000_000;
const ROOMY: AdmissionLimits = { maxBytes: 1_000_000, maxTransfers: 16 };

let nextId = 1;
/** The first hash page of each manifest made here, by transfer id. */
const firstPages = new Map<string, Uint8Array>();
/** A fresh transfer id (16 hex digits). */
function newId(): string {
  return (nextId++).toString(16).padStart(16, '0');
}

/** A manifest for `size` bytes all equal to `fill`: equal `fill` and `size` mean the same content. */
function manifestOf(
  opts: { fill?: number; size?: number; createdMs?: number; supersede?: boolean; name?: string } = {},
): Manifest {
  const { fill = 1, size = 1000, createdMs = 5000, supersede = false, name = `image-${fill}.png` } = opts;
  const bytes = new Uint8Array(size).fill(fill);
  const chunkBytes = 256;
  const pages = cutPages(chunkHashes(bytes, chunkBytes), chunkCount(size, chunkBytes), chunkBytes);
  const manifest = composeManifest(
    { bytes, name, mediaType: 'image/png', width: 10, height: 10 },
    {
      id: newId(),
      nonce: '404142434445464748494a4b4c4d4e4f',
      sha256: sha256Hex(bytes),
      pages: toBase64(pageHashes(pages)),
      chunkBytes,
      createdMs,
      supersede,
    },
  );
  firstPages.set(manifest.id, pages[0] ?? new Uint8Array(0));
  return manifest;
}

/** A transfer in progress on `topic`, admitted at `startedMs`. */
function transferOf(manifest: Manifest, topic: string, startedMs = NOW_MS - 100): CoreTransfer {
  const file = new MemoryFile(manifest, nodeCrypto, () => {});
  return new CoreTransfer(manifest, topic, file, undefined, startedMs);
}

/** Makes `t` have received something (its first hash page) last at `atMs`. */
function progressed(t: CoreTransfer, atMs: number): CoreTransfer {
  const page = firstPages.get(t.id) ?? new Uint8Array(0);
  const stored = t.intake.storePage(0, page, shortHash(page));
  if (stored.kind !== 'stored') throw new Error(`test setup: ${stored.message}`);
  t.lastActivityMs = atMs;
  return t;
}

/** A receiver's transfers, and what was given up (removed from the map, as the receiver core's abandon does). */
function receiverWith(...transfers: CoreTransfer[]) {
  const map = new Map(transfers.map((t) => [t.id, t]));
  const givenUp: Array<{ id: string; code: string; message: string }> = [];
  const giveUp = (t: CoreTransfer, code: string, message: string) => {
    givenUp.push({ id: t.id, code, message });
    map.delete(t.id);
  };
  return { map, givenUp, giveUp };
}

function room(
  topic: string,
  keepsOnlyNewest: boolean,
  limits = ROOMY,
  firstSeen = new FirstSeen(),
): { limits: AdmissionLimits; nowMs: number; firstSeen: FirstSeen; topic: string; keepsOnlyNewest: boolean } {
  return { limits, nowMs: NOW_MS, firstSeen, topic, keepsOnlyNewest };
}

describe('FirstSeen', () => {
  it('remembers when an id was first admitted, and keeps that time when it is admitted again', () => {
    const seen = new FirstSeen();
    expect(seen.has('a')).toBe(false);
    expect(seen.admit('a', 100)).toBe(100);
    expect(seen.has('a')).toBe(true);
    expect(seen.admit('a', 5000)).toBe(100);
  });

  it('forgets the oldest id beyond its capacity', () => {
    const seen = new FirstSeen(2);
    seen.admit('a', 1);
    seen.admit('b', 2);
    seen.admit('c', 3);
    expect([seen.has('a'), seen.has('b'), seen.has('c')]).toEqual([false, true, true]);
    // Forgotten: admitted again, it is new again.
    expect(seen.admit('a', 4)).toBe(4);
    expect(seen.has('b')).toBe(false);
  });
});

describe('sameContent', () => {
  it('finds the unfinished transfers of the same content on the same topic under another id', () => {
    const incoming = manifestOf({ fill: 7 });
    const restarted = transferOf(manifestOf({ fill: 7 }), 'cam/1');
    const otherTopic = transferOf(manifestOf({ fill: 7 }), 'cam/2');
    const otherBytes = transferOf(manifestOf({ fill: 8 }), 'cam/1');
    const otherSize = transferOf(manifestOf({ fill: 7, size: 999 }), 'cam/1');
    const finishing = transferOf(manifestOf({ fill: 7 }), 'cam/1');
    finishing.finishing = true;
    const itself = transferOf(incoming, 'cam/1');
    const { map } = receiverWith(restarted, otherTopic, otherBytes, otherSize, finishing, itself);
    expect(sameContent(map, 'cam/1', incoming).map((t) => t.id)).toEqual([restarted.id]);
  });
});

describe('clearWayFor: a sender that restarted', () => {
  it.each([false, true])(
    'gives up the same content under an old id (timeout) for the new one (keepsOnlyNewest %s)',
    (keepsOnlyNewest) => {
      const old = transferOf(manifestOf({ fill: 3, name: 'door.png', createdMs: 4000 }), 'cam/1');
      const incoming = manifestOf({ fill: 3, name: 'door.png', createdMs: 4000 });
      const { map, givenUp, giveUp } = receiverWith(old);
      expect(clearWayFor(map, incoming, room('cam/1', keepsOnlyNewest), giveUp)).toBeUndefined();
      expect(givenUp).toEqual([
        {
          id: old.id,
          code: 'timeout',
          message: `door.png: sent again as transfer ${incoming.id}, which continues it`,
        },
      ]);
    },
  );
});

describe('clearWayFor: the supersede rule', () => {
  /** On cam/1: older (4000), same age (5000), newer (6000), older but finishing; on cam/2: older. */
  function scene() {
    const older = transferOf(manifestOf({ fill: 1, createdMs: 4000, name: 'old.png' }), 'cam/1');
    const sameAge = transferOf(manifestOf({ fill: 2, createdMs: 5000 }), 'cam/1');
    const newer = transferOf(manifestOf({ fill: 3, createdMs: 6000 }), 'cam/1');
    const finishing = transferOf(manifestOf({ fill: 4, createdMs: 1000 }), 'cam/1');
    finishing.finishing = true;
    const elsewhere = transferOf(manifestOf({ fill: 5, createdMs: 1000 }), 'cam/2');
    return { older, sameAge, newer, finishing, elsewhere };
  }

  it('an archive (keepsOnlyNewest false) keeps every image unless the manifest says supersede', () => {
    const s = scene();
    const { map, givenUp, giveUp } = receiverWith(...Object.values(s));
    const incoming = manifestOf({ fill: 9, createdMs: 5000 });
    expect(clearWayFor(map, incoming, room('cam/1', false), giveUp)).toBeUndefined();
    expect(givenUp).toEqual([]);
    expect(map.size).toBe(5);
  });

  it.each([
    ['an archive, the manifest saying supersede', false, true],
    ['a page (keepsOnlyNewest), the manifest saying supersede', true, true],
    ['a page (keepsOnlyNewest), without supersede', true, false],
  ])(
    '%s: drops only unfinished transfers on the topic created strictly before',
    (_, keepsOnlyNewest, supersede) => {
      const s = scene();
      const { map, givenUp, giveUp } = receiverWith(...Object.values(s));
      const incoming = manifestOf({ fill: 9, createdMs: 5000, supersede });
      expect(clearWayFor(map, incoming, room('cam/1', keepsOnlyNewest), giveUp)).toBeUndefined();
      expect(givenUp).toEqual([
        {
          id: s.older.id,
          code: 'superseded',
          message: 'old.png: a newer image arrived on cam/1 before it finished; dropped',
        },
      ]);
      expect([...map.keys()].sort()).toEqual(
        [s.sameAge.id, s.newer.id, s.finishing.id, s.elsewhere.id].sort(),
      );
    },
  );

  it('a page drops the older image first, so the newest fits where only one transfer may be', () => {
    const busy = progressed(transferOf(manifestOf({ fill: 1, createdMs: 4000 }), 'cam/1'), NOW_MS - 10);
    const { map, givenUp, giveUp } = receiverWith(busy);
    const incoming = manifestOf({ fill: 9, createdMs: 5000 });
    const oneOnly = { maxBytes: 1_000_000, maxTransfers: 1 };
    expect(clearWayFor(map, incoming, room('cam/1', true, oneOnly), giveUp)).toBeUndefined();
    expect(givenUp.map((g) => [g.id, g.code])).toEqual([[busy.id, 'superseded']]);
  });

  it('an archive checks room first: a superseding image that does not fit is refused and drops nothing', () => {
    const busy = progressed(transferOf(manifestOf({ fill: 1, createdMs: 4000 }), 'cam/1'), NOW_MS - 10);
    const { map, givenUp, giveUp } = receiverWith(busy);
    const incoming = manifestOf({ fill: 9, createdMs: 5000, supersede: true });
    const oneOnly = { maxBytes: 1_000_000, maxTransfers: 1 };
    expect(clearWayFor(map, incoming, room('cam/1', false, oneOnly), giveUp)).toEqual({
      code: 'too_many_transfers',
      message: 'already receiving 1 transfers (--max-transfers 1)',
    });
    expect(givenUp).toEqual([]);
    expect(map.has(busy.id)).toBe(true);
  });

  // Found by this test (it failed before the fix): with keepsOnlyNewest the older image was dropped before the
  // newcomer was checked, so a newcomer that can never fit (larger than maxBytes on its own) dropped the image in
  // progress and was then refused: the page ended with neither.
  it('a page keeps the image in progress when the newcomer is too large to be taken at all', () => {
    const busy = progressed(transferOf(manifestOf({ fill: 1, createdMs: 4000 }), 'cam/1'), NOW_MS - 10);
    const { map, givenUp, giveUp } = receiverWith(busy);
    const incoming = manifestOf({ fill: 9, size: 5000, createdMs: 5000 });
    const small = { maxBytes: 4000, maxTransfers: 16 };
    expect(clearWayFor(map, incoming, room('cam/1', true, small), giveUp)).toMatchObject({
      code: 'too_large',
    });
    expect(givenUp).toEqual([]);
  });
});

describe('roomFor and makeRoom', () => {
  it('gives up a trickle (valid chunks, far below 100 kB/s) for a newcomer, and keeps a fast transfer', () => {
    // The trickle ran 10 s and stored 3 chunks of 256 bytes, the last one just now: never idle, but slow.
    const trickle = progressed(transferOf(manifestOf({ fill: 1 }), 'cam/1', NOW_MS - 10_000), NOW_MS - 100);
    for (const i of [0, 1, 2]) trickle.intake.commit(i, NOW_MS - 100, 64);
    // The fast one ran 6 s and stored 768 kB (128 kB/s).
    const fast = progressed(
      transferOf(manifestOf({ fill: 2, size: 1_000_000 }), 'cam/2', NOW_MS - 6_000),
      NOW_MS - 100,
    );
    for (let i = 0; i < 3000; i++) fast.intake.commit(i, NOW_MS - 100, 64);
    const { map, givenUp, giveUp } = receiverWith(trickle, fast);
    const limits = { maxBytes: 10_000_000, maxTransfers: 2 };
    makeRoom(map, { name: 'new.png', size: 1000 }, 'cam/3', limits, NOW_MS, (t, why) =>
      giveUp(t, 'timeout', why),
    );
    expect(givenUp.map((g) => g.id)).toEqual([trickle.id]);
  });

  it('gives up nothing slow before it ran for 5 s', () => {
    const young = progressed(transferOf(manifestOf({ fill: 3 }), 'cam/1', NOW_MS - 4_000), NOW_MS - 100);
    const { map, givenUp, giveUp } = receiverWith(young);
    const limits = { maxBytes: 10_000_000, maxTransfers: 1 };
    makeRoom(map, { name: 'new.png', size: 1000 }, 'cam/3', limits, NOW_MS, (t, why) =>
      giveUp(t, 'timeout', why),
    );
    expect(givenUp).toEqual([]);
  });

  it('admits within the limits and refuses beyond them with the admission codes', () => {
    const a = transferOf(manifestOf({ fill: 1, size: 3000 }), 'cam/1');
    const { map, givenUp, giveUp } = receiverWith(a);
    const limits = { maxBytes: 5000, maxTransfers: 2 };
    const r = { limits, nowMs: NOW_MS, firstSeen: new FirstSeen(), topic: 'cam/2' };
    const drop = (t: CoreTransfer, why: string) => giveUp(t, 'timeout', why);
    expect(roomFor(map, manifestOf({ fill: 2, size: 2000 }), r, drop)).toBeUndefined();
    expect(roomFor(map, manifestOf({ fill: 2, size: 2001, name: 'big.png' }), r, drop)).toEqual({
      code: 'too_many_bytes',
      message:
        'big.png (2001 bytes) would bring transfers in progress to 5001 bytes, more than --max-bytes 5000; try again later',
    });
    expect(roomFor(map, manifestOf({ fill: 2, size: 5001 }), r, drop)).toMatchObject({ code: 'too_large' });
    expect(givenUp).toEqual([]); // `a` started 100 ms ago: not idle, never given up
  });

  it('gives up a transfer idle for RECLAIM_IDLE_MS (2 s) to make room, with what it held', () => {
    expect(RECLAIM_IDLE_MS).toBe(2000);
    const idle = progressed(
      transferOf(manifestOf({ fill: 1, name: 'idle.png' }), 'cam/1', NOW_MS - 60_000),
      NOW_MS - 2000,
    );
    const busy = progressed(transferOf(manifestOf({ fill: 1 }), 'cam/2', NOW_MS - 60_000), NOW_MS - 1999);
    const { map, givenUp, giveUp } = receiverWith(idle, busy);
    const limits = { maxBytes: 1_000_000, maxTransfers: 2 };
    const r = { limits, nowMs: NOW_MS, firstSeen: new FirstSeen(), topic: 'cam/3' };
    const incoming = manifestOf({ fill: 3, name: 'new.png' });
    expect(roomFor(map, incoming, r, (t, why) => giveUp(t, 'timeout', why))).toBeUndefined();
    expect(givenUp).toEqual([
      {
        id: idle.id,
        code: 'timeout',
        message:
          'idle.png: nothing received for 2 s with 0 of 4 chunks held; given up to make room for new.png',
      },
    ]);
  });

  it('does not make room again for an id admitted before (a republished manifest): it is refused', () => {
    const idle = transferOf(manifestOf({ fill: 1 }), 'cam/1', NOW_MS - 60_000);
    const { map, givenUp, giveUp } = receiverWith(idle);
    const firstSeen = new FirstSeen();
    const incoming = manifestOf({ fill: 3 });
    firstSeen.admit(incoming.id, NOW_MS - 10_000);
    const limits = { maxBytes: 1_000_000, maxTransfers: 1 };
    const r = { limits, nowMs: NOW_MS, firstSeen, topic: 'cam/2' };
    expect(roomFor(map, incoming, r, (t, why) => giveUp(t, 'timeout', why))).toMatchObject({
      code: 'too_many_transfers',
    });
    expect(givenUp).toEqual([]);
  });

  it('gives up nothing when even giving up every idle transfer would not make room', () => {
    const idle = transferOf(manifestOf({ fill: 1, size: 1000 }), 'cam/1', NOW_MS - 60_000);
    const busy = progressed(transferOf(manifestOf({ fill: 1, size: 1000 }), 'cam/2'), NOW_MS - 10);
    const { map, givenUp, giveUp } = receiverWith(idle, busy);
    makeRoom(
      map,
      { name: 'huge.png', size: 1500 },
      'cam/3',
      { maxBytes: 2000, maxTransfers: 16 },
      NOW_MS,
      (t, why) => giveUp(t, 'timeout', why),
    );
    expect(givenUp).toEqual([]);
  });

  it('makes a topic flooding manifests that bring nothing give way to another topic, oldest first', () => {
    // Two transfers on cam/flood that never received anything, admitted 500 and 400 ms ago (not idle by time).
    const first = transferOf(manifestOf({ fill: 1 }), 'cam/flood', NOW_MS - 500);
    const second = transferOf(manifestOf({ fill: 2 }), 'cam/flood', NOW_MS - 400);
    const { map, givenUp, giveUp } = receiverWith(first, second);
    const limits = { maxBytes: 1_000_000, maxTransfers: 2 };
    makeRoom(map, { name: 'door.png', size: 1000 }, 'cam/door', limits, NOW_MS, (t, why) =>
      giveUp(t, 'timeout', why),
    );
    expect(givenUp.map((g) => g.id)).toEqual([first.id]);
  });

  it('does not count a topic as crowding with a single silent transfer, or when the newcomer’s topic is busy', () => {
    const limits = { maxBytes: 1_000_000, maxTransfers: 2 };
    const drop =
      (giveUp: (t: CoreTransfer, code: string, m: string) => void) => (t: CoreTransfer, why: string) =>
        giveUp(t, 'timeout', why);
    // One silent transfer per topic: no topic crowds.
    const one = receiverWith(
      transferOf(manifestOf({ fill: 1 }), 'cam/a', NOW_MS - 500),
      transferOf(manifestOf({ fill: 2 }), 'cam/b', NOW_MS - 500),
    );
    makeRoom(one.map, { name: 'x.png', size: 1000 }, 'cam/c', limits, NOW_MS, drop(one.giveUp));
    expect(one.givenUp).toEqual([]);
    // Two silent on cam/a, but the newcomer's own topic already has a transfer: no crowding either.
    const busyTopic = receiverWith(
      transferOf(manifestOf({ fill: 1 }), 'cam/a', NOW_MS - 500),
      transferOf(manifestOf({ fill: 2 }), 'cam/a', NOW_MS - 500),
      transferOf(manifestOf({ fill: 3 }), 'cam/c', NOW_MS - 500),
    );
    makeRoom(busyTopic.map, { name: 'x.png', size: 1000 }, 'cam/c', limits, NOW_MS, drop(busyTopic.giveUp));
    expect(busyTopic.givenUp).toEqual([]);
  });

  it('never gives up a transfer that is finishing', () => {
    const finishing = transferOf(manifestOf({ fill: 1 }), 'cam/1', NOW_MS - 60_000);
    finishing.finishing = true;
    const { map, givenUp, giveUp } = receiverWith(finishing);
    makeRoom(
      map,
      { name: 'x.png', size: 1000 },
      'cam/2',
      { maxBytes: 1_000_000, maxTransfers: 1 },
      NOW_MS,
      (t, why) => giveUp(t, 'timeout', why),
    );
    expect(givenUp).toEqual([]);
  });
});
