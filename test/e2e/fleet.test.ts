import { describe, expect, it } from 'vitest';
import { runFleet } from '../helpers/fleet.js';
import { mosquittoRequired, useMosquitto } from '../helpers/mosquitto.js';

/**
 * A fleet on one machine, at a size that fits CI (the full size, 50 cameras for 60 s, is scripts/bench-fleet.ts):
 * 12 cameras (`send --watch --no-supersede`, one process each) writing a ~200 KB snapshot every 1.5 s, all at the
 * same moment (the worst case for admission), one archive `receive --topic 'cam/+'` and 2 displays each following
 * one camera, through one Mosquitto with default settings. Every snapshot must be saved exactly once by the archive
 * and by its display, byte for byte (SHA-256 of the file on disk against what was written).
 */
describe.skipIf(!mosquittoRequired())('a fleet of cameras on one machine', () => {
  const broker = useMosquitto();

  const expectWhole = (r: Awaited<ReturnType<typeof runFleet>>) => {
    const detail = JSON.stringify({ ...r, archiveLatencyMs: undefined, displayLatencyMs: undefined });
    expect(r.corrupt, detail).toBe(0);
    expect(r.archived, detail).toBe(r.sent);
    expect(r.archiveDuplicates, detail).toBe(0);
    expect(r.displayed, detail).toBe(r.displayExpected);
    expect(r.displayDuplicates, detail).toBe(0);
    expect(r.senderErrors, detail).toEqual([]);
  };

  it('12 cameras x 3 snapshots at once, an archive and 2 displays: every image saved once by each', async () => {
    const r = await runFleet({
      url: broker.url,
      cameras: 12,
      displays: 2,
      snapshots: 3,
      everyMs: 1500,
      bytes: 200_000,
      phase: 'together',
      drainMs: 30_000,
    });
    expect(r.sent).toBe(36);
    expect(r.displayExpected).toBe(6);
    expectWhole(r);
    // Nothing was refused for good: at most "full, try again later" (16 transfers at once), then taken.
    const final = Object.keys(r.receiverFailures).filter((c) => c !== 'too_many_transfers');
    expect(final, JSON.stringify(r.receiverFailures)).toEqual([]);
  }, 120_000);

  it('the same fleet archived by 3 members of a share group: every image archived exactly once', async () => {
    const r = await runFleet({
      url: broker.url,
      cameras: 12,
      displays: 2,
      snapshots: 3,
      everyMs: 1500,
      bytes: 200_000,
      shareMembers: 3,
      phase: 'together',
      drainMs: 30_000,
    });
    expectWhole(r);
    expect(
      r.perMember.filter((n) => n > 0),
      `per member: ${r.perMember}`,
    ).toHaveLength(3);
  }, 120_000);
});
