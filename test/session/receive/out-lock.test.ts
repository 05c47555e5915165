import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { PARTIAL_DIR } from '../../../src/session/receive/disk/partial-file.js';
import {
  acquireOutLock,
  OUT_LOCK_NAME,
  UNREADABLE_LOCK_STALE_MS,
} from '../../../src/session/receive/out-lock.js';

const lockPath = (out: string) => join(out, PARTIAL_DIR, OUT_LOCK_NAME);

/** A pid that ran and has exited: a child process's, after it ended. */
function deadPid(): number {
  const pid = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']));
  expect(() => process.kill(pid, 0)).toThrow();
  return pid;
}

function writeLock(out: string, content: string, agoMs = 0): void {
  mkdirSync(join(out, PARTIAL_DIR), { recursive: true });
  writeFileSync(lockPath(out), content);
  const when = new Date(Date.now() - agoMs);
  utimesSync(lockPath(out), when, when);
}

describe('the --out lock', () => {
  it('refuses a second receiver of the same --out, naming the pid, until the first releases it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-lock-'));
    const first = await acquireOutLock(out);
    expect(JSON.parse(readFileSync(lockPath(out), 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
    });
    const second = acquireOutLock(out);
    await expect(second).rejects.toBeInstanceOf(UsageError);
    await expect(second).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(`another receiver (pid ${process.pid}) is using this --out`),
    });
    await first.release();
    expect(existsSync(lockPath(out))).toBe(false);
    const third = await acquireOutLock(out);
    await first.release(); // a second release does nothing, and never removes another holder's lock
    expect(existsSync(lockPath(out))).toBe(true);
    await third.release();
  });

  it('takes over a stale lock whose process is gone', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-lock-'));
    writeLock(out, JSON.stringify({ pid: deadPid(), host: hostname(), token: 'old' }));
    const lock = await acquireOutLock(out);
    expect(JSON.parse(readFileSync(lockPath(out), 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over an unreadable lock older than a minute, and refuses a younger one (a receiver starting)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-lock-'));
    writeLock(out, '');
    await expect(acquireOutLock(out)).rejects.toThrow(/another receiver is starting/);
    writeLock(out, 'garbage', UNREADABLE_LOCK_STALE_MS + 1000);
    const lock = await acquireOutLock(out);
    await lock.release();
  });

  it('refuses a lock held from another host, which it cannot check', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-lock-'));
    writeLock(out, JSON.stringify({ pid: 1234, host: 'elsewhere', token: 'x' }));
    await expect(acquireOutLock(out)).rejects.toThrow(/receiver on host elsewhere \(pid 1234\)/);
  });

  it('lets exactly one of many concurrent acquisitions of a stale lock win, round after round', async () => {
    // 50 rounds: the race this guards against (a takeover removing the lock another racer had just taken)
    // showed in about one round in three before the takeover guard, so one round alone rarely caught it.
    const pid = deadPid();
    const winners: number[] = [];
    for (let round = 0; round < 50; round++) {
      const out = mkdtempSync(join(tmpdir(), 'mqimg-lock-'));
      writeLock(out, JSON.stringify({ pid, host: hostname(), token: 'old' }));
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => acquireOutLock(out)));
      winners.push(results.filter((r) => r.status === 'fulfilled').length);
      for (const r of results) if (r.status === 'fulfilled') await r.value.release();
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UsageError);
      }
    }
    expect(winners).toEqual(Array.from({ length: 50 }, () => 1));
  });

  it('removes a takeover guard left by a process that died holding it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-lock-'));
    writeLock(out, JSON.stringify({ pid: deadPid(), host: hostname(), token: 'old' }));
    const guard = `${lockPath(out)}.takeover`;
    writeFileSync(guard, '1');
    const old = new Date(Date.now() - 60_000);
    utimesSync(guard, old, old);
    const lock = await acquireOutLock(out);
    expect(JSON.parse(readFileSync(lockPath(out), 'utf8'))).toMatchObject({ pid: process.pid });
    expect(existsSync(guard)).toBe(false);
    await lock.release();
  });
});
