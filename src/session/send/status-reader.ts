import type { CryptoProvider } from '../../protocol/security/crypto.js';
import { parseStatus, type Status } from '../../protocol/status/status.js';
import { openStatus, sealedStatusSchema } from '../../protocol/status/status-seal.js';
import { fromUtf8 } from '../../protocol/wire/bytes.js';

/**
 * A status as the sender reads it: `trusted` when it counts (an open transfer's any valid status; an encrypted or
 * named transfer's sealed and authenticated ones). An untrusted status only asks for the manifest again
 * (`want-manifest`, at a bounded rate) or is kept as a hint for the final message (a receiver without the key
 * saying `wrong_key`); it never enters the receiver table, so it can neither end nor hold up a send.
 */
export interface ReadStatus {
  status: Status;
  trusted: boolean;
}

/** Keys of a transfer whose statuses must be authenticated. */
export interface StatusKeys {
  /** Encrypted transfers (`--encrypt`): the status key every receiver that opened the manifest seals with. */
  statusKey?: Uint8Array | undefined;
  /** Named receivers (`--recipient`): each one's status key, by its receiver id. Only these count then. */
  recipientKeys?: ReadonlyMap<string, Uint8Array> | undefined;
}

/**
 * How a sender reads the statuses of transfer `id` (PROTOCOL.md 7, 12.1, 13). Synchronous for clear statuses, a
 * promise for sealed ones. Never throws.
 */
export function statusReader(
  crypto: CryptoProvider,
  id: string,
  keys: StatusKeys,
): (payload: Uint8Array) => ReadStatus | undefined | Promise<ReadStatus | undefined> {
  const { statusKey, recipientKeys } = keys;
  if (!statusKey && !recipientKeys) {
    return (payload) => {
      const status = parseStatus(payload);
      return status && { status, trusted: true };
    };
  }
  return (payload) => {
    const clear = parseStatus(payload);
    if (clear) return { status: clear, trusted: false };
    const key = recipientKeys ? recipientKeys.get(outerRx(payload) ?? '') : statusKey;
    if (!key) return undefined;
    return openStatus(crypto, key, id, payload).then((status) => status && { status, trusted: true });
  };
}

/** The clear `rx` of a sealed status, if the payload is one. */
function outerRx(payload: Uint8Array): string | undefined {
  try {
    const parsed = sealedStatusSchema.safeParse(JSON.parse(fromUtf8(payload)));
    return parsed.success ? parsed.data.rx : undefined;
  } catch {
    return undefined;
  }
}
