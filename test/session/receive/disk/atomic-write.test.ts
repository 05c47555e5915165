import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isTemporaryName,
  temporaryPathFor,
  writeFileAtomic,
} from '../../../../src/session/receive/disk/atomic-write.js';

const isRoot = process.getuid?.() === 0;

describe('writeFileAtomic', () => {
  it('replaces the file whole and leaves no temporary file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqimg-atomic-'));
    const path = join(dir, 'state.json');
    writeFileSync(path, 'old');
    await writeFileAtomic(path, 'new');
    await writeFileAtomic(join(dir, 'bytes.bin'), new Uint8Array([1, 2, 3]));
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect([...readFileSync(join(dir, 'bytes.bin'))]).toEqual([1, 2, 3]);
    expect(readdirSync(dir).sort()).toEqual(['bytes.bin', 'state.json']);
  });

  it('survives 50 concurrent writes of the same file: one of them wins, no temporary file is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqimg-atomic-'));
    const path = join(dir, 'same.json');
    const contents = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i }));
    await Promise.all(contents.map((content) => writeFileAtomic(path, content)));
    expect(contents).toContain(readFileSync(path, 'utf8'));
    expect(readdirSync(dir)).toEqual(['same.json']);
  });

  it('makes names unique per call, recognisable as temporary, and beside the target', () => {
    const names = new Set(Array.from({ length: 1000 }, () => temporaryPathFor('/x/y/file.json')));
    expect(names.size).toBe(1000);
    for (const name of names) {
      expect(name.startsWith('/x/y/file.json.')).toBe(true);
      expect(isTemporaryName(name)).toBe(true);
    }
    expect(isTemporaryName('file.json')).toBe(false);
    expect(isTemporaryName('file.json.tmp')).toBe(false);
  });

  it('throws when the folder is missing, leaving nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqimg-atomic-'));
    await expect(writeFileAtomic(join(dir, 'missing', 'f.json'), 'x')).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes its temporary file when the rename fails, and leaves the target as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqimg-atomic-'));
    // A folder in the target's place: the temporary file is written, the rename over a folder fails.
    const path = join(dir, 'taken');
    writeFileSync(join(dir, 'keep'), 'x');
    mkdirSync(path);
    await expect(writeFileAtomic(path, 'data')).rejects.toThrow();
    expect(readdirSync(dir).sort()).toEqual(['keep', 'taken']);
  });

  it('throws in a folder it cannot write, and leaves nothing behind', async () => {
    // Permission bits do not stop root, so as root the read-only place is /sys (a read-only file system here).
    const dir = isRoot ? '/sys' : mkdtempSync(join(tmpdir(), 'mqimg-atomic-'));
    if (!isRoot) chmodSync(dir, 0o500);
    try {
      await expect(writeFileAtomic(join(dir, 'f.json'), 'x')).rejects.toMatchObject({
        code: expect.stringMatching(/^(EACCES|EPERM|EROFS|ENOENT)$/),
      });
      expect(existsSync(join(dir, 'f.json'))).toBe(false);
    } finally {
      if (!isRoot) chmodSync(dir, 0o700);
    }
  });
});
