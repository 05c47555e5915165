import { describe, expect, it } from 'vitest';
import { buildProgram, checkCommandLine, oneLineError } from '../../src/cli/program.js';

/** The command line before commander sees it, and commander's errors made one line (issue 23). */
const quiet = { result: () => {}, json: () => {}, info: () => {}, warn: () => {} };
const program = () => buildProgram({ output: quiet, signal: new AbortController().signal }, '1.2.3');

describe('checkCommandLine', () => {
  it('makes receive -q N the QoS and leaves -q alone as --quiet', () => {
    expect(checkCommandLine(program(), ['receive', '-o', 'x', '-q', '1'])).toEqual([
      'receive',
      '-o',
      'x',
      '--qos',
      '1',
    ]);
    expect(checkCommandLine(program(), ['-v', 'receive', '-q1'])).toEqual(['-v', 'receive', '--qos', '1']);
    expect(checkCommandLine(program(), ['receive', '-q', '-o', 'x'])).toEqual(['receive', '-q', '-o', 'x']);
    expect(checkCommandLine(program(), ['send', 'a.jpg', '-t', 'a', '-q'])).toEqual([
      'send',
      'a.jpg',
      '-t',
      'a',
      '-q',
    ]);
  });

  it('refuses -q N where there is no QoS to set, naming what to use', () => {
    for (const command of ['send', 'relay', 'clear'])
      expect(() => checkCommandLine(program(), [command, '-q', '1'])).toThrow(
        new RegExp(`^-q 1: mqimg ${command} has no QoS to set .*--quiet`),
      );
  });

  it('leaves what follows -- alone, and unknown options before the command to commander', () => {
    expect(checkCommandLine(program(), ['send', '-t', 'a', '--', '-q', '1'])).toEqual([
      'send',
      '-t',
      'a',
      '--',
      '-q',
      '1',
    ]);
    expect(checkCommandLine(program(), ['-x', 'send'])).toEqual(['-x', 'send']);
  });
});

describe('oneLineError', () => {
  it('turns commander errors into one mqimg line with where to read more', () => {
    expect(
      oneLineError(
        `error: option '--quality <1-100>' argument '0' is invalid. expected a whole number from 1 to 100, got "0".\n`,
        'mqimg send',
      ),
    ).toBe('mqimg: --quality 0: expected a whole number from 1 to 100, got "0" (see mqimg send --help)\n');
    expect(oneLineError(`error: unknown option '--halp'\n(Did you mean --help?)\n`, 'mqimg send')).toBe(
      "mqimg: unknown option '--halp'; did you mean --help? (see mqimg send --help)\n",
    );
    expect(
      oneLineError(
        `error: option '--ca, --cafile <file>' argument 'x' is invalid. Allowed choices are a, b.\n`,
        'm',
      ),
    ).toBe('mqimg: --cafile x: expected one of a, b (see m --help)\n');
  });
});
