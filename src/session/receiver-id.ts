import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/**
 * The default receiver id: `rx-` and 8 hex digits of SHA-256 over the host name and the absolute `outDir`. Stable
 * across restarts, so that a sender recognises a receiver that resumes.
 */
export function defaultReceiverId(outDir: string): string {
  const digest = createHash('sha256')
    .update(`${hostname()}\0${resolve(outDir)}`)
    .digest('hex');
  return `rx-${digest.slice(0, 8)}`;
}
