import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MQIMG_BIN, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/files.js';

/**
 * The example systemd units of docs/systemd (issue 23, running as a service): `systemd-analyze verify` finds
 * nothing to say about them (an unknown key is only a warning there, so its output must be empty too), and the
 * mqimg command each one runs parses with the settings the unit gives it. The units name /usr/local/bin/mqimg,
 * where `npm install -g` puts it; here that is the built binary, which verify wants to exist.
 */
const UNITS = fileURLToPath(new URL('../../docs/systemd/', import.meta.url));
const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;

function verify(unit: string, user = false): { status: number | null; output: string } {
  const dir = tempDir('mqimg-units-');
  const text = readFileSync(join(UNITS, unit), 'utf8').replaceAll('/usr/local/bin/mqimg', MQIMG_BIN);
  writeFileSync(join(dir, unit), text);
  const runtime = join(dir, 'runtime');
  mkdirSync(runtime);
  chmodSync(runtime, 0o700);
  const result = spawnSync('systemd-analyze', ['verify', ...(user ? ['--user'] : []), join(dir, unit)], {
    encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_PAGER: '' },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** The unit's ExecStart words after the program, and its Environment= settings (`%d`: a folder of credentials). */
function commandOf(unit: string, credentials: string): { args: string[]; env: Record<string, string> } {
  const text = readFileSync(join(UNITS, unit), 'utf8');
  const exec = /^ExecStart=\S+ (.*)$/m.exec(text)?.[1] ?? '';
  const env: Record<string, string> = {};
  for (const [, settings] of text.matchAll(/^Environment=(.*)$/gm))
    for (const setting of (settings ?? '').split(' ')) {
      const [name, ...value] = setting.split('=');
      if (name) env[name] = value.join('=').replace('%d', credentials);
    }
  return { args: exec.split(' '), env };
}

// In CI a missing systemd-analyze must fail, not skip.
describe.skipIf(!hasSystemd && process.env.CI !== 'true')('example systemd units', () => {
  it.each(['mqimg-receive.service', 'mqimg-display.service'])('%s passes systemd-analyze verify', (unit) => {
    expect(verify(unit)).toEqual({ status: 0, output: '' });
  });

  it('mqimg-kiosk.service passes systemd-analyze verify --user', () => {
    expect(verify('mqimg-kiosk.service', true)).toEqual({ status: 0, output: '' });
  });

  it('verify does catch a mistake (the check checks)', () => {
    const dir = tempDir('mqimg-units-');
    const bad = readFileSync(join(UNITS, 'mqimg-receive.service'), 'utf8')
      .replaceAll('/usr/local/bin/mqimg', MQIMG_BIN)
      .replace('Restart=', 'Restrt=');
    writeFileSync(join(dir, 'bad.service'), bad);
    const result = spawnSync('systemd-analyze', ['verify', join(dir, 'bad.service')], { encoding: 'utf8' });
    expect(result.stderr).toMatch(/Unknown key 'Restrt'/);
  });

  it.each(['mqimg-receive.service', 'mqimg-display.service'])(
    "%s's mqimg command parses with the unit's settings, the password from a file",
    async (unit) => {
      const credentials = tempDir('mqimg-credentials-');
      writeFileSync(join(credentials, 'mqimg-password'), 's3cret\n');
      const { args, env } = commandOf(unit, credentials);
      const text = readFileSync(join(UNITS, unit), 'utf8');
      expect(text).not.toMatch(/--password[ =]|-P /); // never on the command line
      const result = await runCli(args, { ...env, MQIMG_CHECK_ONLY: '1' });
      expect(result.code, result.stderr).toBe(0);
    },
  );
});
