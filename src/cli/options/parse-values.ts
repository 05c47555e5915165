import { InvalidArgumentError } from 'commander';

/** commander argParser: a whole number within [min, max]. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got "${value}".`);
    }
    return n;
  };
}

/** commander argParser: seconds (decimals allowed, > 0), returned in milliseconds. */
export function secondsToMs(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a number of seconds above 0, got "${value}".`);
  return Math.round(n * 1000);
}

/** commander argParser: `WIDTHxHEIGHT` in pixels, e.g. `1280x720`. */
export function dimensions(value: string): { width: number; height: number } {
  const match = /^(\d{1,5})x(\d{1,5})$/i.exec(value.trim());
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (!match || width < 1 || height < 1)
    throw new InvalidArgumentError(`expected WIDTHxHEIGHT in pixels, like 800x480, got "${value}".`);
  return { width, height };
}

/** commander argParser: a byte count with an optional K, M or G suffix (powers of 1024), e.g. `32K`. */
export function byteSize(value: string): number {
  const match = /^(\d+)\s*([kmg]?)i?b?$/i.exec(value.trim());
  if (!match)
    throw new InvalidArgumentError(`expected a size in bytes such as 4096, 32K or 1M, got "${value}".`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

/** commander argParser: an interval such as `10s`, `500ms`, `2m` or `10` (seconds), returned in milliseconds. */
export function interval(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(value.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[
    (match?.[2] ?? 's').toLowerCase() as 'ms' | 's' | 'm' | 'h'
  ];
  const ms = Math.round(Number(match?.[1]) * unit);
  if (!match || !(ms >= 100))
    throw new InvalidArgumentError(
      `expected an interval of 100ms or more, like 10s, 500ms or 2m, got "${value}".`,
    );
  return ms;
}
