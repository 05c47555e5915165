import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import {
  DEFAULT_MAX_AGE_MS,
  forgetAfterMs,
  type ReplayProblem,
  replayProblem,
  type SignedManifest,
} from '../../protocol/security/replay-window.js';
import { wallClock } from '../../util/clock.js';
import { writeFileAtomic } from './disk/atomic-write.js';
import { PARTIAL_DIR } from './disk/partial-file.js';

/** `signatures.json`: signature value -> when it can be forgotten (ms since the epoch). */
const savedSignaturesSchema = z.record(z.string(), z.number());

export {
  CLOCK_SKEW_MS,
  DEFAULT_MAX_AGE_MS,
  type ReplayProblem,
} from '../../protocol/security/replay-window.js';

/**
 * Refuses signed manifests replayed later: one signed more than `maxAgeMs` ago (by its `createdMs`, which the
 * signature covers), or one whose exact signature this receiver already saved a file for. Saved signatures are
 * kept in `<out>/.mqimg-partial/signatures.json` until they are too old to pass the age check anyway, so a
 * receiver restarted with the same `--out` still refuses them.
 */
export class ReplayGuard {
  /** The write running now, if any (writes never overlap). */
  private writing: Promise<void> | undefined;
  /** The write that will start after `writing`, shared by every `remember` made meanwhile. */
  private nextWrite: Promise<void> | undefined;

  private constructor(
    private readonly path: string,
    private readonly maxAgeMs: number,
    /** Signature value -> when it can be forgotten (ms since the epoch). */
    private readonly seen: Map<string, number>,
  ) {}

  /**
   * Loads the saved signatures of `outDir` (none when the file is missing or unreadable), dropping those that
   * expired by `nowMs` (wall clock, ms since the epoch). `maxAgeMs` defaults to DEFAULT_MAX_AGE_MS.
   */
  static async load(
    outDir: string,
    maxAgeMs = DEFAULT_MAX_AGE_MS,
    nowMs = wallClock(),
  ): Promise<ReplayGuard> {
    const path = join(outDir, PARTIAL_DIR, 'signatures.json');
    const seen = new Map<string, number>();
    try {
      const saved = savedSignaturesSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
      for (const [value, until] of Object.entries(saved.success ? saved.data : {})) {
        if (until > nowMs) seen.set(value, until);
      }
    } catch {
      // No file yet, or a damaged one: start empty (the age check still bounds replays).
    }
    return new ReplayGuard(path, maxAgeMs, seen);
  }

  /** Returns why `manifest` (already signature-checked) must be refused at wall-clock time `nowMs`, if it must. */
  check(manifest: SignedManifest, nowMs: number): ReplayProblem | undefined {
    return replayProblem(manifest, nowMs, this.maxAgeMs, this.seen);
  }

  /**
   * Records that a file was saved for `manifest`'s signature, and persists the record. Safe to call concurrently:
   * writes run one at a time, each writes every signature remembered so far, and calls made while a write runs
   * share the next one. Resolves once a write that includes this signature is on disk; throws if that write failed
   * (the signature stays remembered in memory, and the next write retries it).
   */
  async remember(manifest: SignedManifest, nowMs: number): Promise<void> {
    if (!manifest.sig) return;
    this.seen.set(manifest.sig.value, forgetAfterMs(manifest.createdMs, this.maxAgeMs));
    for (const [value, until] of this.seen) if (until <= nowMs) this.seen.delete(value);
    await this.persist();
  }

  /** Resolves after a write that starts after this call; at most one write runs and at most one waits. */
  private persist(): Promise<void> {
    if (this.nextWrite) return this.nextWrite;
    const before = this.writing ?? Promise.resolve();
    const write = before
      .catch(() => {}) // the earlier write's callers got its error; this one writes the whole state again
      .then(async () => {
        this.nextWrite = undefined; // from now on, a new `remember` needs a write after this one
        await mkdir(join(this.path, '..'), { recursive: true });
        await writeFileAtomic(this.path, JSON.stringify(Object.fromEntries(this.seen)));
      });
    this.nextWrite = write;
    this.writing = write;
    void write.then(
      () => this.settled(write),
      () => this.settled(write),
    );
    return write;
  }

  private settled(write: Promise<void>): void {
    if (this.writing === write) this.writing = undefined;
  }
}
