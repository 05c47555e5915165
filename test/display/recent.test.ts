import { describe, expect, it } from 'vitest';
import { RECENT, remember } from '../../src/display/recent.js';

describe("remember: the page's lists keep the newest entries only", () => {
  it('keeps the last RECENT (100) entries, oldest first', () => {
    const list: number[] = [];
    for (let i = 0; i < 250; i++) remember(list, i);
    expect(RECENT).toBe(100);
    expect(list).toHaveLength(100);
    expect(list[0]).toBe(150);
    expect(list.at(-1)).toBe(249);
  });

  it('takes another limit', () => {
    const list = ['a', 'b'];
    remember(list, 'c', 2);
    expect(list).toEqual(['b', 'c']);
  });
});
