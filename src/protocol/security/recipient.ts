import { fromHex, utf8 } from '../wire/bytes.js';
import type { CryptoProvider } from './crypto.js';

/** The X25519 base point, u = 9 (RFC 7748): X25519(private, base) is the public key. */
export const X25519_BASE_POINT = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 9 : 0));

/** The field prime of Curve25519 and Ed25519, 2^255 - 19. */
const P = (1n << 255n) - 19n;

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = base % P;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

/**
 * The X25519 public key (Montgomery u, RFC 7748) of the Ed25519 public key `edPublic` (RFC 8032 encoding, 32
 * bytes): u = (1 + y) / (1 - y) mod p, the birational map between the two curves (libsodium's
 * `crypto_sign_ed25519_pk_to_curve25519`). A key made by `mqimg keygen` thus names a receiver as well as a signer.
 * Undefined for an encoding that is no point's (y >= p) or maps to no u (y = 1).
 */
export function x25519PublicFromEd25519(edPublic: Uint8Array): Uint8Array | undefined {
  if (edPublic.length !== 32) return undefined;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(edPublic[i] ?? 0);
  y &= (1n << 255n) - 1n; // the top bit is the sign of x, which u does not need
  if (y >= P || y === 1n) return undefined;
  const u = ((1n + y) * modPow((1n - y + P) % P, P - 2n)) % P;
  const out = new Uint8Array(32);
  let v = u;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** The receiver id of a named receiver: `k-` and the key id of its Ed25519 public key (PROTOCOL.md 12.1). */
export function namedReceiverId(keyId: string): string {
  return `k-${keyId}`;
}

/**
 * The status key of named receiver `rx` for transfer `id` (PROTOCOL.md 12.1): HKDF-SHA256 of the X25519 shared
 * secret between the sender's ephemeral key (`epk`) and the receiver's key, salted with the 16 nonce bytes, info
 * `mqimg-rx-v3 <id> <rx>`, 32 bytes. Both ends compute it; nobody else can.
 */
export function namedStatusKey(
  crypto: CryptoProvider,
  shared: Uint8Array,
  nonceHex: string,
  id: string,
  rx: string,
): Promise<Uint8Array> {
  return crypto.hkdfSha256(shared, fromHex(nonceHex), utf8(`mqimg-rx-v3 ${id} ${rx}`), 32);
}
