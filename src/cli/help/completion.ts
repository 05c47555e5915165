// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell scripts, whose ${...} is the shell's
import type { Command, Option } from 'commander';

/**
 * Shell completion scripts for bash, zsh and fish, written from the commander definitions themselves (the same
 * ones `--help` prints), so that a new option completes without anyone editing a script.
 */

/** What an option's value is, from its placeholder: a folder, a file, one of a list, or free text. */
type ValueKind =
  | { kind: 'none' }
  | { kind: 'dir' }
  | { kind: 'file' }
  | { kind: 'choice'; choices: string[] };

function valueKindOf(option: Option): ValueKind {
  if (!option.required && !option.optional) return { kind: 'none' };
  if (option.argChoices) return { kind: 'choice', choices: option.argChoices };
  const placeholder = /<([^>]+)>|\[([^\]]+)\]/.exec(option.flags)?.slice(1).find(Boolean) ?? '';
  if (/^dir$/.test(placeholder)) return { kind: 'dir' };
  if (/file|path/.test(placeholder)) return { kind: 'file' };
  return { kind: 'choice', choices: [] };
}

/** Every flag of an option: `-t`, `--topic`, and for `--ca, --cafile` both long ones. */
function flagsOf(option: Option): string[] {
  return [option.short, option.long].filter((f): f is string => f !== undefined);
}

/** The options of `command` that help shows, and `--help`. */
function visibleOptions(command: Command): Option[] {
  return command.options.filter((o) => !o.hidden);
}

/** Whether `command` takes files as arguments (send's `[image...]`), or nothing. */
function takesFiles(command: Command): boolean {
  return command.registeredArguments.some((a) => /image|file/.test(a.name()));
}

const words = (list: string[]) => list.join(' ');

/** The bash script: `source <(mqimg completion bash)`. */
export function bashCompletion(program: Command): string {
  const commands = program.commands.map((c) => c.name());
  const lines = [
    '# bash completion for mqimg (mqimg completion bash)',
    '_mqimg() {',
    '  local cur prev cmd i',
    '  cur="${COMP_WORDS[COMP_CWORD]}"',
    '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  cmd=""',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case "${COMP_WORDS[i]}" in',
    `      ${commands.join('|')}) cmd="\${COMP_WORDS[i]}"; break ;;`,
    '    esac',
    '  done',
    '  if [[ -z "$cmd" ]]; then',
    `    COMPREPLY=($(compgen -W "${words([...commands, ...visibleOptions(program).flatMap(flagsOf), '--help'])}" -- "$cur"))`,
    '    return',
    '  fi',
    '  local opts="" args="" files=0',
    '  case "$cmd" in',
  ];
  for (const command of program.commands) {
    const options = visibleOptions(command);
    lines.push(`    ${command.name()})`);
    lines.push(`      opts="${words([...options.flatMap(flagsOf), '--help'])}"`);
    if (takesFiles(command)) lines.push('      files=1');
    const choices = command.registeredArguments.flatMap((a) => a.argChoices ?? []);
    if (choices.length > 0) lines.push(`      args="${words(choices)}"`);
    lines.push('      case "$prev" in');
    for (const option of options) {
      const value = valueKindOf(option);
      if (value.kind === 'none') continue;
      const reply =
        value.kind === 'dir'
          ? 'COMPREPLY=($(compgen -d -- "$cur"))'
          : value.kind === 'file'
            ? 'COMPREPLY=($(compgen -f -- "$cur"))'
            : `COMPREPLY=($(compgen -W "${words(value.choices)}" -- "$cur"))`;
      lines.push(`        ${flagsOf(option).join('|')}) ${reply}; return ;;`);
    }
    lines.push('      esac', '      ;;');
  }
  lines.push(
    '  esac',
    '  if [[ "$cur" != -* && -n "$args" ]]; then',
    '    COMPREPLY=($(compgen -W "$args" -- "$cur"))',
    '  elif [[ "$cur" == -* || $files -eq 0 ]]; then',
    '    COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
    '  else',
    '    COMPREPLY=($(compgen -f -- "$cur"))',
    '  fi',
    '}',
    'complete -o filenames -F _mqimg mqimg',
    '',
  );
  return lines.join('\n');
}

