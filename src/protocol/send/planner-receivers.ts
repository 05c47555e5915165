import type { Status } from '../status/status.js';

/** What the sender knows about one receiver. */
export interface ReceiverView {
  id: string;
  state: Status['state'] | 'stalled';
  /** Every chunk below this index is held by the receiver. */
  next: number;
  high: number;
  reason?: string;
  lastHeardMs: number;
}

/** The planner's own record of one receiver: its last status, timing (ms of the planner's clock) and resends. */
export interface ReceiverState {
  id: string;
  state: Status['state'];
  next: number;
  high: number;
  win: number;
  reason?: string;
  lastHeardMs: number;
  lastProgressMs: number;
  /** When its `next` or `high` last rose (or it joined): unlike `lastProgressMs`, never moved by a probe. */
  lastAdvanceMs: number;
  /** A `failed` whose reason is final (FAILURE_CODES): nothing this receiver says later changes it. */
  finalFailure: boolean;
  rtoMs: number;
  /** Resends this receiver's requests and timer caused. */
  resends: number;
}
