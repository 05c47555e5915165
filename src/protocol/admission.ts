/** Limits a receiver admits transfers within. */
export interface AdmissionLimits {
  /** Largest file, and most bytes of all transfers in progress together. */
  maxBytes: number;
  /** Most transfers in progress at once. */
  maxTransfers: number;
}

/** What the receiver holds now. */
export interface AdmissionLoad {
  /** Transfers in progress. */
  transfers: number;
  /** Their declared sizes, summed, in bytes. */
  bytes: number;
}

/** Why a transfer is refused; whether the refusal is final is in FAILURE_CODES. */
export interface Refusal {
  code: 'too_large' | 'too_many_bytes' | 'too_many_transfers';
  message: string;
}

/** Decides whether a receiver takes a transfer of `size` bytes named `name`; undefined means yes. Pure. */
export function admit(
  transfer: { name: string; size: number },
  load: AdmissionLoad,
  limits: AdmissionLimits,
): Refusal | undefined {
  if (transfer.size > limits.maxBytes) {
    return {
      code: 'too_large',
      message: `${transfer.name} is ${transfer.size} bytes, more than --max-bytes ${limits.maxBytes}`,
    };
  }
  if (load.bytes + transfer.size > limits.maxBytes) {
    return {
      code: 'too_many_bytes',
      message: `${transfer.name} (${transfer.size} bytes) would bring transfers in progress to ${load.bytes + transfer.size} bytes, more than --max-bytes ${limits.maxBytes}; try again later`,
    };
  }
  if (load.transfers >= limits.maxTransfers) {
    return {
      code: 'too_many_transfers',
      message: `already receiving ${load.transfers} transfers (--max-transfers ${limits.maxTransfers})`,
    };
  }
  return undefined;
}
