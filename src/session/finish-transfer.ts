import type { Status } from '../protocol/status.js';
import type { MessageTransport } from '../transport/message-transport.js';
import type { Clock } from './clock.js';
import type { IncomingTransfer } from './incoming-transfer.js';
import { completedEvent, type ReceiveEvent } from './receive-events.js';
import { afterSave, type SaveContext, type SaveOutcome, saveVerified } from './save-verified.js';
import type { StatusPublisher } from './status-publisher.js';

/** What finishing a transfer needs from its receiver. */
export interface FinishContext extends SaveContext {
  republishTopic?: string | undefined;
  transport: MessageTransport;
  statuses: StatusPublisher;
  /** Monotonic milliseconds. */
  clock: Clock;
  emit(event: ReceiveEvent): void;
}

/**
 * The end of a transfer whose chunks are all held: verifies and saves it (`saveVerified`), calls `onSaved` once
 * the file is in place, republishes it when asked (`afterSave`), publishes the final `complete` status with the
 * proof of receipt and emits `completed`. Returns why it could not be saved (the caller gives the transfer up),
 * or undefined.
 */
export async function finishTransfer(
  t: IncomingTransfer,
  ctx: FinishContext,
  onSaved: () => void,
): Promise<Extract<SaveOutcome, { ok: false }> | undefined> {
  const saved = await saveVerified(t, ctx);
  if (!saved.ok) return saved;
  onSaved();
  const { topic, id, manifest } = t;
  const onError = (message: string) =>
    ctx.emit({ event: 'rejected', topic, code: 'republish_failed', message });
  const republished = await afterSave(t, saved.path, ctx, onError);
  const status: Status = { rx: ctx.receiverId, state: 'complete', next: manifest.chunks, proof: saved.proof };
  ctx.statuses.final(topic, id, status, ctx.clock(), t.statusKey);
  ctx.emit(completedEvent(manifest, topic, saved, ctx.clock() - t.startedMs, republished));
  return undefined;
}
