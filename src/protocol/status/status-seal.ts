import * as z from 'zod';
import type { CryptoProvider } from '../security/crypto.js';
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from '../wire/bytes.js';
import { parseStatus, type Status } from './status.js';

/** Bytes of the random AES-GCM nonce in front of a sealed status. */
const STATUS_NONCE_BYTES = 12;

/**
 * A status of an encrypted transfer (protocol 2, `--encrypt`), as published: `rx` in clear (for routing and
 * logs), the whole status sealed in `sealed` = base64(nonce || AES-256-GCM ciphertext || tag) under the status key,
 * with the additional data `<id>\n<rx>`. Nobody without the shared secret can make a sender believe a receiver
 * progressed, asked for chunks or finished.
 */
export const sealedStatusSchema = z.strictObject({
  rx: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  sealed: z
    .string()
    .max(16_384)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/),
});

/** The status key of a transfer: HMAC-SHA256(transfer key, `mqimg-status-v2`), 32 bytes. */
export function statusKey(crypto: CryptoProvider, transferKey: Uint8Array): Promise<Uint8Array> {
  return crypto.hmacSha256(transferKey, utf8('mqimg-status-v2'));
}

/** Seals `status` of transfer `id` under `key` (a status key): the payload to publish. */
export async function sealStatus(
  crypto: CryptoProvider,
  key: Uint8Array,
  id: string,
  status: Status,
  /** 12 bytes; a new random one by default (a fixed one is for test vectors only). */
  nonce: Uint8Array = crypto.randomBytes(STATUS_NONCE_BYTES),
): Promise<Uint8Array> {
  const aad = utf8(`${id}\n${status.rx}`);
  const sealed = await crypto.aesGcmSeal(key, nonce, aad, utf8(JSON.stringify(status)));
  return utf8(JSON.stringify({ rx: status.rx, sealed: toBase64(concatBytes(nonce, sealed)) }));
}

/**
 * Opens a sealed status of transfer `id`; undefined when it is not one, fails authentication, or its inner `rx`
 * differs from the outer one. Never rejects.
 */
export async function openStatus(
  crypto: CryptoProvider,
  key: Uint8Array,
  id: string,
  payload: Uint8Array,
): Promise<Status | undefined> {
  let outer: z.infer<typeof sealedStatusSchema>;
  try {
    const parsed = sealedStatusSchema.safeParse(JSON.parse(fromUtf8(payload)));
    if (!parsed.success) return undefined;
    outer = parsed.data;
  } catch {
    return undefined;
  }
  const bytes = fromBase64(outer.sealed);
  if (!bytes || bytes.length < STATUS_NONCE_BYTES + 16) return undefined;
  const aad = utf8(`${id}\n${outer.rx}`);
  const plain = await crypto.aesGcmOpen(
    key,
    bytes.subarray(0, STATUS_NONCE_BYTES),
    aad,
    bytes.subarray(STATUS_NONCE_BYTES),
  );
  const status = plain && parseStatus(plain);
  return status && status.rx === outer.rx ? status : undefined;
}
