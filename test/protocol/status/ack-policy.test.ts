import { describe, expect, it } from 'vitest';
import { admit } from '../../../src/protocol/receive/admission.js';
import {
  AckPolicy,
  ackEvery,
  HEARTBEAT_MS,
  MIN_WINDOW_CHUNKS,
  receiverWindow,
  WINDOW_BUDGET_CHUNKS,
} from '../../../src/protocol/status/ack-policy.js';
import { FAILURE_CODES } from '../../../src/protocol/wire/codes.js';

describe('AckPolicy', () => {
  it('reports every win/8 new chunks (1 to 16), at once on a gap or a repair, and on the heartbeat', () => {
    expect([4, 8, 64, 128, 256, 768].map(ackEvery)).toEqual([1, 1, 8, 16, 16, 16]);
    const ack = new AckPolicy();
    expect(ack.due(0)).toBe(true); // nothing sent yet: the first status is due at once
    ack.sent(0);
    const reports = Array.from({ length: 32 }, () => ack.stored({ gap: false, repaired: false }, 64));
    expect(reports.filter(Boolean)).toHaveLength(25); // from the 8th chunk on, until a status goes out
    ack.sent(10);
    expect(ack.due(10 + HEARTBEAT_MS - 1)).toBe(false);
    expect(ack.due(10 + HEARTBEAT_MS)).toBe(true);
    expect(ack.stored({ gap: true, repaired: false }, 64)).toBe(true);
    ack.sent(20);
    expect(ack.stored({ gap: false, repaired: true }, 64)).toBe(true);
    ack.sent(30);
    expect(ack.stored({ gap: false, repaired: false }, 64)).toBe(false);
    expect(ack.due(31)).toBe(true); // an unreported chunk goes out on the next timer tick
  });

  it('shares the window budget among transfers, within the byte cap, never below the minimum', () => {
    expect(receiverWindow(1, 1024)).toBe(WINDOW_BUDGET_CHUNKS);
    expect(receiverWindow(4, 1024)).toBe(WINDOW_BUDGET_CHUNKS / 4);
    expect(receiverWindow(1, 256 * 1024)).toBe(64); // 16 MiB of 256 KiB chunks
    expect(receiverWindow(1000, 1024)).toBe(MIN_WINDOW_CHUNKS);
  });
});

describe('admit', () => {
  const limits = { maxBytes: 1000, maxTransfers: 2 };
  it('takes what fits and refuses the rest, finally only when the file alone is too large', () => {
    expect(admit({ name: 'a', size: 400 }, { transfers: 1, bytes: 500 }, limits)).toBeUndefined();
    const codes = [
      admit({ name: 'a', size: 1001 }, { transfers: 0, bytes: 0 }, limits),
      admit({ name: 'a', size: 600 }, { transfers: 1, bytes: 500 }, limits),
      admit({ name: 'a', size: 1 }, { transfers: 2, bytes: 2 }, limits),
    ].map((r) => r?.code);
    expect(codes).toEqual(['too_large', 'too_many_bytes', 'too_many_transfers']);
    expect(codes.map((c) => c && FAILURE_CODES[c].final)).toEqual([true, false, false]);
  });
});
