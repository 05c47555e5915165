import type { KeyObject } from 'node:crypto';
import { nodeCrypto } from '../../platform/node-crypto.js';
import { rawPublicKey } from '../../platform/node-keys.js';
import { parseJson, TRANSFER_ID_PATTERN } from '../../protocol/manifest/manifest.js';
import type { ManifestChecks as CoreManifestChecks } from '../../protocol/manifest/manifest-checks.js';
import type { CryptoProvider } from '../../protocol/security/crypto.js';
import type { ReplayGuard } from './replay-guard.js';

// The rules live in protocol/manifest-checks.ts, shared with the display page; this file adds Node's keys.
export {
  type CheckedManifest,
  type ManifestVerdict,
  manifestVerdict,
  readCheckedManifest,
} from '../../protocol/manifest/manifest-checks.js';

/** What a Node receiver's security settings ask of every manifest (its replay guard persists in `--out`). */
export type ManifestChecks = CoreManifestChecks<ReplayGuard>;

/** The checks a receiver with `options` makes (Ed25519 keys as raw bytes for the core's crypto interface). */
export function manifestChecks(
  options: { crypto?: CryptoProvider; secret?: Uint8Array; trust?: ReadonlyMap<string, KeyObject> },
  wallNowMs: () => number,
): ManifestChecks {
  const { trust } = options;
  return {
    crypto: options.crypto ?? nodeCrypto,
    secret: options.secret,
    trust: trust && new Map([...trust].map(([kid, key]) => [kid, rawPublicKey(key)])),
    wallNowMs,
  };
}

/** The `id` field of a manifest payload (plain or sealed), if it has a valid one; nothing else is checked. */
export function idOf(payload: Uint8Array): string | undefined {
  const json = parseJson(payload);
  const id =
    json.ok && typeof json.value === 'object' && json.value !== null
      ? (json.value as { id?: unknown }).id
      : undefined;
  return typeof id === 'string' && TRANSFER_ID_PATTERN.test(id) ? id : undefined;
}
