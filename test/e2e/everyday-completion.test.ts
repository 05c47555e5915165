import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/files.js';

/**
 * `mqimg completion bash|zsh|fish` and the man page (issue 23), written from the command definitions: the bash
 * script is loaded into a real bash and asked what it completes.
 */
async function bashCompletes(words: string[]): Promise<string[]> {
  const script = join(tempDir(), 'mqimg.bash');
  const result = await runCli(['completion', 'bash']);
  expect(result.code, result.stderr).toBe(0);
  writeFileSync(script, result.stdout);
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source '${script}'; COMP_WORDS=(${quoted}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _mqimg; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8', cwd: join(import.meta.dirname, '../..') },
  );
  return out.split('\n').filter(Boolean);
}

describe('shell completion', () => {
  it('bash completes commands (also after -v), options, choices and files', async () => {
    expect(await bashCompletes(['mqimg', 'se'])).toEqual(['send']);
    expect(await bashCompletes(['mqimg', '-v', 're'])).toEqual(['receive', 'relay']);
    expect(await bashCompletes(['mqimg', 'send', '--for'])).toEqual(['--format']);
    expect(await bashCompletes(['mqimg', 'send', '--format', 'o'])).toEqual(['original']);
    expect(await bashCompletes(['mqimg', 'send', '-t', 'cam/1', 'samples/test-c'])).toEqual([
      'samples/test-card.jpg',
    ]);
    expect(await bashCompletes(['mqimg', 'receive', '--cafi'])).toEqual(['--cafile']);
    expect(await bashCompletes(['mqimg', 'completion', 'z'])).toEqual(['zsh']);
  });

  it('zsh and fish scripts name every command and option of send', async () => {
    const help = (await runCli(['send', '--help'])).stdout;
    const longOptions = [...help.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z0-9-]+)/gm)].map((m) => m[1] ?? '');
    const zsh = (await runCli(['completion', 'zsh'])).stdout;
    const fish = (await runCli(['completion', 'fish'])).stdout;
    expect(zsh).toMatch(/^#compdef mqimg\n/);
    expect(zsh).toMatch(/'send:prepare images and send them/);
    expect(fish).toMatch(/complete -c mqimg -n __fish_use_subcommand -a send -d /);
    expect(longOptions).toContain('--retain');
    for (const option of new Set(longOptions.filter((o) => o !== '--help' && !o.startsWith('--no-')))) {
      expect(zsh, option).toContain(`'${option}[`);
      expect(fish, option).toMatch(
        new RegExp(`__fish_seen_subcommand_from send' .*-l ${option.slice(2)}\\b`),
      );
    }
  });

  const has = (shell: string) => spawnSync(shell, ['--version']).status === 0;
  // In CI a missing shell must fail, not skip (.ci/run installs them).
  it.skipIf(!has('fish') && process.env.CI !== 'true')(
    'fish completes commands, options and choices',
    async () => {
      const script = join(tempDir(), 'mqimg.fish');
      writeFileSync(script, (await runCli(['completion', 'fish'])).stdout);
      const complete = (line: string) =>
        execFileSync('fish', ['-c', `source '${script}'; complete -C '${line}'`], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('\t')[0]);
      expect(complete('mqimg se')).toEqual(['send']);
      expect(complete('mqimg send --for')).toEqual(['--format']);
      expect(complete('mqimg send --format o')).toEqual(['original']);
      expect(complete('mqimg completion z')).toEqual(['zsh']);
    },
  );

  it.skipIf(!has('zsh') && process.env.CI !== 'true')(
    'zsh loads the script from $fpath for mqimg',
    async () => {
      const dir = tempDir();
      writeFileSync(join(dir, '_mqimg'), (await runCli(['completion', 'zsh'])).stdout);
      execFileSync('zsh', ['-n', join(dir, '_mqimg')]);
      const registered = execFileSync(
        'zsh',
        [
          '-f',
          '-c',
          `fpath=('${dir}' $fpath); autoload -U compinit; compinit -u -D; print -r -- $_comps[mqimg]`,
        ],
        { encoding: 'utf8', env: { ...process.env, HOME: dir } },
      );
      expect(registered.trim()).toBe('_mqimg');
    },
  );

  it('a shell nobody asked for is one line, exit 2', async () => {
    const result = await runCli(['completion', 'powershell']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^mqimg: .*powershell.*bash, zsh, fish, man/);
  });
});

describe('man page', () => {
  it('is roff that man renders, with every command, the connection options and the examples', async () => {
    const page = await runCli(['completion', 'man']);
    expect(page.code, page.stderr).toBe(0);
    const file = join(tempDir(), 'mqimg.1');
    writeFileSync(file, page.stdout);
    const text = execFileSync('man', ['-l', '-P', 'cat', file], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '100', LC_ALL: 'C.UTF-8' },
    });
    for (const heading of ['NAME', 'SYNOPSIS', 'COMMAND: SEND', 'COMMAND: RECEIVE', 'EXIT STATUS'])
      expect(text).toContain(heading);
    expect(text).toMatch(/-u, --username <name>/);
    expect(text).toMatch(/mqimg send IMG_5195\.HEIC -t cam\/1 --format original/);
  });
});
