import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MQIMG_BIN, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/files.js';
import { freePort } from '../helpers/ports.js';

/** Runs `mqimg ...args` with its cache under `cacheHome` (XDG_CACHE_HOME); returns stdout, after a zero exit. */
function run(cacheHome: string, args: string[], env: Record<string, string> = {}): string {
  const result = spawnSync(process.execPath, [MQIMG_BIN, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, XDG_CACHE_HOME: cacheHome, MQIMG_CODE_CACHE: '', ...env },
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

/** The cache folder for this Node, and its files with their modification times. */
function cacheFiles(cacheHome: string): Map<string, number> {
  const dir = join(cacheHome, 'mqimg', `v8-${process.version}-${process.arch}`);
  const files = new Map<string, number>();
  try {
    for (const name of readdirSync(dir)) files.set(name, statSync(join(dir, name)).mtimeMs);
  } catch {
    // no folder: no files
  }
  return files;
}

// Node 22.1+ has its own compile cache (module.enableCompileCache), used instead: src/bin/code-cache.ts is for Node 20.
const ownCache = !('enableCompileCache' in (await import('node:module')).default);

describe.runIf(ownCache)('the code cache of the CLI bundle (Node 20)', () => {
  it('is written by a first run, in a folder closed to other users, then read and left as it is', () => {
    const home = tempDir('mqimg-cache-');
    const help = run(home, ['--help']);
    const written = cacheFiles(home);
    expect([...written.keys()].some((name) => name.startsWith('mqimg-main-'))).toBe(true);
    const dir = join(home, 'mqimg', `v8-${process.version}-${process.arch}`);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of written.keys()) expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
    // Accepted data is not written again: the same files, untouched, and the same output.
    expect(run(home, ['--help'])).toBe(help);
    expect(cacheFiles(home)).toEqual(written);
  });

  it('runs mqimg broker, which imports an ES module (aedes), from cached code as well as fresh', async () => {
    const home = tempDir('mqimg-cache-');
    for (const run of ['fresh', 'cached']) {
      const broker = startCli(['broker', '--port', String(await freePort())], {
        XDG_CACHE_HOME: home,
        MQIMG_CODE_CACHE: '',
      });
      await broker.waitForOutput('listening');
      broker.child.kill('SIGINT');
      expect((await broker.done).code, run).toBe(130);
      expect([...cacheFiles(home).keys()].some((name) => name.startsWith('mqimg-embedded-broker-'))).toBe(
        true,
      );
    }
  });

  it('replaces data V8 refuses (damaged), and the command works as before', () => {
    const home = tempDir('mqimg-cache-');
    const help = run(home, ['--help']);
    const dir = join(home, 'mqimg', `v8-${process.version}-${process.arch}`);
    const main = [...cacheFiles(home).keys()].find((name) => name.startsWith('mqimg-main-')) ?? '';
    writeFileSync(join(dir, main), Buffer.alloc(4096, 0x5a));
    expect(run(home, ['--help'])).toBe(help);
    expect(readFileSync(join(dir, main)).equals(Buffer.alloc(4096, 0x5a))).toBe(false);
  });

  it('is not used in a folder others can write or read, nor with MQIMG_CODE_CACHE=0', () => {
    const open = tempDir('mqimg-cache-');
    const dir = join(open, 'mqimg', `v8-${process.version}-${process.arch}`);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    run(open, ['--version']);
    expect(cacheFiles(open).size).toBe(0);
    const off = tempDir('mqimg-cache-');
    run(off, ['--version'], { MQIMG_CODE_CACHE: '0' });
    expect(cacheFiles(off).size).toBe(0);
  });
});
