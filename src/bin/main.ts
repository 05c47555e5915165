import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { debugLevelFromEnvironment, debugLog, enableDebug } from '../cli/output/debug-log.js';
import { ERROR_PREFIX, processOutput } from '../cli/output/output.js';
import { buildProgram, checkCommandLine } from '../cli/program.js';
import { ExitCode, MqimgError } from '../errors.js';

/** package.json's version, written in by scripts/build-cli.mjs; not defined in tsc's output or the sources. */
declare const MQIMG_VERSION: string | undefined;

/** mqimg's version: built in, or read from its package.json (two folders up, from dist/bin/ as from src/bin/). */
function packageVersion(): string {
  if (typeof MQIMG_VERSION === 'string') return MQIMG_VERSION;
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const version =
    typeof pkg === 'object' && pkg !== null ? (pkg as { version?: unknown }).version : undefined;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}

/** The executable: parse, run, and turn every outcome into an exit code. The only place that exits. */
async function main(): Promise<number> {
  await enableDebug(debugLevelFromEnvironment()); // MQIMG_DEBUG=1, the older switch, is `-v`
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(ExitCode.interrupted); // a second Ctrl-C: stop now
    interrupted = true;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const program = buildProgram({ output: processOutput, signal: controller.signal }, packageVersion());
  // With --json, the end of a failed command is a JSON line on stdout too, for the script reading it.
  const json = process.argv.includes('--json');
  const failed = (code: string, message: string, exitCode: number, details: object = {}) => {
    if (json) processOutput.json({ event: 'failed', ...details, code, message, exitCode });
    return exitCode;
  };
  const stopped = () => {
    if (json) processOutput.json({ event: 'interrupted', exitCode: ExitCode.interrupted });
    return ExitCode.interrupted;
  };
  try {
    const args = checkCommandLine(program, process.argv.slice(2));
    await program.parseAsync(args, { from: 'user' });
    return interrupted ? stopped() : ExitCode.ok;
  } catch (thrown) {
    // A connection error is made plainer (what the port speaks, the option the user gave): only then is it loaded.
    const error =
      thrown instanceof MqimgError && [ExitCode.connection, ExitCode.tls].includes(thrown.exitCode as 4)
        ? await (await import('../cli/options/broker-diagnosis.js')).explainConnectionError(thrown)
        : thrown;
    if (error instanceof CommanderError) {
      // commander already printed the message (or the help/version text).
      if (error.exitCode === 0) return ExitCode.ok;
      return failed('usage', error.message.replace(/^(error|mqimg): /, ''), ExitCode.usage);
    }
    if (error instanceof MqimgError) {
      if (error.code === 'interrupted' || interrupted) return stopped();
      process.stderr.write(`${ERROR_PREFIX}${error.message}\n`);
      return failed(error.code, error.message, error.exitCode, error.details);
    }
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`${ERROR_PREFIX}unexpected error (please report it): ${text}\n`);
    return failed('internal', error instanceof Error ? error.message : String(error), ExitCode.internal);
  }
}

// `mqimg completion bash | head`: a reader that stops early is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(ExitCode.ok);
  throw error;
});

let settled = false;
// If the event loop empties while a command is still waiting (a promise nothing will resolve), Node would exit
// with code 0 as if it had succeeded. Make that an internal error instead.
process.on('beforeExit', () => {
  if (settled) return;
  process.stderr.write(
    'mqimg: internal error: the command stopped waiting without finishing (please report it)\n',
  );
  process.exit(ExitCode.internal);
});

/** `Timeout x2, TCPSocketWrap`: what still keeps the event loop alive, by kind. */
function activeResources(): string {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => (n > 1 ? `${kind} x${n}` : kind)).join(', ') || 'nothing';
}

main().then((code) => {
  settled = true;
  debugLog.exit('exiting with %d', code);
  process.exitCode = code;
  // Do not wait for stray timers or sockets: everything that matters has been flushed by now. They are leaks all
  // the same, and -v (or MQIMG_DEBUG=1) names them.
  setTimeout(() => {
    if (debugLog.exit.enabled) debugLog.exit('forcing the exit; still active: %s', activeResources());
    process.exit(code);
  }, 200).unref();
});
