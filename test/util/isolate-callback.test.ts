import { describe, expect, it } from 'vitest';
import { callIsolated, callWithFallback, isolate } from '../../src/util/isolate-callback.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * Lets the event loop turn `n` times (setImmediate: after every pending promise callback, and after Node has
 * reported the rejections left unhandled by them). Not a pause of some milliseconds: it waits for exactly what
 * an unhandled rejection or an uncaught exception needs to surface, however busy the machine is.
 */
async function eventLoopTurns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Collects unhandled rejections and uncaught exceptions while `run` and a few turns of the event loop go by. */
async function strays(run: () => Promise<void> | void): Promise<unknown[]> {
  const found: unknown[] = [];
  const onStray = (error: unknown) => found.push(error);
  process.on('unhandledRejection', onStray);
  process.on('uncaughtException', onStray);
  try {
    await run();
    await eventLoopTurns();
  } finally {
    process.off('unhandledRejection', onStray);
    process.off('uncaughtException', onStray);
  }
  return found;
}

describe('isolate', () => {
  it('reports a throw and a rejection through onError, never as an uncaught error', async () => {
    const reported: unknown[] = [];
    const found = await strays(async () => {
      const throwing = isolate(
        (n: number) => {
          throw new Error(`sync ${n}`);
        },
        (e) => reported.push(e),
      );
      const rejecting = isolate(
        async (n: number) => {
          await Promise.resolve();
          throw new Error(`async ${n}`);
        },
        (e) => reported.push(e),
      );
      expect(throwing(1)).toBeUndefined();
      expect(rejecting(2)).toBeUndefined();
      // The rejection reaches onError asynchronously: wait for it, not for a while.
      await waitUntil('the rejection to be reported', () => reported.length === 2, { everyMs: 1 });
    });
    expect(found).toEqual([]);
    expect(reported.map((e) => (e as Error).message)).toEqual(['sync 1', 'async 2']);
  });

  it('passes the arguments and reports nothing when the callback works', async () => {
    const seen: string[] = [];
    const reported: unknown[] = [];
    const wrapped = isolate(
      (a: string, b: number) => seen.push(`${a}${b}`),
      (e) => reported.push(e),
    );
    wrapped('x', 1);
    isolate(
      async () => {},
      (e) => reported.push(e),
    )();
    // Nothing is to come: give a rejection that should not exist every chance to surface before checking.
    await eventLoopTurns();
    expect(seen).toEqual(['x1']);
    expect(reported).toEqual([]);
  });

  it('survives an onError that throws too, and a thenable whose then throws', async () => {
    const found = await strays(() => {
      isolate(
        () => {
          throw new Error('first');
        },
        () => {
          throw new Error('second');
        },
      )();
      isolate(
        () => Promise.reject(new Error('late')),
        () => {
          throw new Error('handler');
        },
      )();
      const bad = {
        // biome-ignore lint/suspicious/noThenProperty: a broken thenable, as a user's callback might return
        then: () => {
          throw new Error('then');
        },
      };
      const reported: unknown[] = [];
      isolate(
        () => bad,
        (e) => reported.push(e),
      )();
      expect(reported).toHaveLength(1);
    });
    expect(found).toEqual([]);
  });
});

describe('callIsolated and callWithFallback', () => {
  it('resolve with the value, or with the error, and never reject', async () => {
    expect(await callIsolated(() => 42)).toEqual({ ok: true, value: 42 });
    expect(await callIsolated(async () => 'yes')).toEqual({ ok: true, value: 'yes' });
    const error = new Error('no');
    expect(
      await callIsolated(() => {
        throw error;
      }),
    ).toEqual({ ok: false, error });
    expect(await callIsolated(() => Promise.reject(error))).toEqual({ ok: false, error });
  });

  it('answer the fallback when the callback fails, and report why', async () => {
    const reported: unknown[] = [];
    expect(
      await callWithFallback(
        async () => true,
        false,
        (e) => reported.push(e),
      ),
    ).toBe(true);
    expect(
      await callWithFallback(
        () => Promise.reject(new Error('bug')),
        false,
        (e) => reported.push(e),
      ),
    ).toBe(false);
    expect(reported.map((e) => (e as Error).message)).toEqual(['bug']);
  });
});
