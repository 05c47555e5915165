import type { CryptoProvider } from '../../protocol/security/crypto.js';
import { parseStatus, type Status } from '../../protocol/status/status.js';
import { openStatus } from '../../protocol/status/status-seal.js';

/** Failure reasons a receiver can only send in clear: it could not open the sealed manifest, so has no key. */
const CLEAR_REASONS: ReadonlySet<string> = new Set(['encrypted', 'not_encrypted', 'wrong_key']);

/**
 * How a sender reads the statuses of transfer `id`. Plain transfers: every valid status. Encrypted ones
 * (`statusKey` given): sealed statuses, opened and authenticated; in clear only `want-manifest` (it only makes the
 * sender repeat its manifest, at a bounded rate) and the failures a receiver without the key can report. A forged
 * clear `receiving` or `complete` is ignored. Synchronous for clear statuses, a promise for sealed ones.
 */
export function statusReader(
  crypto: CryptoProvider,
  id: string,
  statusKey: Uint8Array | undefined,
): (payload: Uint8Array) => Status | undefined | Promise<Status | undefined> {
  if (!statusKey) return (payload) => parseStatus(payload);
  return (payload) => {
    const clear = parseStatus(payload);
    if (!clear) return openStatus(crypto, statusKey, id, payload);
    if (clear.state === 'want-manifest') return clear;
    if (clear.state === 'failed' && clear.reason !== undefined && CLEAR_REASONS.has(clear.reason))
      return clear;
    return undefined;
  };
}
