import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { partialBytes, trimPartialStates } from '../../../../src/session/receive/disk/partial-budget.js';
import { PARTIAL_DIR } from '../../../../src/session/receive/disk/partial-file.js';

const KIB = 1024;
const id = (n: number) => n.toString(16).padStart(16, '0');

/** Writes transfer `n`: a `.part` of `bytes`, and a state saved `agoMs` ago (or no state: then the file's mtime is that old). */
function partial(out: string, n: number, bytes: number, agoMs: number, withState = true): void {
  const dir = join(out, PARTIAL_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${id(n)}.part`), Buffer.alloc(bytes));
  const when = new Date(Date.now() - agoMs);
  utimesSync(join(dir, `${id(n)}.part`), when, when);
  if (withState) writeFileSync(join(dir, `${id(n)}.json`), JSON.stringify({ savedAtMs: when.getTime() }));
}

const exists = (out: string, n: number) => existsSync(join(out, PARTIAL_DIR, `${id(n)}.part`));

describe('partial transfers against a byte budget', () => {
  it('adds up the partial files, and says 0 when there is no partial folder', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-budget-'));
    expect(await partialBytes(out)).toBe(0);
    partial(out, 1, 10 * KIB, 0);
    partial(out, 2, 5 * KIB, 0, false);
    writeFileSync(join(out, PARTIAL_DIR, 'signatures.json'), 'x'.repeat(100 * KIB));
    expect(await partialBytes(out)).toBe(15 * KIB);
  });

  it('deletes the oldest transfers, state and partial file, until the rest fits', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-budget-'));
    partial(out, 1, 10 * KIB, 3_000); // middle
    partial(out, 2, 10 * KIB, 9_000); // oldest
    partial(out, 3, 10 * KIB, 1_000); // newest
    partial(out, 4, 10 * KIB, 6_000, false); // no state: its file's age counts
    const removed = await trimPartialStates(out, 20 * KIB, new Set());
    expect(removed).toEqual([id(2), id(4)]);
    expect([1, 2, 3, 4].map((n) => exists(out, n))).toEqual([true, false, true, false]);
    expect(existsSync(join(out, PARTIAL_DIR, `${id(2)}.json`))).toBe(false);
    expect(await partialBytes(out)).toBe(20 * KIB);
    expect(await trimPartialStates(out, 20 * KIB, new Set())).toEqual([]);
  });

  it('never deletes the transfers in progress, even when they alone exceed the budget', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-budget-'));
    partial(out, 1, 30 * KIB, 9_000);
    partial(out, 2, 10 * KIB, 1_000);
    const removed = await trimPartialStates(out, 20 * KIB, new Set([id(1)]));
    expect(removed).toEqual([id(2)]);
    expect(exists(out, 1)).toBe(true);
    expect(await trimPartialStates(out, 0, new Set([id(1)]))).toEqual([]);
  });

  it('does nothing without a partial folder', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-budget-'));
    expect(await trimPartialStates(out, 0, new Set())).toEqual([]);
  });
});
