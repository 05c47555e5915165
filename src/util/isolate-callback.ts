/**
 * Guards for callbacks that a library user hands to mqimg (`onEvent`, `verifyFile`...): their bugs must be
 * reported, never end the user's process as an uncaught exception or an unhandled rejection, and never break the
 * transfer that called them.
 */

/** Receives what a user's callback threw or rejected with. */
export type CallbackErrorHandler = (error: unknown) => void;

/**
 * Wraps `fn` (synchronous or returning a promise) into a function that never throws and never leaves a rejected
 * promise unhandled: a throw or a rejection goes to `onError`, and the wrapper returns nothing at once (it does not
 * wait for a promise). For fire-and-forget callbacks such as `onEvent`. An `onError` that throws itself is ignored.
 */
export function isolate<A extends unknown[]>(
  fn: (...args: A) => unknown,
  onError: CallbackErrorHandler,
): (...args: A) => void {
  return (...args: A) => {
    let result: unknown;
    try {
      result = fn(...args);
    } catch (error) {
      report(onError, error);
      return;
    }
    if (!isThenable(result)) return;
    try {
      result.then(undefined, (error: unknown) => report(onError, error));
    } catch (error) {
      report(onError, error); // a thenable whose `then` throws
    }
  };
}

/** What `callIsolated` found: the callback's value, or what it threw. */
export type IsolatedResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Calls `fn` (synchronous or returning a promise) and resolves with its value, or with the error it threw or
 * rejected with: never rejects and never throws. For callbacks whose answer mqimg needs, such as `verifyFile`; the
 * caller decides what a failure means (for example: refuse the file, and report why).
 */
export async function callIsolated<T>(fn: () => T | PromiseLike<T>): Promise<IsolatedResult<Awaited<T>>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Like `callIsolated`, but also passes a failure to `onError` and resolves with `fallback` instead. For callbacks
 * with a safe default answer.
 */
export async function callWithFallback<T, F>(
  fn: () => T | PromiseLike<T>,
  fallback: F,
  onError: CallbackErrorHandler,
): Promise<Awaited<T> | F> {
  const result = await callIsolated(fn);
  if (result.ok) return result.value;
  report(onError, result.error);
  return fallback;
}

function report(onError: CallbackErrorHandler, error: unknown): void {
  try {
    onError(error);
  } catch {
    // The error handler is the user's too: nothing left to report to.
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
