// Loaded with `node --expose-gc --require` by the soak benchmark: on SIGUSR2 the process collects garbage and
// writes its live JavaScript heap (bytes used after a full GC) and its RSS (bytes) to BENCH_HEAP_FILE, separated by
// a space, so that what the receiver keeps can be told apart from what the allocator has not given back yet.
const { writeFileSync } = require('node:fs');
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') global.gc();
  const { heapUsed, rss } = process.memoryUsage();
  if (process.env.BENCH_HEAP_FILE) writeFileSync(process.env.BENCH_HEAP_FILE, `${heapUsed} ${rss}`);
});
