import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jsonLines } from './files.js';
import { waitUntil } from './wait.js';

/** The built executable, run as a user runs it (`npm test` builds it first). */
export const MQIMG_BIN = fileURLToPath(new URL('../../dist/bin/mqimg.js', import.meta.url));
export const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** What a wait looks for in a stream: a substring, a pattern, or a test of everything printed so far. */
export type OutputMatch = string | RegExp | ((text: string) => boolean);

/** A running `mqimg` child process. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout matches `text`; rejects if the process exits first or after `timeoutMs`. */
  waitForOutput(text: OutputMatch, timeoutMs?: number): Promise<void>;
  /** Resolves when stderr matches `text`; rejects if the process exits first or after `timeoutMs`. */
  waitForStderr(text: OutputMatch, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
}

const matcher = (text: OutputMatch) => (output: string) =>
  typeof text === 'string'
    ? output.includes(text)
    : text instanceof RegExp
      ? text.test(output)
      : text(output);

/** Starts `node dist/bin/mqimg.js ...args`, with MQIMG_* variables cleared unless given in `env`. */
export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MQIMG_')));
  const child = spawn(process.execPath, [MQIMG_BIN, ...args], {
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of listeners) l();
  };
  child.stdout?.on('data', (d) => {
    out.stdout += d;
    notify();
  });
  child.stderr?.on('data', (d) => {
    out.stderr += d;
    notify();
  });
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, ...out }));
  });
  const waitFor = (stream: 'stdout' | 'stderr', text: OutputMatch, timeoutMs = 20_000) => {
    const matches = () => matcher(text)(out[stream]);
    const context = () =>
      `${text} in ${stream} of mqimg ${args.join(' ')}\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`;
    return new Promise<void>((resolve, reject) => {
      if (matches()) return resolve();
      const finish = (error?: Error) => {
        clearTimeout(timer);
        listeners.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (matches()) finish();
      };
      const timer = setTimeout(
        () => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${context()}`)),
        timeoutMs,
      );
      listeners.add(check);
      void done.then(() => {
        if (matches()) finish();
        else finish(new Error(`mqimg exited before printing ${context()}`));
      });
    });
  };
  return {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    done,
    waitForOutput: (text, timeoutMs) => waitFor('stdout', text, timeoutMs),
    waitForStderr: (text, timeoutMs) => waitFor('stderr', text, timeoutMs),
  };
}

/** Runs `mqimg ...args` to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** The JSON events a `--json` process printed so far. */
export function cliEvents(proc: CliProcess): Record<string, unknown>[] {
  return jsonLines(proc.stdout());
}

/** Waits until a `--json` process printed an event whose fields include `match`, and returns it. */
export async function waitForEvent(
  proc: CliProcess,
  match: Record<string, unknown>,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  return waitUntil(
    `an event ${JSON.stringify(match)}`,
    () => cliEvents(proc).find((e) => Object.entries(match).every(([k, v]) => e[k] === v)),
    { timeoutMs, describe: () => `stdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}` },
  );
}

/**
 * Waits until `mqimg receive` says it is subscribed ("receiving into ..." on stderr, printed once the broker has
 * acknowledged its subscriptions): from then on, nothing published on its topics is missed.
 */
export function waitForReceiver(proc: CliProcess, timeoutMs = 20_000): Promise<void> {
  return proc.waitForStderr('receiving into', timeoutMs);
}

/** Starts `mqimg receive ...args` and resolves once it is subscribed (see `waitForReceiver`). */
export async function startReceiver(args: string[], env: Record<string, string> = {}): Promise<CliProcess> {
  const rx = startCli(['receive', ...args], env);
  try {
    await waitForReceiver(rx);
  } catch (error) {
    rx.child.kill('SIGKILL');
    throw error;
  }
  return rx;
}
