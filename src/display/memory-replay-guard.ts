import type { ReplayCheck } from '../protocol/manifest/manifest-checks.js';
import { DEFAULT_MAX_AGE_MS, forgetAfterMs, replayProblem } from '../protocol/security/replay-window.js';

/**
 * The display page's replay guard: the same rules as the Node receiver's (protocol/replay-window.ts), with the
 * signatures already shown kept in memory. A reload forgets them, and the age check (`maxAgeMs`, default
 * 10 minutes) still bounds what an attacker could replay; a replayed image is one the display already showed.
 */
export class MemoryReplayGuard implements ReplayCheck {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxAgeMs = DEFAULT_MAX_AGE_MS) {}

  check(manifest: { name: string; createdMs: number; sig?: { value: string } | undefined }, nowMs: number) {
    return replayProblem(manifest, nowMs, this.maxAgeMs, this.seen);
  }

  /** Records that an image was shown for `manifest`'s signature, at wall-clock `nowMs`. */
  remember(manifest: { createdMs: number; sig?: { value: string } | undefined }, nowMs: number): void {
    if (!manifest.sig) return;
    this.seen.set(manifest.sig.value, forgetAfterMs(manifest.createdMs, this.maxAgeMs));
    for (const [value, until] of this.seen) if (until <= nowMs) this.seen.delete(value);
  }
}
