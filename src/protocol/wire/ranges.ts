/** Inclusive index ranges, `[first, last]`, as they travel in receiver status messages. */
export type IndexRange = readonly [first: number, last: number];

/** Number of indices covered by `ranges`. */
export function rangesSize(ranges: readonly IndexRange[]): number {
  let total = 0;
  for (const [first, last] of ranges) total += last - first + 1;
  return total;
}

/** Every index in `ranges`, clipped to `[0, limit)`, in order. Ranges with last < first are ignored. */
export function* expandRanges(ranges: readonly IndexRange[], limit: number): Generator<number> {
  for (const [first, last] of ranges) {
    const from = Math.max(0, first);
    const to = Math.min(limit - 1, last);
    for (let i = from; i <= to; i++) yield i;
  }
}
