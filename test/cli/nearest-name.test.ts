import { describe, expect, it } from 'vitest';
import { editDistance, nearestName } from '../../src/util/nearest-name.js';

describe('nearestName (did you mean)', () => {
  it('finds typos, swaps and names that share a first word', () => {
    const commands = [
      'send',
      'receive',
      'clear',
      'relay',
      'broker',
      'display',
      'demo',
      'keygen',
      'completion',
    ];
    expect(nearestName('sned', commands)).toBe('send');
    expect(nearestName('recieve', commands)).toBe('receive');
    expect(nearestName('brocker', commands)).toBe('broker');
    expect(nearestName('chunkSize', ['chunkBytes', 'maxSize', 'topic'])).toBe('chunkBytes');
    expect(nearestName('qos', ['chunkQos', 'topic'])).toBe('chunkQos');
    expect(nearestName('frobnicate', commands)).toBeUndefined();
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('sned', 'send')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
