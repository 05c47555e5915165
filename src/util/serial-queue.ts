/**
 * Runs tasks one after another in the order given. A task that returns nothing runs at once when nothing is
 * pending (the usual case: a plain chunk costs no promise); one that returns a promise holds later tasks back until
 * it settles. This keeps a receiver's messages in order when some of them wait for asynchronous crypto (WebCrypto,
 * or the same interface in Node). A task that throws or rejects is passed to `onError`; the queue goes on.
 */
export class SerialQueue {
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Runs `task` now, or after the tasks before it. */
  run(task: () => void | Promise<void>): void {
    if (this.pending === 0) {
      let result: void | Promise<void>;
      try {
        result = task();
      } catch (error) {
        this.onError(error);
        return;
      }
      if (result) this.hold(result);
      return;
    }
    this.hold(this.tail.then(task));
  }

  /** Resolves once every task given so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }

  private hold(running: Promise<void>): void {
    this.pending++;
    this.tail = running
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.pending--;
      });
  }
}
