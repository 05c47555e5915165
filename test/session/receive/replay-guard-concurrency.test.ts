import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PARTIAL_DIR } from '../../../src/session/receive/disk/partial-file.js';
import { ReplayGuard } from '../../../src/session/receive/replay-guard.js';

describe('ReplayGuard.remember, called concurrently', () => {
  it('persists every one of 50 concurrent signatures, without errors or temporary files left', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-replay-'));
    const now = Date.now();
    const guard = await ReplayGuard.load(out, 600_000, now);
    const manifests = Array.from({ length: 50 }, (_, i) => ({
      name: `${i}.png`,
      createdMs: now,
      sig: { value: `signature-${i}` },
    }));
    const results = await Promise.allSettled(manifests.map((m) => guard.remember(m, now)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const dir = join(out, PARTIAL_DIR);
    const saved = JSON.parse(readFileSync(join(dir, 'signatures.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(saved).sort()).toEqual(manifests.map((m) => m.sig.value).sort());
    expect(readdirSync(dir)).toEqual(['signatures.json']);
    // And a receiver started again refuses each of them.
    const reloaded = await ReplayGuard.load(out, 600_000, now);
    for (const m of manifests) expect(reloaded.check(m, now)?.code).toBe('replayed');
  });

  it('keeps the calls made while a write runs: they share the next write', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-replay-'));
    const now = Date.now();
    const guard = await ReplayGuard.load(out, 600_000, now);
    const first = guard.remember({ name: 'a', createdMs: now, sig: { value: 'first' } }, now);
    const rest = Array.from({ length: 50 }, (_, i) =>
      guard.remember({ name: 'b', createdMs: now, sig: { value: `later-${i}` } }, now),
    );
    await Promise.all([first, ...rest]);
    const saved = JSON.parse(readFileSync(join(out, PARTIAL_DIR, 'signatures.json'), 'utf8')) as object;
    expect(Object.keys(saved)).toHaveLength(51);
  });

  it('reports a failed write to its callers and writes the signature with the next one', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-replay-'));
    const now = Date.now();
    const guard = await ReplayGuard.load(out, 600_000, now);
    writeFileSync(join(out, PARTIAL_DIR), 'a file where the folder should be');
    await expect(
      guard.remember({ name: 'a', createdMs: now, sig: { value: 'lost?' } }, now),
    ).rejects.toThrow();
    rmSync(join(out, PARTIAL_DIR));
    await guard.remember({ name: 'b', createdMs: now, sig: { value: 'next' } }, now);
    const saved = JSON.parse(readFileSync(join(out, PARTIAL_DIR, 'signatures.json'), 'utf8')) as object;
    expect(Object.keys(saved).sort()).toEqual(['lost?', 'next']);
  });
});
