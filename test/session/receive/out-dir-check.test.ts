import { chmodSync, existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { checkOutDir } from '../../../src/session/receive/out-dir-check.js';

const isRoot = process.getuid?.() === 0;

/** Runs `checkOutDir` and returns its error, checking that it is a UsageError (exit 2) settled within a second. */
async function refusal(outDir: string): Promise<UsageError> {
  const started = Date.now();
  const error = await checkOutDir(outDir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(Date.now() - started).toBeLessThan(1000);
  expect(error).toBeInstanceOf(UsageError);
  const usage = error as UsageError;
  expect(usage.exitCode).toBe(2);
  expect(usage.message).toContain(`--out ${outDir}`);
  return usage;
}

describe('checkOutDir', () => {
  it('creates a missing folder and its parents, and leaves no probe file', async () => {
    const base = mkdtempSync(join(tmpdir(), 'mqimg-out-'));
    const out = join(base, 'a', 'b', 'c');
    await checkOutDir(out);
    expect(statSync(out).isDirectory()).toBe(true);
    expect(readdirSync(out)).toEqual([]);
    await checkOutDir(out); // an existing, writable folder is fine
  });

  it('refuses a folder that cannot be created, within a second (Node spins for ever on /proc/x)', async () => {
    expect((await refusal('/proc/mqimg-x')).message).toMatch(/cannot create it/);
    expect((await refusal('/proc/mqimg-x/y/z')).message).toMatch(/cannot create/);
  });

  it('refuses a path whose parent is a file', async () => {
    const base = mkdtempSync(join(tmpdir(), 'mqimg-out-'));
    writeFileSync(join(base, 'file'), 'x');
    expect((await refusal(join(base, 'file', 'out'))).message).toMatch(/not a folder/);
  });

  it('refuses a file in the place of the folder', async () => {
    const base = mkdtempSync(join(tmpdir(), 'mqimg-out-'));
    writeFileSync(join(base, 'image.png'), 'x');
    expect((await refusal(join(base, 'image.png'))).message).toMatch(/exists and is not a folder/);
  });

  it('refuses a folder where nothing can be written', async () => {
    // Permission bits do not stop root, so as root the read-only folder is /sys (a read-only file system here).
    const out = isRoot ? '/sys' : mkdtempSync(join(tmpdir(), 'mqimg-out-'));
    if (!isRoot) chmodSync(out, 0o500);
    try {
      expect((await refusal(out)).message).toMatch(/cannot write into it/);
    } finally {
      if (!isRoot) chmodSync(out, 0o700);
    }
    expect(existsSync(out)).toBe(true);
  });
});
