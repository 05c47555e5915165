import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reassembly } from '../../../src/protocol/receive/reassembly.js';
import { RepairRequests } from '../../../src/protocol/receive/repair-requests.js';
import {
  FAIL_GRACE_MS,
  MAX_RECEIVERS,
  RESEND_ALLOWANCE,
  RESEND_BUDGET_PER_RECEIVER,
  RESEND_BUDGET_TOTAL,
  SendPlanner,
} from '../../../src/protocol/send/send-planner.js';
import { AckPolicy, receiverWindow, STATUS_FLUSH_MS } from '../../../src/protocol/status/ack-policy.js';
import type { Status } from '../../../src/protocol/status/status.js';
import { chunkLength } from '../../../src/protocol/wire/chunking.js';
import { MAX_STATUS_RANGES } from '../../../src/protocol/wire/constants.js';

interface Scenario {
  chunks: number;
  /** Probability that the path drops a chunk on its way to the receiver. */
  loss: number;
  /** Messages the broker queues for the receiver; more are dropped silently, like Mosquitto. */
  queueLimit: number;
  /** Chunks the receiver processes per millisecond. */
  receiverSpeed: number;
  /** One-way latency in milliseconds. */
  latencyMs: number;
  seed: number;
}

/**
 * A deterministic simulation of one sender, a broker with a bounded queue and a lossy path, and one receiver, all
 * driven by the pure planner, reassembly and acknowledgement code with a fake millisecond clock. The receiver
 * reports exactly as the real one does: `AckPolicy` on every stored chunk and on its STATUS_FLUSH_MS timer, with
 * the window `receiverWindow` gives it.
 */
function simulate(s: Scenario, maxMs = 120_000) {
  let rand = s.seed >>> 0 || 1;
  const random = () => {
    rand ^= rand << 13;
    rand ^= rand >>> 17;
    rand ^= rand << 5;
    return (rand >>> 0) / 2 ** 32;
  };
  const chunkBytes = 1024;
  const planner = new SendPlanner({ chunks: s.chunks }, 0);
  const size = s.chunks * chunkBytes;
  const reassembly = new Reassembly(s.chunks, size, chunkBytes);
  const repairs = new RepairRequests();
  const ack = new AckPolicy((now) => repairs.repeatDue(now));
  const win = receiverWindow(1, chunkBytes);
  const toReceiver: Array<{ at: number; index: number }> = [];
  const toSender: Array<{ at: number; status: Status }> = [];
  let brokerDrops = 0;
  let pathDrops = 0;
  const report = (now: number) => {
    const missing = repairs.due(reassembly.missing(MAX_STATUS_RANGES), now);
    ack.sent(now);
    const status: Status = {
      rx: 'sim',
      state: 'receiving',
      next: reassembly.next,
      high: reassembly.high,
      win,
    };
    if (missing.length) status.missing = missing;
    toSender.push({ at: now + s.latencyMs, status });
  };
  report(0);
  for (let now = 0; now < maxMs; now++) {
    while (toSender.length && (toSender[0]?.at ?? Infinity) <= now) {
      const next = toSender.shift();
      if (next) planner.onStatus(next.status, now);
    }
    planner.tick(now);
    if (planner.phase(now) === 'delivered') {
      return {
        delivered: true,
        ms: now,
        retransmitted: planner.retransmitted,
        brokerDrops,
        pathDrops,
        complete: reassembly.complete,
      };
    }
    for (let k = 0; k < 64; k++) {
      const t = planner.take(now);
      if (!t) break;
      planner.markSent(t.index, now);
      if (random() < s.loss) {
        pathDrops++;
        continue;
      }
      if (toReceiver.length >= s.queueLimit) {
        brokerDrops++;
        continue;
      }
      toReceiver.push({ at: now + s.latencyMs, index: t.index });
    }
    for (let k = 0; k < s.receiverSpeed && toReceiver.length && (toReceiver[0]?.at ?? Infinity) <= now; k++) {
      const c = toReceiver.shift();
      if (!c) break;
      const result = reassembly.accept(c.index, chunkLength(c.index, size, chunkBytes));
      if (result.kind !== 'new') continue;
      const repaired = repairs.arrived(c.index, now);
      const gap = c.index > reassembly.next && !reassembly.has(c.index - 1);
      if (reassembly.complete) {
        toSender.push({ at: now + s.latencyMs, status: { rx: 'sim', state: 'complete' } });
      } else if (ack.stored({ gap, repaired }, win)) {
        report(now);
      }
    }
    if (!reassembly.complete && now % STATUS_FLUSH_MS === 0 && ack.due(now)) report(now);
  }
  return {
    delivered: false,
    ms: maxMs,
    retransmitted: planner.retransmitted,
    brokerDrops,
    pathDrops,
    complete: reassembly.complete,
  };
}

