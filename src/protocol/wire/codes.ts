/**
 * Every code a receiver reports, in one table: as a `failed` status's `reason` (what the sender sees, PROTOCOL.md)
 * and in its `failed` and `rejected` events (`mqimg receive --json`). `final`: the receiver remembers the failure
 * for that transfer id and repeats it; otherwise the same transfer may start again later. `retry`: the sender
 * offers the transfer again (the manifest every second) instead of counting the receiver as failed.
 */
export const FAILURE_CODES = {
  too_large: { final: true, what: 'the file is larger than --max-bytes' },
  too_many_bytes: {
    final: false,
    retry: true,
    what: 'transfers in progress would exceed --max-bytes; try again later',
  },
  too_many_transfers: {
    final: false,
    retry: true,
    what: 'already receiving --max-transfers transfers; try again later',
  },
  timeout: {
    final: false,
    retry: true,
    what: 'nothing arrived for --timeout (or for 2 s, to make room); the partial file is kept for resuming',
  },
  superseded: { final: true, what: 'a newer image on the same topic replaced it (send --supersede)' },
  write_failed: { final: true, what: 'the partial or final file could not be written' },
  checksum_mismatch: { final: true, what: "the received bytes do not have the manifest's SHA-256" },
  not_an_image: {
    final: true,
    what: 'the verified file failed --verify-image, or a raw image has a stride that is not one row',
  },
  unsigned: { final: false, what: 'not signed, and the receiver wants signatures (--trust)' },
  untrusted_key: { final: false, what: 'signed by a key the receiver does not trust' },
  bad_signature: { final: false, what: 'the signature does not match the manifest and topic' },
  expired_signature: { final: false, what: 'signed longer ago than --max-age' },
  future_signature: { final: false, what: 'signed more than 60 s in the future' },
  replayed: { final: false, what: 'this exact signed manifest was saved before' },
  encrypted: { final: false, what: 'encrypted, and the receiver has no --encrypt secret' },
  not_encrypted: { final: false, what: 'not encrypted, and the receiver wants encryption (--encrypt)' },
  wrong_key: { final: false, what: 'encrypted under another secret' },
  taken_by_peer: {
    final: true,
    what: 'another member of the same shared-subscription group (receive --share) receives it',
  },
} as const;

/** A code in a `failed` status and event. */
export type FailureCode = keyof typeof FAILURE_CODES;

/** Codes of `rejected` events: a message the receiver dropped without failing a transfer. */
export const REJECTION_CODES = {
  not_json: 'a manifest that is not JSON',
  unsupported_version: 'a manifest of another protocol version',
  invalid_manifest: 'a manifest that fails the schema, or whose id does not match its topic',
  index_out_of_range: 'a chunk index beyond the manifest',
  wrong_length: 'a chunk of the wrong length',
  chunk_hash_mismatch: 'a chunk whose hash is not the one its hash page lists (the next copy is taken)',
  page_hash_mismatch: 'a hash page whose hash is not the one the manifest lists (the next copy is taken)',
  chunk_auth_failed: 'an encrypted chunk that fails authentication',
  republish_failed: 'the saved file could not be republished (--republish)',
  internal: 'a message whose handling failed unexpectedly (a bug: please report it)',
} as const;

/** A code in a `rejected` event. */
export type RejectionCode = keyof typeof REJECTION_CODES;
