/** Where commands write: stdout for results (one line per file, or JSON lines), stderr for diagnostics. */
export interface Output {
  result(line: string): void;
  json(value: unknown): void;
  info(line: string): void;
}

/** The Output of the `mqimg` binary: results on stdout, diagnostics on stderr, one line each. */
export const processOutput: Output = {
  result: (line) => process.stdout.write(`${line}\n`),
  json: (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
  info: (line) => process.stderr.write(`${line}\n`),
};

/** 1234567 -> "1,234,567 bytes" (without toLocaleString, whose first call loads ICU data: ~20 ms). */
export function formatBytes(bytes: number): string {
  return `${String(bytes).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} bytes`;
}

/** Milliseconds -> "0.42 s". */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** The line a command prints for an error it reports and goes on after (a live feed's bad image): `mqimg: ...`. */
export function errorLine(error: unknown): string {
  return `mqimg: ${error instanceof Error ? error.message : String(error)}`;
}
