import { Command, CommanderError, type Option } from 'commander';
import { UsageError } from '../errors.js';
import { nearestName } from '../util/nearest-name.js';
import { brokerCommand } from './commands/broker-command.js';
import { clearCommand } from './commands/clear-command.js';
import { completionCommand } from './commands/completion-command.js';
import { demoCommand } from './commands/demo-command.js';
import { displayCommand } from './commands/display-command.js';
import { keygenCommand } from './commands/keygen-command.js';
import { receiveCommand } from './commands/receive-command.js';
import { relayCommand } from './commands/relay-command.js';
import { sendCommand } from './commands/send-command.js';
import type { RunContext } from './context.js';
import { examplesOf } from './help/examples.js';
import { debugLevelFromEnvironment, enableDebug } from './output/debug-log.js';
import { ERROR_PREFIX } from './output/output.js';

/** commander's argParser for a flag given several times: `-vv` is 2. */
const countRepeats = (_value: string, previous: number) => previous + 1;

/**
 * commander's error `text` as mqimg prints every error: one line starting `mqimg: ` (commander's own say `error: `),
 * a bad value as `--quality 0: expected ...`, commander's "Did you mean" on the same line, and where to read more.
 */
export function oneLineError(text: string, helpCommand: string): string {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/^mqimg: /, '')
    .replace(
      /^option '(?:-\w, )?(--?[\w-]+)(?:, (--[\w-]+))? [<[][^>\]]*[>\]]' argument '([^']*)' is invalid\. /,
      (_all, first: string, second: string | undefined, value: string) => `${second ?? first} ${value}: `,
    )
    .replace(/Allowed choices are /, 'expected one of ')
    .replace(
      /^option '-h, --host <[^>]+>' argument missing$/,
      "-h is the broker's host here, as in mosquitto_pub/sub, and needs one: -h HOST; help is --help",
    )
    .replace(/\.$/, '')
    .replace(/\s*\n\(Did you mean (.*)\?\)$/, '; did you mean $1?');
  return `${ERROR_PREFIX}${message.replace(/\n/g, ' ')} (see ${helpCommand} --help)\n`;
}

/** Where a command's command-line errors go: `oneLineError`s on stderr. */
const outputConfiguration = (helpCommand: string) => ({
  outputError: (text: string, write: (text: string) => void) => write(oneLineError(text, helpCommand)),
});

/** `-v`/`--verbose` and mosquitto's `-d`/`--debug`, which mean the same: on the program and on every command. */
function addDebugOptions(command: Command): Command {
  return command
    .option('-v, --verbose', 'debug output on stderr; -vv adds mqtt.js packet logs', countRepeats, 0)
    .option('-d, --debug', "same as -v (mosquitto's name)", countRepeats, 0);
}

/** The debug level `command`'s options ask for: `-v` and `-d` together (`-vv` or `-v -d` is 2). */
const debugLevel = (command: Command) => {
  const { verbose = 0, debug = 0 } = command.opts<{ verbose?: number; debug?: number }>();
  return verbose + debug;
};

/**
 * Makes `command`'s required options checked after its unknown options: commander checks required ones first,
 * so that `send --halp` said the topic was missing instead of suggesting `--help`.
 */
function checkRequiredLast(command: Command): void {
  const required = command.options.filter((o) => o.mandatory);
  for (const option of required) option.makeOptionMandatory(false);
  command.hook('preAction', (self) => {
    const missing = required.find((o: Option) => self.getOptionValue(o.attributeName()) === undefined);
    if (missing) self.error(`error: required option '${missing.flags}' not specified`, { exitCode: 2 });
  });
}

/** The mqimg command line. Commands load their heavy modules (sharp, mqtt, aedes) only when they run. */
export function buildProgram(context: RunContext, version: string): Command {
  const program = addDebugOptions(
    new Command('mqimg')
      .description(
        'Move images over any MQTT broker: chunked, paced by receivers, verified by SHA-256, saved whole.',
      )
      .version(version, '-V, --version', 'print the version and exit')
      .usage('[-v] <command> [options]'),
  )
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .configureOutput(outputConfiguration('mqimg'))
    .exitOverride();
  program.addHelpText(
    'after',
    `\nmqimg ${version}. Run mqimg COMMAND --help for a command's options and examples.`,
  );
  for (const command of [
    sendCommand(context),
    receiveCommand(context),
    clearCommand(context),
    relayCommand(context),
    brokerCommand(context),
    displayCommand(context),
    demoCommand(context),
    keygenCommand(context),
    completionCommand(context, program),
  ]) {
    addDebugOptions(command)
      .helpOption('--help', 'display help for command')
      .showSuggestionAfterError(true)
      .configureOutput(outputConfiguration(`mqimg ${command.name()}`))
      .exitOverride();
    checkRequiredLast(command);
    // MQIMG_CHECK_ONLY=1: parse and check the command line, then stop before the command runs (exit 0). The test
    // of README.md's examples runs every one of them this way (test/e2e/everyday-readme.test.ts).
    if (process.env.MQIMG_CHECK_ONLY === '1')
      command.hook('preAction', () => {
        throw new CommanderError(0, 'mqimg.checkOnly', '');
      });
    const examples = examplesOf(command.name());
    if (examples) command.addHelpText('after', `\nExamples:\n${examples}`);
    program.addCommand(command);
  }
  program.hook('preAction', async (_program, action) => {
    await enableDebug(Math.max(debugLevel(program) + debugLevel(action), debugLevelFromEnvironment()));
  });
  return program;
}

/**
 * Checks the command line before commander sees it, and returns it with mosquitto's `-q N` made plain: refuses an
 * unknown command with the nearest known one (commander prints the main help and exits 0 for `mqimg show --help`,
 * as if `show` were fine). `-q` followed by a number is mosquitto's QoS: on `receive` it is `--qos N`; the other
 * commands have no QoS to set, and say so, instead of taking `1` as an image. `args` are the arguments after
 * `node mqimg.js`.
 */
export function checkCommandLine(program: Command, args: readonly string[]): string[] {
  // The program's own options come first (`mqimg -v send`) and take no value: the command is the first word.
  const at = args.findIndex((arg) => !arg.startsWith('-'));
  const name = args[at];
  if (name === undefined || name === 'help') return [...args];
  const known = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  if (!known.includes(name)) {
    const near = nearestName(name, known);
    program.error(
      `${ERROR_PREFIX}unknown command '${name}'${near ? `: did you mean ${near}?` : ''} (commands: ${known.join(', ')})`,
      { code: 'commander.unknownCommand', exitCode: 2 },
    );
  }
  const out = [...args];
  for (let i = at + 1; i < out.length; i++) {
    if (out[i] === '--') break;
    const qos = /^-q(\d)?$/.exec(out[i] ?? '');
    if (!qos) continue;
    const level = qos[1] ?? (/^\d+$/.test(out[i + 1] ?? '') ? out[i + 1] : undefined);
    if (level === undefined) continue; // -q alone: --quiet
    if (name === 'receive') {
      out.splice(i, qos[1] === undefined ? 2 : 1, '--qos', level);
      continue;
    }
    throw new UsageError(
      `-q ${level}: mqimg ${name} has no QoS to set (every chunk is confirmed end to end by the receivers, whatever the QoS); drop it. -q alone, or --quiet, hides messages; receive -q 0|1 sets the QoS of its subscription`,
    );
  }
  return out;
}
