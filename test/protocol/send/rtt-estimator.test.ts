import { describe, expect, it } from 'vitest';
import {
  INITIAL_RTO_MS,
  MAX_RTO_MS,
  MIN_RTO_MS,
  RttEstimator,
} from '../../../src/protocol/send/rtt-estimator.js';

/** The sender's round-trip estimate (PROTOCOL.md 8.1): SRTT = 7/8 SRTT + 1/8 sample; RTO = clamp(2 SRTT + 50). */
describe('RttEstimator', () => {
  it('has no estimate and a timeout of 1 s before the first sample', () => {
    const rtt = new RttEstimator();
    expect([INITIAL_RTO_MS, MIN_RTO_MS, MAX_RTO_MS]).toEqual([1000, 100, 8000]);
    expect(rtt.smoothedMs).toBeNaN();
    expect(rtt.rtoMs).toBe(1000);
  });

  it('takes the first sample as it is, then smooths by 7/8 and 1/8', () => {
    const rtt = new RttEstimator();
    rtt.sample(1000, 1200); // 200
    expect(rtt.smoothedMs).toBe(200);
    expect(rtt.rtoMs).toBe(450);
    rtt.sample(2000, 2600); // 600: 200 x 7/8 + 600 / 8 = 250
    expect(rtt.smoothedMs).toBe(250);
    expect(rtt.rtoMs).toBe(550);
    rtt.sample(3000, 3010); // 10: 250 x 7/8 + 10 / 8 = 220
    expect(rtt.smoothedMs).toBe(220);
    expect(rtt.rtoMs).toBe(490);
  });

  it('converges on a steady round trip', () => {
    const rtt = new RttEstimator();
    rtt.sample(0, 1000);
    for (let i = 0; i < 200; i++) rtt.sample(0, 80);
    expect(rtt.smoothedMs).toBeCloseTo(80, 6);
    expect(rtt.rtoMs).toBeCloseTo(210, 6);
  });

  it('keeps the timeout within 100 ms and 8 s', () => {
    const fast = new RttEstimator();
    fast.sample(500, 510); // 2 x 10 + 50 = 70, raised to 100
    expect(fast.rtoMs).toBe(100);
    const slow = new RttEstimator();
    slow.sample(0, 5000); // 2 x 5000 + 50 = 10,050, cut to 8,000
    expect(slow.smoothedMs).toBe(5000);
    expect(slow.rtoMs).toBe(8000);
  });

  it('counts an acknowledgement timed before its send (a clock step back) as 0 ms, not negative', () => {
    const rtt = new RttEstimator();
    rtt.sample(1000, 900);
    expect(rtt.smoothedMs).toBe(0);
    expect(rtt.rtoMs).toBe(100);
    rtt.sample(0, 800); // 0 x 7/8 + 800 / 8 = 100
    expect(rtt.smoothedMs).toBe(100);
  });
});
