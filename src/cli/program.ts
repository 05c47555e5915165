import { Command } from 'commander';
import { brokerCommand } from './broker-command.js';
import type { RunContext } from './context.js';
import { demoCommand } from './demo-command.js';
import { keygenCommand } from './keygen-command.js';
import { receiveCommand } from './receive-command.js';
import { relayCommand } from './relay-command.js';
import { sendCommand } from './send-command.js';

/** The mqimg command line. Commands load their heavy modules (sharp, mqtt, aedes) only when they run. */
export function buildProgram(context: RunContext, version: string): Command {
  const program = new Command('mqimg')
    .description(
      'Move images over any MQTT broker: chunked, paced by receivers, verified by SHA-256, saved whole.',
    )
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const command of [
    sendCommand(context),
    receiveCommand(context),
    relayCommand(context),
    brokerCommand(context),
    demoCommand(context),
    keygenCommand(context),
  ]) {
    program.addCommand(command.exitOverride());
  }
  return program;
}
