import { Command } from 'commander';
import { brokerCommand } from './commands/broker-command.js';
import { clearCommand } from './commands/clear-command.js';
import { demoCommand } from './commands/demo-command.js';
import { displayCommand } from './commands/display-command.js';
import { keygenCommand } from './commands/keygen-command.js';
import { receiveCommand } from './commands/receive-command.js';
import { relayCommand } from './commands/relay-command.js';
import { sendCommand } from './commands/send-command.js';
import type { RunContext } from './context.js';
import { debugLevelFromEnvironment, enableDebug } from './output/debug-log.js';
import { ERROR_PREFIX } from './output/output.js';

/** commander's argParser for a flag given several times: `-vv` is 2. */
const countRepeats = (_value: string, previous: number) => previous + 1;

/**
 * Every command-line error starts `mqimg: `, like the errors of running commands (commander's own say `error: `).
 */
const outputConfiguration = {
  outputError: (text: string, write: (text: string) => void) => write(text.replace(/^error: /, ERROR_PREFIX)),
};

/** The mqimg command line. Commands load their heavy modules (sharp, mqtt, aedes) only when they run. */
export function buildProgram(context: RunContext, version: string): Command {
  const program = new Command('mqimg')
    .description(
      'Move images over any MQTT broker: chunked, paced by receivers, verified by SHA-256, saved whole.',
    )
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput(outputConfiguration)
    .exitOverride();
  for (const command of [
    sendCommand(context),
    receiveCommand(context),
    clearCommand(context),
    relayCommand(context),
    brokerCommand(context),
    displayCommand(context),
    demoCommand(context),
    keygenCommand(context),
  ]) {
    command
      .option('-v, --verbose', 'debug output on stderr; -vv adds mqtt.js packet logs', countRepeats, 0)
      .showHelpAfterError('(run with --help for usage)')
      .configureOutput(outputConfiguration)
      .exitOverride();
    program.addCommand(command);
  }
  program.hook('preAction', async (_program, action) => {
    await enableDebug(
      Math.max(action.opts<{ verbose?: number }>().verbose ?? 0, debugLevelFromEnvironment()),
    );
  });
  return program;
}

/**
 * Refuses an unknown command before commander sees it: commander prints the main help and exits 0 for
 * `mqimg show --help`, as if `show` were fine. `args` are the arguments after `node mqimg.js`.
 */
export function checkCommandName(program: Command, args: readonly string[]): void {
  const name = args.find((arg) => !arg.startsWith('-'));
  if (name === undefined || name === 'help') return;
  const known = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  if (known.includes(name)) return;
  program.error(`${ERROR_PREFIX}unknown command '${name}' (commands: ${known.join(', ')})`, {
    code: 'commander.unknownCommand',
    exitCode: 2,
  });
}
