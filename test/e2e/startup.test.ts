import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MQIMG_BIN } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

const PRELOAD = fileURLToPath(new URL('../fixtures/list-cjs-modules.cjs', import.meta.url));

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
  it('mqimg --help loads neither sharp nor mqtt', () => {
    const loaded = loadedPackages(['--help']);
    expect(loaded).toContain('commander');
    expect(loaded).not.toContain('sharp');
    expect(loaded).not.toContain('mqtt');
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
});
