/**
 * "Did you mean": the known name nearest to a mistyped one, for the CLI's unknown commands and the library's unknown
 * options. Distance is optimal string alignment (a swap of two neighbours counts once), case-insensitive.
 */

/** Edits (insert, delete, replace, swap of neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= y.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= x.length; i++) {
    const row = d[i] as number[];
    const above = d[i - 1] as number[];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] ?? 0) + 1);
      row[j] = best;
    }
  }
  return (d[x.length] as number[])[y.length] ?? 0;
}

/**
 * The name of `known` nearest to `name`, or undefined when none is near: within a third of the name's length (at
 * least 1, at most 3 edits), or one that starts or ends with the same word (`chunkSize` -> `chunkBytes`).
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  if (!best) return undefined;
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  if (best.distance <= limit) return best.name;
  const words = (s: string) => s.split(/(?=[A-Z])|[-_]/).map((w) => w.toLowerCase());
  const [first] = words(name);
  const last = words(name).at(-1);
  const sameStart = known.filter((k) => words(k)[0] === first);
  if (sameStart.length === 1) return sameStart[0];
  const sameEnd = known.filter((k) => words(k).at(-1) === last);
  return sameStart.length === 0 && sameEnd.length === 1 ? sameEnd[0] : undefined;
}