/** Text safe inside a zsh `_arguments` description (`[...]`) in single quotes. */
const zshText = (text: string) => text.replace(/[[\]:'\\]/g, ' ').replace(/\s+/g, ' ');

/** The zsh script: save it as `_mqimg` in a folder of `$fpath`. */
export function zshCompletion(program: Command): string {
  const lines = [
    '#compdef mqimg',
    '# zsh completion for mqimg (mqimg completion zsh)',
    '_mqimg() {',
    '  local -a commands',
    '  commands=(',
    ...program.commands.map((c) => `    '${c.name()}:${zshText(c.description())}'`),
    '  )',
    '  local cmd=${${(M)words[2,CURRENT-1]:#[^-]*}[1]}',
    '  if [[ -z $cmd ]]; then',
    "    _describe 'command' commands",
    '    return',
    '  fi',
    '  local at=${words[(i)$cmd]}',
    '  shift $((at - 1)) words',
    '  (( CURRENT -= at - 1 ))',
    '  case $cmd in',
  ];
  for (const command of program.commands) {
    const specs = visibleOptions(command).flatMap((option) => {
      const value = valueKindOf(option);
      const action =
        value.kind === 'none'
          ? ''
          : value.kind === 'dir'
            ? ':dir:_files -/'
            : value.kind === 'file'
              ? ':file:_files'
              : value.choices.length > 0
                ? `:value:(${value.choices.join(' ')})`
                : ':value:';
      return flagsOf(option).map((flag) => `'${flag}[${zshText(option.description)}]${action}'`);
    });
    if (takesFiles(command)) specs.push("'*:file:_files'");
    const choices = command.registeredArguments.flatMap((a) => a.argChoices ?? []);
    if (choices.length > 0) specs.push(`':argument:(${choices.join(' ')})'`);
    lines.push(`    ${command.name()}) _arguments ${specs.join(' ')} ;;`);
  }
  lines.push(
    '  esac',
    '}',
    'if [[ $funcstack[1] == _mqimg ]]; then _mqimg "$@"; else compdef _mqimg mqimg; fi',
    '',
  );
  return lines.join('\n');
}

/** Text safe in single quotes in fish. */
const fishText = (text: string) => text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

/** The fish script: save it as `~/.config/fish/completions/mqimg.fish`. */
export function fishCompletion(program: Command): string {
  const lines = ['# fish completion for mqimg (mqimg completion fish)', 'complete -c mqimg -f'];
  for (const command of program.commands)
    lines.push(
      `complete -c mqimg -n __fish_use_subcommand -a ${command.name()} -d '${fishText(command.description())}'`,
    );
  for (const command of program.commands) {
    const when = `-n '__fish_seen_subcommand_from ${command.name()}'`;
    for (const option of visibleOptions(command)) {
      const value = valueKindOf(option);
      const flags = flagsOf(option)
        .map((f) => (/^--/.test(f) ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`))
        .join(' ');
      const arg =
        value.kind === 'none'
          ? ''
          : value.kind === 'dir'
            ? " -r -a '(__fish_complete_directories)'"
            : value.kind === 'file'
              ? ' -r -F'
              : value.choices.length > 0
                ? ` -r -f -a '${value.choices.join(' ')}'`
                : ' -r -f';
      lines.push(`complete -c mqimg ${when} ${flags}${arg} -d '${fishText(option.description)}'`);
    }
    if (takesFiles(command)) lines.push(`complete -c mqimg ${when} -F`);
    const choices = command.registeredArguments.flatMap((a) => a.argChoices ?? []);
    if (choices.length > 0) lines.push(`complete -c mqimg ${when} -f -a '${choices.join(' ')}'`);
  }
  lines.push('');
  return lines.join('\n');
}
