import type { Output } from './output/output.js';

/** What the binary hands every command: where to write, and the signal that Ctrl-C aborts. */
export interface RunContext {
  output: Output;
  signal: AbortSignal;
}
