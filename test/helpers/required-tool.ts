import { execFileSync } from 'node:child_process';

/** True in CI (`CI=true`, as .ci/run sets it): there a missing tool fails its tests instead of skipping them. */
export function inCi(): boolean {
  return process.env.CI === 'true';
}

/**
 * Whether the tests that need a tool must run: always in CI (a missing tool then makes them fail, which is the
 * point: a green CI must not hide a missing install step), and elsewhere only when `installed()` says the tool is
 * there (a developer without it sees them skipped). `installed` is not called in CI. For
 * `describe.skipIf(!toolRequired(...))`.
 */
export function toolRequired(installed: () => boolean): boolean {
  return inCi() || installed();
}

/**
 * The first of `candidates` (absolute paths) that runs `probeArgs`, or undefined when none does. Some tools exit
 * non-zero after printing their help (`mosquitto -h` exits 3, `rabbitmqctl help` 64): with `anyExit` any exit
 * status counts as found, and only a binary that could not be started (not there, not executable) does not;
 * without it the probe must exit 0.
 */
export function findBinary(
  candidates: readonly string[],
  probeArgs: readonly string[],
  { anyExit = false }: { anyExit?: boolean } = {},
): string | undefined {
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, probeArgs, { stdio: 'ignore' });
      return candidate;
    } catch (error) {
      // execFileSync sets `status` when the process ran and exited; it is null or absent when it never started.
      const status = (error as { status?: number | null }).status;
      if (anyExit && typeof status === 'number') return candidate;
    }
  }
  return undefined;
}

/** The usual places of a binary called `name` on Debian and in /usr/local: sbin first, as the packages put daemons. */
export function usualPaths(name: string): string[] {
  return [`/usr/sbin/${name}`, `/usr/bin/${name}`, `/usr/local/sbin/${name}`, `/usr/local/bin/${name}`];
}
