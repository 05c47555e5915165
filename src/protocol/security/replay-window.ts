/** How far in the future a signed manifest's `createdMs` may be (clocks differ), in milliseconds: 60 s. */
export const CLOCK_SKEW_MS = 60_000;
/** Default `--max-age`: signed manifests older than this are refused, in milliseconds: 10 minutes. */
export const DEFAULT_MAX_AGE_MS = 10 * 60_000;

/** Why a validly signed manifest is refused anyway. */
export interface ReplayProblem {
  code: 'expired_signature' | 'future_signature' | 'replayed';
  message: string;
}

/** The fields of a signed manifest the replay rules read. */
export interface SignedManifest {
  name: string;
  createdMs: number;
  sig?: { value: string } | undefined;
}

/**
 * Why signed `manifest` must be refused at wall-clock `nowMs` (ms since the epoch), if it must: signed more than
 * `maxAgeMs` ago (by its `createdMs`, which the signature covers), more than CLOCK_SKEW_MS in the future, or its
 * exact signature is in `seen` (a file was already taken for it). Pure; the Node receiver keeps `seen` on disk
 * (session/replay-guard.ts), the display page in memory.
 */
export function replayProblem(
  manifest: SignedManifest,
  nowMs: number,
  maxAgeMs: number,
  seen: { has(signature: string): boolean },
): ReplayProblem | undefined {
  const ageMs = nowMs - manifest.createdMs;
  if (ageMs > maxAgeMs) {
    return {
      code: 'expired_signature',
      message: `${manifest.name} was signed ${Math.round(ageMs / 1000)} s ago, more than --max-age ${Math.round(maxAgeMs / 1000)} s: a replay, a clock that is wrong, or a transfer left retained too long`,
    };
  }
  if (ageMs < -CLOCK_SKEW_MS) {
    return {
      code: 'future_signature',
      message: `${manifest.name} is signed ${Math.round(-ageMs / 1000)} s in the future: the sender's or this machine's clock is wrong`,
    };
  }
  if (manifest.sig && seen.has(manifest.sig.value)) {
    return {
      code: 'replayed',
      message: `${manifest.name}: this exact signed manifest was already received and saved; a replay is refused`,
    };
  }
  return undefined;
}

/** When a signature taken at its manifest's `createdMs` can be forgotten: it would fail the age check by then. */
export function forgetAfterMs(createdMs: number, maxAgeMs: number): number {
  return createdMs + maxAgeMs + CLOCK_SKEW_MS;
}
