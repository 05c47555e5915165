#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { z } from 'zod';
import { processOutput } from '../cli/output.js';
import { buildProgram } from '../cli/program.js';
import { ExitCode, MqimgError } from '../errors.js';

/** The executable: parse, run, and turn every outcome into an exit code. The only place that exits. */
async function main(): Promise<number> {
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(ExitCode.interrupted); // a second Ctrl-C: stop now
    interrupted = true;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const pkg = z
    .object({ version: z.string() })
    .parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')));
  const program = buildProgram({ output: processOutput, signal: controller.signal }, pkg.version);
  try {
    await program.parseAsync(process.argv);
    return interrupted ? ExitCode.interrupted : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the message (or the help/version text).
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof MqimgError) {
      if (error.code === 'interrupted' || interrupted) return ExitCode.interrupted;
      process.stderr.write(`mqimg: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(
      `mqimg: unexpected error (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return ExitCode.internal;
  }
}

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
  const debug = process.env.MQIMG_DEBUG === '1';
  if (debug) process.stderr.write(`mqimg debug: exiting with ${code}\n`);
  process.exitCode = code;
  // Do not wait for stray timers or sockets: everything that matters has been flushed by now. They are leaks all
  // the same, and MQIMG_DEBUG=1 names them.
  setTimeout(() => {
    if (debug) process.stderr.write(`mqimg debug: forcing the exit; still active: ${activeResources()}\n`);
    process.exit(code);
  }, 200).unref();
});
