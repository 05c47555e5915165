import type { Command, Option } from 'commander';
import { EXAMPLES } from './examples.js';

/** Text escaped for roff: backslashes, leading dots and apostrophes, and hyphens in option names. */
const roff = (text: string) =>
  text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');

/** One option as a man page `.TP` entry: its flags in bold, what it does, and its default. */
function optionEntry(option: Option): string {
  const defaultText =
    option.defaultValueDescription ??
    (option.defaultValue !== undefined && option.defaultValue !== false && option.defaultValue !== 0
      ? String(option.defaultValue)
      : undefined);
  const env = option.envVar ? ` Environment: ${option.envVar}.` : '';
  const choices = option.argChoices ? ` One of: ${option.argChoices.join(', ')}.` : '';
  const text = `${option.description}.${choices}${defaultText ? ` Default: ${defaultText}.` : ''}${env}`;
  return `.TP\n.B ${roff(option.flags)}\n${roff(text.replace(/\.\./g, '.'))}`;
}

/**
 * `man mqimg`: the page, in roff (man(7)), written from the same commander definitions as `--help`, with the
 * examples of each command. The build writes it to dist/man/mqimg.1, which package.json's "man" names.
 */
export function manPage(program: Command): string {
  const lines = [
    `.TH MQIMG 1 "" "mqimg ${program.version() ?? ''}" "User Commands"`,
    '.SH NAME',
    `mqimg \\- ${roff(program.description())}`,
    '.SH SYNOPSIS',
    '.B mqimg',
    '[\\-v] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]',
    '.SH DESCRIPTION',
    roff(
      'mqimg sends images over an MQTT broker in chunks, paced by the receivers, verified by SHA-256 and saved whole. Options of the program (-v, -d, --version) come before the command; each command takes its own options. Connection options follow mosquitto_pub and mosquitto_sub: -h host, -p port, -u user, -P password, -i client id, --cafile.',
    ),
  ];
  for (const command of program.commands) {
    const args = command.registeredArguments
      .map((a) =>
        a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}${a.variadic ? '...' : ''}]`,
      )
      .join(' ');
    lines.push(`.SH COMMAND: ${command.name().toUpperCase()}`);
    lines.push(
      `.B mqimg ${command.name()}`,
      roff(`${args} [options]`),
      '.PP',
      roff(`${command.description()}.`),
    );
    for (const option of command.options.filter((o) => !o.hidden)) lines.push(optionEntry(option));
    const examples = EXAMPLES[command.name()];
    if (examples) {
      lines.push('.PP', 'Examples:');
      for (const [line, what] of examples)
        lines.push('.PP', '.nf', `  ${roff(line)}`, '.fi', `${roff(what)}.`);
    }
  }
  lines.push(
    '.SH FILES',
    '.TP',
    '.I ~/.config/mqimg/config.json',
    roff(
      'connection defaults: url (one broker, or a list to fail over between), username, password-file, ca, cert, key, client-id. Options and MQIMG_* variables win.',
    ),
    '.TP',
    '.I ~/.config/mqimg/profiles.json',
    roff('display profiles for --profile (or the file $MQIMG_PROFILES names).'),
    '.SH EXIT STATUS',
    roff(
      '0 done; 1 internal error; 2 bad command line or value; 3 input file unusable; 4 broker unreachable, connection lost, or a subscription kept refused; 5 credentials refused or not authorised; 6 no receiver confirmed in time; 7 a receiver reported failure; 8 TLS failed; 130 interrupted.',
    ),
    '.SH SEE ALSO',
    'mosquitto_pub(1), mosquitto_sub(1)',
    '',
  );
  return lines.join('\n');
}
