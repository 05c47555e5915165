import { describe, expect, it } from 'vitest';
import { humanBytes, plural, withTimestamp } from '../../src/cli/output/output.js';

describe('output helpers', () => {
  it('puts an ISO 8601 timestamp after the event name of every JSON line', () => {
    const at = new Date('2026-11-28T10:20:30.456Z');
    expect(JSON.stringify(withTimestamp({ event: 'delivered', id: 'x' }, at))).toBe(
      '{"event":"delivered","ts":"2026-11-28T10:20:30.456Z","id":"x"}',
    );
  });

  it('says sizes in human units and counts with the right plural', () => {
    expect([812, 12_345, 2_200_000, 1_500_000_000].map(humanBytes)).toEqual([
      '812 B',
      '12.3 kB',
      '2.2 MB',
      '1.5 GB',
    ]);
    expect(humanBytes(999_999)).toBe('1.0 MB');
    expect([plural(1, 'chunk'), plural(3, 'chunk'), plural(0, 'receiver')]).toEqual([
      '1 chunk',
      '3 chunks',
      '0 receivers',
    ]);
  });
});
