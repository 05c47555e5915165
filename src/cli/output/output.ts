/**
 * Where commands write: stdout for results (one line per file, or JSON lines), stderr for everything else.
 * `info` lines are chatter that `--quiet` hides; `warn` lines (warnings, errors a feed goes on after) never are.
 */
export interface Output {
  result(line: string): void;
  /** One JSON object on a line of its own (`--json`). */
  json(value: object): void;
  info(line: string): void;
  warn(line: string): void;
}

/** Every JSON line the binary prints: its fields, with `ts` (ISO 8601, UTC, milliseconds) after `event`. */
export function withTimestamp(value: object, now = new Date()): object {
  const { event, ...rest } = value as { event?: unknown };
  return event === undefined ? { ts: now.toISOString(), ...rest } : { event, ts: now.toISOString(), ...rest };
}

/** The Output of the `mqimg` binary: results on stdout, diagnostics on stderr, one line each. */
export const processOutput: Output = {
  result: (line) => process.stdout.write(`${line}\n`),
  json: (value) => process.stdout.write(`${JSON.stringify(withTimestamp(value))}\n`),
  info: (line) => process.stderr.write(`${line}\n`),
  warn: (line) => process.stderr.write(`${line}\n`),
};

/** `output` without its `info` lines: `--quiet`. */
export function quietOutput(output: Output): Output {
  return { ...output, info: () => {} };
}

/** 1234567 -> "1,234,567 bytes" (without toLocaleString, whose first call loads ICU data: ~20 ms). */
export function formatBytes(bytes: number): string {
  return `${String(bytes).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} bytes`;
}

/** Bytes in decimal units, as file managers show them: 812 B, 12.3 kB, 2.2 MB, 1.5 GB. */
export function humanBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** Milliseconds -> "0.42 s". */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** `count` and `noun`, the noun in the plural unless the count is 1: "1 chunk", "3 chunks", "0 receivers". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The prefix of every line mqimg prints about a problem: `mqimg: ...`, as for command-line errors. */
export const ERROR_PREFIX = 'mqimg: ';

/** The line a command prints for an error it reports and goes on after (a live feed's bad image): `mqimg: ...`. */
export function errorLine(error: unknown): string {
  return `${ERROR_PREFIX}${error instanceof Error ? error.message : String(error)}`;
}

/** The `code`, `message` and details of an error, for a `failed` JSON line (`internal` for a plain Error). */
export function failureOf(error: unknown): { code: string; message: string } {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    const details = 'details' in error && typeof error.details === 'object' ? error.details : {};
    return { ...details, code: error.code, message: error.message };
  }
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
