import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

const hex8 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/**
 * The default receiver id: `rx-` and 8 hex digits of SHA-256 over the host name and the absolute `outDir`. Stable
 * across restarts, so that a sender recognises a receiver that resumes.
 */
export function defaultReceiverId(outDir: string): string {
  return `rx-${hex8(`${hostname()}\0${resolve(outDir)}`)}`;
}

/**
 * The receiver id prefix every member of shared-subscription group `group` has: `sh-`, 8 hex digits of SHA-256 of
 * the group name, and `-`. Members recognise each other's statuses by it.
 */
export function shareMemberPrefix(group: string): string {
  return `sh-${hex8(group)}-`;
}

/**
 * The receiver id of a member of `group` saving into `outDir`: the group's prefix and the 8 hex digits of
 * `defaultReceiverId` (host name and absolute `outDir`), e.g. `sh-1a2b3c4d-5e6f7a8b`. Stable across restarts.
 */
export function shareMemberId(group: string, outDir: string): string {
  return `${shareMemberPrefix(group)}${defaultReceiverId(outDir).slice(3)}`;
}
