import { describe, expect, it } from 'vitest';
import { InflightLimiter } from '../../src/transport/inflight-limiter.js';

/** A promise and the functions that settle it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every already-settled promise callback run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('InflightLimiter', () => {
  it('has a slot until maxInflight runs are in flight', () => {
    const limiter = new InflightLimiter(2);
    const first = deferred();
    const second = deferred();
    expect(limiter.hasSlot).toBe(true);
    void limiter.run(() => first.promise);
    expect(limiter.taken).toBe(1);
    expect(limiter.hasSlot).toBe(true);
    void limiter.run(() => second.promise);
    expect(limiter.taken).toBe(2);
    expect(limiter.hasSlot).toBe(false);
  });

  it('takes a slot at once, even when none is free (the caller checks hasSlot first)', () => {
    const limiter = new InflightLimiter(1);
    void limiter.run(() => deferred().promise);
    void limiter.run(() => deferred().promise);
    expect(limiter.taken).toBe(2);
    expect(limiter.hasSlot).toBe(false);
  });

  it('waitForSlot resolves at once when a slot is free', async () => {
    const limiter = new InflightLimiter(1);
    await expect(limiter.waitForSlot()).resolves.toBeUndefined();
  });

  it('wakes one waiter per slot given back, first come first served', async () => {
    const limiter = new InflightLimiter(1);
    const work = deferred();
    const running = limiter.run(() => work.promise);
    const woken: string[] = [];
    void limiter.waitForSlot().then(() => woken.push('a'));
    void limiter.waitForSlot().then(() => woken.push('b'));
    await settle();
    expect(woken).toEqual([]);

    work.resolve();
    await running;
    await settle();
    expect(woken).toEqual(['a']);
    expect(limiter.hasSlot).toBe(true);

    // 'a' takes the slot and gives it back: now 'b'.
    await limiter.run(async () => {});
    await settle();
    expect(woken).toEqual(['a', 'b']);
  });

  it('gives the slot back when the work fails, and passes the failure on', async () => {
    const limiter = new InflightLimiter(1);
    const work = deferred();
    const running = limiter.run(() => work.promise);
    const waiting = limiter.waitForSlot();
    work.reject(new Error('refused'));
    await expect(running).rejects.toThrow('refused');
    await expect(waiting).resolves.toBeUndefined();
    expect(limiter.taken).toBe(0);
  });

  it('returns what the work returns', async () => {
    const limiter = new InflightLimiter(4);
    await expect(limiter.run(async () => 42)).resolves.toBe(42);
    expect(limiter.taken).toBe(0);
  });
});
