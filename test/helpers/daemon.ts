import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForPort } from './ports.js';

/** A server process a test started in the foreground (Mosquitto, HAProxy), with what it printed. */
export interface Daemon {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** Everything it wrote to stdout and stderr so far. */
  log(): string;
  /** SIGTERM, then SIGKILL after `graceMs` milliseconds (default 3000); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs `binary args` and waits until it listens on `port` (at most `startTimeoutMs`, default 10,000 ms); throws
 * with its output, and kills it, when it exits first or never listens. `name` names it in that error.
 */
export async function startDaemon(
  name: string,
  binary: string,
  args: string[],
  port: number,
  startTimeoutMs?: number,
): Promise<Daemon> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  try {
    await Promise.race([
      waitForPort(port, startTimeoutMs),
      exited.then(() => {
        throw new Error(`${name} exited at start: ${output}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    child,
    exited,
    log: () => output,
    async stop(graceMs = 3000) {
      if (!running()) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(graceMs)]);
      if (running()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
