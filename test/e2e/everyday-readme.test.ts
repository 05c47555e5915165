import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../src/cli/help/examples.js';
import { type CliProcess, runCli, SAMPLES, startCli, startReceiver } from '../helpers/cli.js';
import { tempDir, visibleFiles } from '../helpers/files.js';
import { freePort } from '../helpers/ports.js';

/**
 * README.md's examples as written (issue 23): every `mqimg ...` command line of its sh code blocks, and every
 * example of `--help`, is parsed and checked by the real binary (MQIMG_CHECK_ONLY=1 stops it just before the
 * command would run: it needs a broker.lan, a camera, an ESP32...), so that a README line whose options stop
 * existing, or whose values stop being valid, fails here. The ones that need only a broker and files run for real
 * below.
 */
const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** Shell words of `line` up to a pipe, `&&`, `;`, `&`, a redirection or a comment; quotes removed. */
function shellWords(line: string): string[][] {
  const commands: string[][] = [[]];
  let word: string | undefined;
  let quote: string | undefined;
  const end = () => {
    if (word !== undefined) commands.at(-1)?.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (quote) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) end();
    else if (c === '#' && word === undefined) break;
    else if (c === '|' || c === ';' || c === '&' || c === '>') {
      end();
      commands.push([]);
      if (c === '>') break; // the rest is where the output goes
      if (line[i + 1] === c) i++;
    } else word = (word ?? '') + c;
  }
  end();
  return commands.filter((words) => words.length > 0);
}

/** The `mqimg` command lines of README.md's sh code blocks, as argument lists after `mqimg`. */
function readmeCommands(): string[][] {
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks
    .flatMap((block) => block.split('\n'))
    .flatMap(shellWords)
    .filter((words) => words[0] === 'mqimg')
    .map((words) => words.slice(1));
}

describe("README.md's examples", () => {
  const home = tempDir('mqimg-readme-home-');
  const check = (args: string[]) => runCli(args, { MQIMG_CHECK_ONLY: '1', HOME: home, XDG_CONFIG_HOME: '' });

  it('finds the command lines it checks', () => {
    expect(shellWords(`mqimg receive --out ./frames --topic 'cam/+' --json | jq .`)).toEqual([
      ['mqimg', 'receive', '--out', './frames', '--topic', 'cam/+', '--json'],
      ['jq', '.'],
    ]);
    expect(shellWords('mqimg completion fish > ~/x.fish   # fish')).toEqual([
      ['mqimg', 'completion', 'fish'],
    ]);
    expect(readmeCommands().length).toBeGreaterThan(25);
  });

  it('every mqimg line of README.md parses, as written', async () => {
    const failures: string[] = [];
    for (const args of readmeCommands()) {
      const result = await check(args);
      if (result.code !== 0) failures.push(`mqimg ${args.join(' ')}: ${result.stderr.trim()}`);
    }
    expect(failures).toEqual([]);
  });

  it("every example at the end of a command's --help parses, as written", async () => {
    const failures: string[] = [];
    const lines = Object.values(EXAMPLES).flatMap((examples) => examples.map(([line]) => line));
    for (const words of lines.flatMap(shellWords).filter((w) => w[0] === 'mqimg')) {
      const result = await check(words.slice(1));
      if (result.code !== 0) failures.push(`${words.join(' ')}: ${result.stderr.trim()}`);
    }
    expect(failures).toEqual([]);
  });

  it('a line with a mistake fails the check (the check checks)', async () => {
    const result = await check(['send', 'photo.jpg', '--topik', 'cam/1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--topik'/);
  });
});

describe('README.md lines that need only a broker, run as written', () => {
  let broker: CliProcess;
  let port: number;
  const home = tempDir('mqimg-readme-home-');
  beforeAll(async () => {
    port = await freePort();
    broker = startCli(['broker', '--port', String(port)]);
    await broker.waitForOutput('listening');
  });
  afterAll(async () => {
    broker.child.kill('SIGINT');
    await broker.done;
  });

  it('the profiles snippet (mkdir -p, echo > profiles.json, send --profile frame)', async () => {
    const block = /```sh\n(# A TFT showing[\s\S]*?)```/.exec(README)?.[1] ?? '';
    const shellLines = block.split('\n').filter((l) => /^(mkdir|echo) /.test(l));
    expect(shellLines).toHaveLength(2);
    execFileSync('bash', ['-ec', shellLines.join('\n')], { env: { ...process.env, HOME: home } });
    const send = block.split('\n').find((l) => l.includes('--profile frame')) ?? '';
    const args = shellWords(send)[0]?.slice(1) ?? [];
    const out = tempDir();
    const env = { HOME: home, XDG_CONFIG_HOME: '', MQIMG_URL: `127.0.0.1:${port}` };
    const rx = await startReceiver(['-o', out, '--once', '-t', 'frame/kitchen'], env);
    const card = args.map((a) => (a === '*.jpg' ? join(SAMPLES, 'test-card.jpg') : a));
    const tx = await runCli(card, env);
    expect(tx.code, tx.stderr).toBe(0);
    expect((await rx.done).code).toBe(0);
    expect(visibleFiles(out)).toEqual(['test-card.jpg']);
  });

  it('mqimg -v, as Troubleshooting writes it', async () => {
    const result = await runCli(['-v', 'clear', '--topic', 'x', '--url', `127.0.0.1:${port}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/mqimg:/);
  });
});
