/**
 * A deterministic pseudo-random stream in [0, 1) (xorshift32) from `seed`: the same seed gives the same stream, so
 * that a test that draws from it can be replayed.
 */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
