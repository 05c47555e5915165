import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';

/**
 * Packaging (issue 14, item 10): `npm pack` from a clean tree (no dist/: the `prepack` script must build it),
 * installed into an empty folder as a user would, gives an `mqimg` that runs `--version` and the demo. The
 * packages come from npm's cache, which `npm ci` filled.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });

describe('the npm package', () => {
  it('packs from a clean tree, installs into an empty folder, and runs --version and the demo', {
    timeout: 300_000,
  }, () => {
    // A clean tree: the files git knows about (committed, or new and not ignored), without dist/.
    const tree = tempDir('mqimg-pack-tree-');
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\0')
      .filter((f) => f.length > 0 && !f.startsWith('dist/') && existsSync(join(ROOT, f)));
    for (const f of files) cpSync(join(ROOT, f), join(tree, f));
    expect(existsSync(join(tree, 'dist'))).toBe(false);
    symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir'); // tsc for the prepack build
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', tree], tree)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const [pack] = packed;
    const paths = pack?.files.map((f) => f.path) ?? [];
    expect(paths).toContain('dist/bin/mqimg.js');
    expect(paths).toContain('LICENSE');
    // Every source map points at a source file that is in the package.
    expect(paths.filter((p) => p.endsWith('.js.map')).length).toBeGreaterThan(0);
    expect(paths).toContain('src/bin/mqimg.ts');
    expect(paths).toContain('dist/man/mqimg.1'); // package.json "man": man mqimg after npm install -g

    const user = tempDir('mqimg-pack-user-');
    writeFileSync(join(user, 'package.json'), '{ "name": "user", "private": true }\n');
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(tree, pack?.filename ?? '')], user);
    const mqimg = join(user, 'node_modules', '.bin', 'mqimg');
    const version = spawnSync(mqimg, ['--version'], { encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    // A project-local install runs with npx, as README.md's Install says.
    const npx = spawnSync('npx', ['--no-install', 'mqimg', '--version'], { cwd: user, encoding: 'utf8' });
    expect(npx.status, npx.stderr).toBe(0);
    expect(npx.stdout.trim()).toBe(version.stdout.trim());
    const demoOut = join(user, 'demo-out');
    mkdirSync(demoOut);
    const demo = spawnSync(mqimg, ['demo', '--out', demoOut], { encoding: 'utf8', timeout: 120_000 });
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/(\d+) of \1 samples sent, received and verified byte for byte/);
    expect(readdirSync(demoOut).length).toBeGreaterThan(0);
  });
});
