import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built executable, run as a user runs it (`npm test` builds it first). */
export const MQIMG_BIN = fileURLToPath(new URL('../../dist/bin/mqimg.js', import.meta.url));
export const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `mqimg` child process. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout contains `text`. */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
}

/** Starts `node dist/bin/mqimg.js ...args`, with MQIMG_* variables cleared unless given in `env`. */
export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MQIMG_')));
  const child = spawn(process.execPath, [MQIMG_BIN, ...args], {
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners: Array<() => void> = [];
  child.stdout?.on('data', (d) => {
    stdout += d;
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForOutput(text, timeoutMs = 20_000) {
      const matches = () => (typeof text === 'string' ? stdout.includes(text) : text.test(stdout));
      return new Promise((resolve, reject) => {
        if (matches()) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${text} in stdout:\n${stdout}\nstderr:\n${stderr}`)),
          timeoutMs,
        );
        listeners.push(() => {
          if (matches()) {
            clearTimeout(timer);
            resolve();
          }
        });
        void done.then(() => {
          if (!matches()) {
            clearTimeout(timer);
            reject(new Error(`mqimg exited before printing ${text}; stdout:\n${stdout}\nstderr:\n${stderr}`));
          }
        });
      });
    },
  };
}

/** Runs `mqimg ...args` to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** The JSON events a `--json` process printed so far. */
export function cliEvents(proc: CliProcess): Record<string, unknown>[] {
  return proc
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Waits until a `--json` process printed an event whose fields include `match`, and returns it. */
export async function waitForEvent(
  proc: CliProcess,
  match: Record<string, unknown>,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = cliEvents(proc).find((e) => Object.entries(match).every(([k, v]) => e[k] === v));
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(`no event ${JSON.stringify(match)} in:\n${proc.stdout()}\n${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `mqimg receive` says it is subscribed ("receiving into ..." on stderr). */
export async function waitForReceiver(proc: CliProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!proc.stderr().includes('receiving into')) {
    if (Date.now() > deadline || proc.child.exitCode !== null)
      throw new Error(`the receiver did not start:\n${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
