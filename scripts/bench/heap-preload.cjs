// Loaded with `node --expose-gc --require` by the soak benchmark: on SIGUSR2 the process collects garbage and
// writes its live JavaScript heap (bytes used after a full GC), the heap V8 holds for it, memory outside the heap
// (Buffers and other external memory) and its RSS, in bytes, to BENCH_HEAP_FILE, separated by spaces, so that what
// the receiver keeps can be told apart from what V8 or the allocator has not given back yet.
const { writeFileSync } = require('node:fs');
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') global.gc();
  const { heapUsed, heapTotal, external, rss } = process.memoryUsage();
  if (process.env.BENCH_HEAP_FILE)
    writeFileSync(process.env.BENCH_HEAP_FILE, `${heapUsed} ${heapTotal} ${external} ${rss}`);
});
