import type { MultiBar, Options, Params, SingleBar } from 'cli-progress';
import type { Output } from './output.js';
import { type BarText, fitProgressLine } from './progress-line.js';

export type { BarText } from './progress-line.js';

/** How often the bars are redrawn at most, in milliseconds: 200. */
const REDRAW_MS = 200;

/**
 * True when a progress display belongs on `stream` (stderr): it is a terminal, and neither `--json` nor `--quiet`
 * asked for quiet machine output. On a pipe, in a file or under CI there is none.
 */
export function progressWanted(
  flags: { json?: boolean; quiet?: boolean },
  stream: { isTTY?: boolean } = process.stderr,
): boolean {
  return stream.isTTY === true && !flags.json && !flags.quiet && process.env.TERM !== 'dumb';
}

/**
 * Progress bars on a terminal (cli-progress), one per transfer in progress, on stderr. Lines printed while bars
 * show go above them (`output`), so that the bars never tear a line.
 */
export class ProgressBars {
  private readonly bars = new Map<string, SingleBar>();
  private stopped = false;
  /** The lines of `base`, printed above the bars while they show. */
  readonly output: Output;

  private constructor(
    private readonly multibar: MultiBar,
    base: Output,
    stdoutIsTerminal: boolean,
  ) {
    const above = (write: (line: string) => void) => (line: string) => {
      if (this.bars.size === 0) return write(line);
      this.multibar.log(`${line}\n`);
      this.multibar.update();
    };
    this.output = {
      // Results stay on stdout when it is a pipe or a file; on the same terminal they go above the bars.
      result: stdoutIsTerminal ? above(base.result) : base.result,
      json: base.json,
      info: above(base.info),
      warn: above(base.warn),
    };
  }

  /** Loads cli-progress (only when a display is wanted: it is not needed otherwise) and prepares the bars. */
  static async start(base: Output, stream: NodeJS.WriteStream = process.stderr): Promise<ProgressBars> {
    const { default: cliProgress } = await import('cli-progress');
    // The line fits the terminal as it is now (it may be resized), one column short of it: a line that fills the
    // last column makes some terminals wrap.
    const format = (_options: Options, params: Params, payload: BarText) =>
      fitProgressLine(payload, params.progress, Math.max(20, (stream.columns || 80) - 1));
    const multibar = new cliProgress.MultiBar({
      stream,
      format,
      hideCursor: true,
      clearOnComplete: true,
      linewrap: false,
      fps: 1000 / REDRAW_MS,
      autopadding: true,
    });
    return new ProgressBars(multibar, base, process.stdout.isTTY === true);
  }

  /** Stops the bars when `signal` aborts (Ctrl-C), before the command's own shutdown, which may take a moment. */
  stopOn(signal: AbortSignal): this {
    signal.addEventListener('abort', () => this.stop(), { once: true });
    return this;
  }

  /** Shows (or moves) the bar of `key` at `value` of `total`; nothing once `stop` was called. */
  show(key: string, value: number, total: number, text: BarText): void {
    if (this.stopped) return;
    const bar = this.bars.get(key);
    if (bar) {
      bar.setTotal(Math.max(1, total));
      bar.update(Math.min(value, total), text);
      return;
    }
    this.bars.set(key, this.multibar.create(Math.max(1, total), Math.min(value, total), text));
  }

  /** Removes the bar of `key`, if it shows. */
  done(key: string): void {
    const bar = this.bars.get(key);
    if (!bar) return;
    this.bars.delete(key);
    this.multibar.remove(bar);
    if (this.bars.size === 0) this.multibar.stop();
  }

  /** Removes every bar for good and gives the terminal back (cursor shown). Safe to call more than once. */
  stop(): void {
    this.stopped = true;
    for (const key of [...this.bars.keys()]) this.done(key);
    this.multibar.stop();
  }
}
