import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findBinary, inCi, toolRequired, usualPaths } from './required-tool.js';

describe('toolRequired: required in CI, else skipped when the tool is missing', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('is true in CI whether or not the tool is there, without even looking', () => {
    vi.stubEnv('CI', 'true');
    expect(inCi()).toBe(true);
    const look = vi.fn(() => false);
    expect(toolRequired(look)).toBe(true);
    expect(look).not.toHaveBeenCalled();
  });

  it('elsewhere follows whether the tool is installed', () => {
    vi.stubEnv('CI', '');
    expect(inCi()).toBe(false);
    expect(toolRequired(() => false)).toBe(false);
    expect(toolRequired(() => true)).toBe(true);
    // Only the exact value 'true' means CI, as .ci/run and vitest.config.ts read it.
    vi.stubEnv('CI', '1');
    expect(toolRequired(() => false)).toBe(false);
  });
});

describe('findBinary', () => {
  const node = process.execPath;

  it('returns the first candidate that runs, skipping those that are not there', () => {
    expect(findBinary(['/nonexistent/mqimg-tool', node], ['--version'])).toBe(node);
    expect(findBinary(['/nonexistent/a', '/nonexistent/b'], ['--version'])).toBeUndefined();
  });

  it('takes a non-zero exit as found only with anyExit (a tool whose help exits 3)', () => {
    const exits3 = ['-e', 'process.exit(3)'];
    expect(findBinary([node], exits3)).toBeUndefined();
    expect(findBinary([node], exits3, { anyExit: true })).toBe(node);
    // A path that cannot be started (missing, or not executable) is never found, anyExit or not.
    const notExecutable = fileURLToPath(import.meta.url); // this file, mode 644
    expect(findBinary(['/nonexistent/mqimg-tool', notExecutable], exits3, { anyExit: true })).toBeUndefined();
  });

  it('looks in sbin before bin, then /usr/local', () => {
    expect(usualPaths('mosquitto')).toEqual([
      '/usr/sbin/mosquitto',
      '/usr/bin/mosquitto',
      '/usr/local/sbin/mosquitto',
      '/usr/local/bin/mosquitto',
    ]);
  });
});
