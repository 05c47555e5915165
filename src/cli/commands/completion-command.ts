import { Argument, Command } from 'commander';
import type { RunContext } from '../context.js';
import { bashCompletion, fishCompletion, zshCompletion } from '../help/completion.js';
import { manPage } from '../help/man-page.js';

/** `mqimg completion bash|zsh|fish` and `mqimg completion man`: written from the command definitions. */
export function completionCommand(context: RunContext, program: Command): Command {
  return new Command('completion')
    .description('print a shell completion script (bash, zsh, fish), or the man page (man), for mqimg')
    .addArgument(
      new Argument('<shell>', 'bash, zsh or fish; man for the man page').choices([
        'bash',
        'zsh',
        'fish',
        'man',
      ]),
    )
    .action((shell: 'bash' | 'zsh' | 'fish' | 'man') => {
      const text =
        shell === 'bash'
          ? bashCompletion(program)
          : shell === 'zsh'
            ? zshCompletion(program)
            : shell === 'fish'
              ? fishCompletion(program)
              : manPage(program);
      context.output.result(text.replace(/\n$/, ''));
    });
}
