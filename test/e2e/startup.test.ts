import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MQIMG_BIN, SAMPLES } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

const PRELOAD = fileURLToPath(new URL('../fixtures/list-cjs-modules.cjs', import.meta.url));

/** The packages `mqimg ...args` loads (bundled into the files of dist/bin/ it reads, or from node_modules). */
function loadedPackages(args: string[]): string[] {
  const result = spawnSync(process.execPath, ['--require', PRELOAD, MQIMG_BIN, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  const line = result.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  if (!line) throw new Error(`no module list in: ${result.stderr}`);
  return JSON.parse(line.slice('LOADED '.length)) as string[];
}

describe('start-up loads only what a command needs', () => {
  it.each([['--help'], ['--version'], ['send', '--help']])('mqimg %s loads commander only', (...args) => {
    expect(loadedPackages(args)).toEqual(['commander']);
  });

  it('mqimg receive loads mqtt but not sharp', async () => {
    const port = await freePort(); // nothing listens: the receiver fails fast after loading what it needs
    const loaded = loadedPackages([
      'receive',
      '--out',
      '/tmp/mqimg-startup-test',
      '--url',
      `mqtt://127.0.0.1:${port}`,
    ]);
    expect(loaded).toContain('mqtt');
    expect(loaded).not.toContain('sharp');
  });

  it('mqimg send --format original reads the image header itself, without sharp', async () => {
    const port = await freePort(); // nothing listens: the image is prepared, then connecting fails (exit 4)
    const url = `mqtt://127.0.0.1:${port}`;
    const image = join(SAMPLES, 'landscape.jpg');
    const original = loadedPackages(['send', image, '--topic', 'a/b', '--format', 'original', '--url', url]);
    expect(original).toContain('mqtt');
    expect(original).not.toContain('sharp');
    // The same check sees sharp where it is needed: a re-encode.
    expect(loadedPackages(['send', image, '--topic', 'a/b', '--url', url])).toContain('sharp');
  });
});
