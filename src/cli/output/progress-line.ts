import { humanBytes } from './output.js';

/**
 * One progress line that fits the terminal: curl, rsync and npm habits (bytes, rate, elapsed, time left), with the
 * least useful parts dropped first when the terminal is narrow. Pure functions: the bars (progress.ts) and the
 * tests call them with a width.
 */

/** A part of the text after the percentage: `keep` ranks it, the lowest is dropped first. */
export interface Field {
  text: string;
  keep: number;
}

/** What one bar shows: the label before the bar, the fraction done, and the fields after the percentage. */
export interface BarText {
  /** Before the bar, e.g. `photo.jpg -> cam/1`. */
  label: string;
  fields: Field[];
}

/** How much each field is worth keeping on a narrow terminal (higher: kept longer). */
export const KEEP = { resent: 1, elapsed: 2, bytes: 3, receivers: 4, left: 6, rate: 7, status: 8 } as const;

/** Widths the bar itself shrinks through before any field is dropped; then it goes. */
const BAR_WIDTHS = [24, 16, 10] as const;
const FULL = '\u2588';
const EMPTY = '\u2591';

/** `fraction` (0 to 1) as a bar of `width` characters. */
export function barOf(fraction: number, width: number): string {
  const full = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return FULL.repeat(full) + EMPTY.repeat(width - full);
}

/** `text` cut to `width` characters with an ellipsis in the middle: `IMG_5195...cam/1`. */
function shorten(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return text.slice(0, Math.max(0, width));
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}\u2026${text.slice(text.length - (width - 1 - head))}`;
}

/**
 * The line for `text` at `fraction` done in `columns` characters at most: the bar narrows first, then fields go
 * from the least kept up (resends, elapsed time, bytes, receivers), then the bar, then the label is shortened; the
 * rate and the time left go last of all.
 */
export function fitProgressLine(text: BarText, fraction: number, columns: number): string {
  const percent = `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`.padStart(4);
  const compose = (label: string, bar: number, fields: Field[]) =>
    [label, bar > 0 ? barOf(fraction, bar) : '', percent, fields.map((f) => f.text).join(', ')]
      .filter((part) => part.length > 0)
      .join(' ');
  const fits = (line: string) => line.length <= columns;
  let fields = text.fields.filter((f) => f.text.length > 0);
  for (const bar of BAR_WIDTHS) {
    const line = compose(text.label, bar, fields);
    if (fits(line)) return line;
  }
  const byKeep = [...fields].sort((a, b) => a.keep - b.keep);
  const smallest = BAR_WIDTHS[BAR_WIDTHS.length - 1] ?? 10;
  // Drop fields worth less than the rate and the time left, while the bar stays.
  for (const field of byKeep.filter((f) => f.keep < KEEP.left)) {
    fields = fields.filter((f) => f !== field);
    const line = compose(text.label, smallest, fields);
    if (fits(line)) return line;
  }
  // Then the bar, then the label shortened to no less than 12 characters.
  const withoutBar = compose(text.label, 0, fields);
  if (fits(withoutBar)) return withoutBar;
  const room = columns - compose('', 0, fields).length - 1;
  if (room >= 12) return compose(shorten(text.label, room), 0, fields);
  // Then the rest, from the least kept up; the percentage stays.
  for (const field of byKeep.filter((f) => f.keep >= KEEP.left)) {
    fields = fields.filter((f) => f !== field);
    const space = columns - compose('', 0, fields).length - 1;
    if (space >= 12) return compose(shorten(text.label, space), 0, fields);
  }
  return compose(shorten(text.label, Math.max(0, columns - percent.length - 1)), 0, []).slice(0, columns);
}

/** Milliseconds as a clock: `0:07`, `12:05`, `1:02:03`. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** How far back the rate looks, in milliseconds: 5 s, so that it follows a link that changes speed. */
const RATE_WINDOW_MS = 5000;
/** The rate is shown once it rests on at least this long, in milliseconds. */
const RATE_MIN_SPAN_MS = 800;

/**
 * The rate of one transfer over the last few seconds, from what it held when first seen: a transfer that resumed
 * with most of its bytes already there is not shown at hundreds of MB/s, and one whose link slows down shows it.
 */
export class RateMeter {
  private readonly samples: Array<{ ms: number; bytes: number }> = [];

  /** Records that `bytes` were done at `ms` (a monotonic clock). */
  add(ms: number, bytes: number): void {
    const last = this.samples.at(-1);
    if (last && bytes < last.bytes) this.samples.length = 0; // started over
    this.samples.push({ ms, bytes });
    while (this.samples.length > 2 && (this.samples[1]?.ms ?? ms) <= ms - RATE_WINDOW_MS)
      this.samples.shift();
  }

  /** Bytes per second over the window, or undefined until it spans long enough. */
  rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.ms - first.ms < RATE_MIN_SPAN_MS) return undefined;
    return ((last.bytes - first.bytes) * 1000) / (last.ms - first.ms);
  }
}

/** The fields every transfer shows: bytes of all, rate, elapsed time and time left (when the rate is known). */
export function transferFields(
  done: number,
  total: number,
  elapsedMs: number,
  rate: number | undefined,
): Field[] {
  const left = rate !== undefined && rate > 0 ? ((total - done) * 1000) / rate : undefined;
  return [
    { text: `${humanBytes(done)} of ${humanBytes(total)}`, keep: KEEP.bytes },
    { text: rate !== undefined ? `${humanBytes(rate)}/s` : '', keep: KEEP.rate },
    { text: `${clock(elapsedMs)} elapsed`, keep: KEEP.elapsed },
    { text: left !== undefined ? `${clock(left)} left` : '', keep: KEEP.left },
  ];
}
