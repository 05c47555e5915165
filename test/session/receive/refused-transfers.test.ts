import { describe, expect, it } from 'vitest';
import { ASK_PENDING_MS, RefusedTransfers } from '../../../src/session/receive/refused-transfers.js';

describe('RefusedTransfers', () => {
  it('asks the oldest refusals first, as many as there is room for beyond the asks pending', () => {
    const r = new RefusedTransfers();
    r.note('cam/1', 'a', 0);
    r.note('cam/2', 'b', 10);
    r.note('cam/1', 'a', 20); // refused again: keeps its place
    r.note('cam/3', 'c', 30);
    expect(r.askNow(100, 0)).toEqual([]);
    expect(r.askNow(100, 1)).toEqual([{ topic: 'cam/1', id: 'a' }]);
    // a's ask is pending: it takes the one free place, and is not asked again meanwhile.
    expect(r.askNow(110, 1)).toEqual([]);
    expect(r.askNow(120, 2)).toEqual([{ topic: 'cam/2', id: 'b' }]);
    // Still full when a's manifest came back (refused again): once no ask is pending, the oldest goes first again.
    expect(r.askNow(100 + ASK_PENDING_MS, 1)).toEqual([]); // b's ask still pending
    expect(r.askNow(120 + ASK_PENDING_MS, 1)).toEqual([{ topic: 'cam/1', id: 'a' }]);
    expect(r.askNow(130 + ASK_PENDING_MS, 2)).toEqual([{ topic: 'cam/2', id: 'b' }]);
    expect(r.forget('b')).toBe(true);
    expect(r.forget('b')).toBe(false);
    expect(r.has('a')).toBe(true);
    expect(r.askNow(2000, 5).map((t) => t.id)).toEqual(['a', 'c']);
  });

  it('asks for one transfer at most 3 times', () => {
    const r = new RefusedTransfers();
    r.note('cam/1', 'a', 0);
    const asked = [0, 1, 2, 3, 4].map((k) => r.askNow(k * ASK_PENDING_MS, 1).length);
    expect(asked).toEqual([1, 1, 1, 0, 0]);
    expect(r.has('a')).toBe(false);
  });

  it('forgets refusals after 30 s', () => {
    const r = new RefusedTransfers();
    r.note('cam/1', 'a', 0);
    r.note('cam/1', 'b', 100);
    expect(r.askNow(30_050, 5).map((t) => t.id)).toEqual(['b']);
    expect(r.has('a')).toBe(false);
  });
});
