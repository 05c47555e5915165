import { describe, expect, it } from 'vitest';
import {
  type BarText,
  clock,
  fitProgressLine,
  KEEP,
  RateMeter,
  transferFields,
} from '../../src/cli/output/progress-line.js';

/** The progress line fits the terminal (issue 23): what goes first when it is narrow, and an honest rate. */
const sender = (rate: number | undefined): BarText => {
  const [bytes, speed, elapsed, left] = transferFields(426_000, 2_200_000, 12_000, rate);
  return {
    label: 'IMG_5195.HEIC -> cam/1',
    fields: [
      bytes,
      speed,
      { text: '1 receiver', keep: KEEP.receivers },
      { text: '3 resent', keep: KEEP.resent },
      elapsed,
      left,
    ].filter((f) => f !== undefined),
  };
};

describe('fitProgressLine', () => {
  it('shows everything on a wide terminal', () => {
    const line = fitProgressLine(sender(150_000), 0.19, 149);
    expect(line).toBe(
      `IMG_5195.HEIC -> cam/1 ${'█'.repeat(5)}${'░'.repeat(19)}  19% 426 kB of 2.2 MB, 150 kB/s, 1 receiver, 3 resent, 0:12 elapsed, 0:12 left`,
    );
  });

  it('keeps the rate and the time left at 80 columns, dropping resends and elapsed time first', () => {
    const line = fitProgressLine(sender(150_000), 0.19, 79);
    expect(line.length).toBeLessThanOrEqual(79);
    expect(line).toMatch(/^IMG_5195\.HEIC -> cam\/1 [█░]+ +19% .*150 kB\/s.*0:12 left$/);
    expect(line).not.toMatch(/resent|elapsed/);
  });

  it('never exceeds the width, down to 20 columns, and keeps the percentage', () => {
    for (let columns = 20; columns <= 160; columns++) {
      const line = fitProgressLine(sender(150_000), 0.5, columns);
      expect(line.length, `${columns}: ${line}`).toBeLessThanOrEqual(columns);
      expect(line).toMatch(/50%/);
    }
    expect(fitProgressLine(sender(150_000), 0.5, 40)).toMatch(/150 kB\/s, 0:12 left$/);
  });

  it('shortens a long label in the middle rather than cutting the rate', () => {
    const text = { ...sender(2_000_000), label: `${'very-long-file-name-'.repeat(4)}.jpg -> cam/1` };
    const line = fitProgressLine(text, 0.2, 60);
    expect(line.length).toBeLessThanOrEqual(60);
    expect(line).toMatch(/…/);
    expect(line).toMatch(/2\.0 MB\/s, 0:01 left$/);
  });

  it('shows no rate and no time left until the rate is known', () => {
    const line = fitProgressLine(sender(undefined), 0.1, 149);
    expect(line).not.toMatch(/\/s|left/);
    expect(line).toMatch(/0:12 elapsed$/);
  });
});

describe('RateMeter', () => {
  it('measures from the first sample: a resumed transfer is not counted as fast', () => {
    const meter = new RateMeter();
    meter.add(0, 9_000_000); // resumed with 9 MB already held
    expect(meter.rate()).toBeUndefined();
    meter.add(1000, 9_100_000);
    meter.add(2000, 9_200_000);
    expect(meter.rate()).toBeCloseTo(100_000, 0);
  });

  it('follows the last seconds, not the whole transfer', () => {
    const meter = new RateMeter();
    for (let s = 0; s <= 10; s++) meter.add(s * 1000, s * 1_000_000); // 1 MB/s
    for (let s = 11; s <= 20; s++) meter.add(s * 1000, 10_000_000 + (s - 10) * 100_000); // then 100 kB/s
    expect(meter.rate()).toBeCloseTo(100_000, -3);
  });
});

describe('clock', () => {
  it('writes m:ss and h:mm:ss', () => {
    expect([clock(7_000), clock(725_000), clock(3_723_000), clock(-5)]).toEqual([
      '0:07',
      '12:05',
      '1:02:03',
      '0:00',
    ]);
  });
});