describe('SendPlanner', () => {
  it('sends nothing until a receiver has answered', () => {
    const planner = new SendPlanner({ chunks: 10 }, 0);
    expect(planner.take(0)).toBeUndefined();
    expect(planner.phase(0)).toBe('waiting-for-receivers');
    planner.onStatus({ rx: 'a', state: 'receiving', next: 0, high: -1 }, 1);
    expect(planner.take(1)).toEqual({ index: 0, resend: false });
  });

  it('with a blind start, sends that many chunks before anyone answered, then only within the window', () => {
    const planner = new SendPlanner({ chunks: 100, blindChunks: 5, maxWindow: 8 }, 0);
    const drain = (now: number) => {
      const sent: number[] = [];
      for (let t = planner.take(now); t; t = planner.take(now)) {
        planner.markSent(t.index, now);
        sent.push(t.index);
      }
      return sent;
    };
    expect(drain(0)).toEqual([0, 1, 2, 3, 4]);
    // A receiver that says it is already complete ends the blind start without opening a window.
    planner.onStatus({ rx: 'done', state: 'complete' }, 1);
    expect(drain(1)).toEqual([]);
    planner.onStatus({ rx: 'a', state: 'receiving', next: 2, high: 4 }, 2);
    expect(drain(2)).toEqual([5, 6, 7, 8, 9]); // up to next + window = 10
    expect(new SendPlanner({ chunks: 100, blindChunks: 50, maxWindow: 8 }, 0).take(0)).toBeDefined();
    const capped = new SendPlanner({ chunks: 100, blindChunks: 50, maxWindow: 8 }, 0);
    let n = 0;
    for (let t = capped.take(0); t; t = capped.take(0)) {
      capped.markSent(t.index, 0);
      n++;
    }
    expect(n).toBe(8); // never more than the window
  });

  it('keeps at most the window outstanding beyond the slowest receiver', () => {
    const planner = new SendPlanner({ chunks: 1000, initialWindow: 8 }, 0);
    planner.onStatus({ rx: 'fast', state: 'receiving', next: 0, high: -1 }, 0);
    planner.onStatus({ rx: 'slow', state: 'receiving', next: 0, high: -1 }, 0);
    const sent: number[] = [];
    for (let t = planner.take(0); t; t = planner.take(0)) {
      planner.markSent(t.index, 0);
      sent.push(t.index);
    }
    expect(sent).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    planner.onStatus({ rx: 'fast', state: 'receiving', next: 8, high: 7 }, 5);
    expect(planner.take(5)).toBeUndefined(); // the slow one still holds the window
    planner.onStatus({ rx: 'slow', state: 'receiving', next: 4, high: 3 }, 6);
    expect(planner.take(6)?.index).toBe(8);
  });

  it('stops waiting for a receiver that went silent, and lets the others finish', () => {
    const planner = new SendPlanner({ chunks: 4, stallMs: 1000 }, 0);
    planner.onStatus({ rx: 'gone', state: 'receiving', next: 0, high: -1 }, 0);
    planner.onStatus({ rx: 'ok', state: 'receiving', next: 0, high: -1 }, 0);
    planner.onStatus({ rx: 'ok', state: 'complete' }, 500);
    expect(planner.phase(500)).toBe('sending');
    expect(planner.phase(1000)).toBe('delivered');
    expect(planner.receiverViews(1000).find((r) => r.id === 'gone')?.state).toBe('stalled');
  });

  it('resends exactly what a receiver reports missing, once per request', () => {
    const planner = new SendPlanner({ chunks: 10, initialWindow: 10 }, 0);
    planner.onStatus({ rx: 'a', state: 'receiving', next: 0, high: -1 }, 0);
    for (let t = planner.take(0); t; t = planner.take(0)) planner.markSent(t.index, 0);
    planner.onStatus(
      {
        rx: 'a',
        state: 'receiving',
        next: 2,
        high: 9,
        missing: [
          [2, 3],
          [7, 7],
        ],
      },
      50,
    );
    const resent: number[] = [];
    for (let t = planner.take(50); t; t = planner.take(50)) {
      expect(t.resend).toBe(true);
      planner.markSent(t.index, 50);
      resent.push(t.index);
    }
    expect(resent).toEqual([2, 3, 7]);
    expect(planner.retransmitted).toBe(3);
  });

  it('skips what every receiver already holds (a resumed receiver, a restarted sender)', () => {
    const planner = new SendPlanner({ chunks: 100, initialWindow: 4 }, 0);
    planner.onStatus({ rx: 'resumed', state: 'receiving', next: 60, high: 59 }, 0);
    const first = planner.take(0);
    expect(first).toEqual({ index: 60, resend: false });
    if (first) planner.markSent(first.index, 0);
    // A receiver that joins later needs the skipped chunks: they count as resends, on request.
    planner.onStatus({ rx: 'late', state: 'receiving', next: 0, high: 60, missing: [[0, 2]] }, 10);
    const resent: number[] = [];
    for (let t = planner.take(10); t?.resend; t = planner.take(10)) {
      planner.markSent(t.index, 10);
      resent.push(t.index);
    }
    expect(resent).toEqual([0, 1, 2]);
  });

  it('bounds what forged repair requests cost: per receiver, in total, and in receivers tracked', () => {
    const planner = new SendPlanner({ chunks: 100, maxWindow: 100 }, 0);
    planner.onStatus({ rx: 'a', state: 'receiving', next: 0, high: -1, win: 100 }, 0);
    for (let t = planner.take(0); t; t = planner.take(0)) planner.markSent(t.index, 0);
    let resent = 0;
    const drain = (now: number) => {
      for (let t = planner.take(now); t; t = planner.take(now)) {
        planner.markSent(t.index, now);
        resent++;
      }
    };
    // One receiver asking for everything again and again.
    for (let k = 1; k <= 50; k++) {
      planner.onStatus(
        { rx: 'a', state: 'receiving', next: 0, high: 99, missing: [[0, 98]], win: 100 },
        k * 1000,
      );
      drain(k * 1000);
    }
    expect(resent).toBeLessThanOrEqual(RESEND_BUDGET_PER_RECEIVER * 100 + RESEND_ALLOWANCE);
    // New receiver ids every time, each asking for everything.
    for (let k = 0; k < 500; k++) {
      planner.onStatus(
        { rx: `fake-${k}`, state: 'receiving', next: 0, high: 99, missing: [[0, 98]], win: 100 },
        100_000 + k * 1000,
      );
      drain(100_000 + k * 1000);
    }
    expect(resent).toBeLessThanOrEqual(RESEND_BUDGET_TOTAL * 100 + 2 * RESEND_ALLOWANCE);
    expect(planner.receiverViews(1e6).length).toBeLessThanOrEqual(MAX_RECEIVERS);
  });

  it('keeps offering the transfer to a receiver that is full for now, instead of counting it as failed', () => {
    const planner = new SendPlanner({ chunks: 3 }, 0);
    planner.onStatus({ rx: 'a', state: 'failed', reason: 'too_many_transfers' }, 0);
    expect(planner.phase(0)).not.toBe('failed');
    expect(planner.joined).toBe(0);
  });

  it('reports failure when every receiver failed, once FAIL_GRACE_MS passed with nobody else answering', () => {
    const planner = new SendPlanner({ chunks: 3 }, 0);
    planner.onStatus({ rx: 'a', state: 'failed', reason: 'too_large' }, 0);
    expect(planner.phase(FAIL_GRACE_MS - 1)).not.toBe('failed');
    expect(planner.phase(FAIL_GRACE_MS)).toBe('failed');
    expect(planner.receiverViews(0)[0]?.reason).toBe('too_large');
  });

  it('lets one forged final failure take out only its own receiver id, not a send a real receiver joins', () => {
    const planner = new SendPlanner({ chunks: 3 }, 0);
    planner.onStatus({ rx: 'forged', state: 'failed', reason: 'checksum_mismatch' }, 100);
    planner.onStatus({ rx: 'real', state: 'receiving', next: 0, high: -1 }, 1_000);
    for (const t of [2_000, 3_100, 3_500]) expect(planner.phase(t)).toBe('sending');
    planner.onStatus({ rx: 'real', state: 'complete', proof: 'p'.repeat(64) }, 3_600);
    expect(planner.phase(3_600)).toBe('delivered');
  });

  it('takes a receiver back from a refusal that is not final (a tampered copy refused as bad_signature)', () => {
    const planner = new SendPlanner({ chunks: 3 }, 0);
    planner.onStatus({ rx: 'late', state: 'failed', reason: 'bad_signature' }, 0);
    planner.onStatus({ rx: 'late', state: 'receiving', next: 1, high: 0 }, 500);
    expect(planner.receiverViews(500)[0]?.state).toBe('receiving');
    expect(planner.phase(5_000)).not.toBe('failed');
    // A final reason stays final.
    planner.onStatus({ rx: 'x', state: 'failed', reason: 'not_an_image' }, 600);
    planner.onStatus({ rx: 'x', state: 'receiving', next: 3, high: 2 }, 700);
    expect(planner.receiverViews(700).find((r) => r.id === 'x')?.state).toBe('failed');
  });

  it('keeps a receiver that claims chunks when made-up ids fill the table', () => {
    const planner = new SendPlanner({ chunks: 100 }, 0);
    planner.onStatus({ rx: 'real', state: 'receiving', next: 5, high: 6 }, 0);
    for (let i = 0; i < 3 * MAX_RECEIVERS; i++)
      planner.onStatus({ rx: `fake-${i}`, state: 'want-manifest' }, i);
    const ids = planner.receiverViews(1_000).map((r) => r.id);
    expect(ids).toContain('real');
    expect(ids).toHaveLength(MAX_RECEIVERS);
    // The newest made-up ids are the ones kept: each pushed out the one heard from least recently.
    expect(ids).toContain(`fake-${3 * MAX_RECEIVERS - 1}`);
    expect(ids).not.toContain('fake-0');
  });

  it('stops letting a receiver that never advances hold back one that does', () => {
    const planner = new SendPlanner({ chunks: 1000, maxWindow: 256 }, 0);
    planner.onStatus({ rx: 'tiny', state: 'receiving', next: 0, high: -1, win: 1 }, 0);
    planner.onStatus({ rx: 'fast', state: 'receiving', next: 0, high: -1, win: 256 }, 0);
    for (let t = 500; t <= 4_000; t += 500) {
      planner.onStatus({ rx: 'tiny', state: 'receiving', next: 0, high: -1, win: 1 }, t);
      planner.onStatus({ rx: 'fast', state: 'receiving', next: t / 10, high: t / 10 - 1, win: 256 }, t);
    }
    // Within the first seconds the tiny window holds the sender at chunk 1; after stallMs without an advance it
    // no longer sets the pace, and the fast receiver's window applies.
    const sent: number[] = [];
    for (let t = planner.take(4_000); t && sent.length < 500; t = planner.take(4_000)) {
      sent.push(t.index);
      planner.markSent(t.index, 4_000);
    }
    expect(sent.length).toBeGreaterThan(100);
  });

  it('delivers every chunk over lossy paths and bounded broker queues (simulation)', () => {
    fc.assert(
      fc.property(
        fc.record({
          chunks: fc.integer({ min: 1, max: 400 }),
          loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
          // Brokers queue tens to thousands of messages per subscriber (Mosquitto: 1000). Below a few dozen,
          // resends (not yet paced by the window) overflow the queue again and again, and the resend budget
          // ends the transfer as stalled instead: see the test below.
          queueLimit: fc.integer({ min: 32, max: 1000 }),
          receiverSpeed: fc.integer({ min: 1, max: 8 }),
          latencyMs: fc.integer({ min: 0, max: 30 }),
          seed: fc.integer(),
        }),
        (scenario) => {
          const result = simulate(scenario);
          expect(result.delivered, JSON.stringify({ scenario, result })).toBe(true);
          expect(result.complete).toBe(true);
          // Within the resend budget of one receiver, however lossy the path.
          expect(result.retransmitted).toBeLessThanOrEqual(
            RESEND_BUDGET_PER_RECEIVER * scenario.chunks + RESEND_ALLOWANCE,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('on a broker that queues only 2 messages, stops within the resend budget instead of flooding', () => {
    const result = simulate({ chunks: 40, loss: 0, queueLimit: 2, receiverSpeed: 1, latencyMs: 0, seed: 0 });
    expect(result.retransmitted).toBeLessThanOrEqual(RESEND_BUDGET_PER_RECEIVER * 40 + RESEND_ALLOWANCE);
  });

  it('with no loss and a Mosquitto-sized queue, a slow receiver causes no drop and no resend', () => {
    const result = simulate({
      chunks: 3000,
      loss: 0,
      queueLimit: 1020,
      receiverSpeed: 1,
      latencyMs: 2,
      seed: 7,
    });
    expect(result).toMatchObject({ delivered: true, brokerDrops: 0, retransmitted: 0 });
  });

  it('takes random loss on the last hop as loss, not congestion: the window stays open (simulation)', () => {
    // The target: 5% of chunks lost costs at most 2x the lossless time and 1.5 resends per chunk lost.
    for (const seed of [1, 2, 3]) {
      const base = { chunks: 2000, queueLimit: 1000, receiverSpeed: 4, latencyMs: 2, seed };
      const lossless = simulate({ ...base, loss: 0 });
      const lossy = simulate({ ...base, loss: 0.05 });
      expect(lossy.delivered).toBe(true);
      expect(lossy.ms, JSON.stringify({ lossless, lossy })).toBeLessThanOrEqual(2 * lossless.ms);
      expect(lossy.retransmitted, JSON.stringify(lossy)).toBeLessThanOrEqual(1.5 * lossy.pathDrops);
    }
  });

  it('probes a receiver whose queue stopped moving with one chunk, and halves the window', () => {
    const planner = new SendPlanner({ chunks: 100, maxWindow: 64 }, 0);
    planner.onStatus({ rx: 'a', state: 'receiving', next: 0, high: -1 }, 0);
    for (let t = planner.take(0); t; t = planner.take(0)) planner.markSent(t.index, 0);
    expect(planner.window).toBe(64);
    // It holds 0..9 and nothing after: the chunks after may all be lost at the tail, or still queued.
    planner.onStatus({ rx: 'a', state: 'receiving', next: 10, high: 9 }, 10);
    // The congestion window counts from the highest chunk held: 10 more may go out (64..73).
    for (let t = planner.take(10); t; t = planner.take(10)) planner.markSent(t.index, 10);
    // One round trip measured (10 ms): the timeout is its floor, 100 ms.
    planner.tick(90);
    expect(planner.take(90)).toBeUndefined();
    planner.tick(111);
    expect(planner.take(111)).toEqual({ index: 73, resend: true }); // the last chunk published, alone
    expect(planner.take(111)).toBeUndefined(); // halved: 10 + 32 is below what is out already
    expect(planner.window).toBe(32);
  });

  it('does not probe a receiver that holds everything published (the window, not loss, holds it back)', () => {
    const planner = new SendPlanner({ chunks: 100, maxWindow: 8 }, 0);
    planner.onStatus({ rx: 'a', state: 'receiving', next: 0, high: -1, win: 8 }, 0);
    for (let t = planner.take(0); t; t = planner.take(0)) planner.markSent(t.index, 0);
    planner.onStatus({ rx: 'a', state: 'receiving', next: 8, high: 7, win: 0 + 1 }, 10);
    for (let t = planner.take(10); t; t = planner.take(10)) planner.markSent(t.index, 10);
    planner.onStatus({ rx: 'a', state: 'receiving', next: 9, high: 8, win: 1 }, 20);
    planner.tick(5000);
    expect(planner.retransmitted).toBe(0);
  });
});
