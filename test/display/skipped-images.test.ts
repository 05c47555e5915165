import { describe, expect, it } from 'vitest';
import { SkippedImages, skippedLine } from '../../src/display/skipped-images.js';

describe('SkippedImages: what a display that cannot keep up left out', () => {
  it('counts an image superseded unfinished once a newer one is on screen, not before', () => {
    const skips = new SkippedImages();
    expect(skips.failed('a', 'superseded')).toBe(true);
    expect(skips.skipped).toBe(0);
    skips.started('b');
    skips.shown('b');
    expect(skips.skipped).toBe(1);
    skips.shown('c');
    expect(skips.skipped).toBe(1);
  });

  it('does not count a busy refusal whose sender retried and got it admitted and shown', () => {
    const skips = new SkippedImages();
    expect(skips.failed('a', 'too_many_transfers')).toBe(true);
    skips.started('a');
    skips.shown('b');
    skips.shown('a');
    expect(skips.skipped).toBe(0);
  });

  it('takes back a count when a transfer counted as skipped is shown after all', () => {
    const skips = new SkippedImages();
    skips.failed('a', 'too_many_bytes');
    skips.shown('b');
    expect(skips.skipped).toBe(1);
    skips.started('a');
    skips.shown('a');
    expect(skips.skipped).toBe(0);
  });

  it('counts an image overtaken in decoding once, and ignores failures that are not about keeping up', () => {
    const skips = new SkippedImages();
    skips.overtaken('a');
    skips.overtaken('a');
    expect(skips.failed('x', 'checksum_mismatch')).toBe(false);
    expect(skips.failed('y', 'timeout')).toBe(false);
    skips.shown('b');
    expect(skips.skipped).toBe(1);
  });

  it('remembers at most `limit` ids', () => {
    const skips = new SkippedImages(3);
    for (const id of ['a', 'b', 'c', 'd', 'e']) skips.failed(id, 'superseded');
    skips.shown('z');
    expect(skips.skipped).toBe(3);
  });

  it('says nothing while nothing was skipped, then how many and that the newest is shown', () => {
    expect(skippedLine(0)).toBe('');
    expect(skippedLine(1)).toBe('skipped 1 image (the feed is faster than this display): showing the newest');
    expect(skippedLine(12)).toMatch(/^skipped 12 images .*showing the newest$/);
  });
});
