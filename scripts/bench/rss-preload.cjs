// Loaded with `node --require` by the benchmark: writes the process's peak RSS (KiB) and its CPU time (user + system,
// milliseconds) to BENCH_RSS_FILE at exit, separated by a space.
// It reads VmHWM from /proc/self/status, not process.resourceUsage().maxRSS: Linux carries ru_maxrss over from
// the forked copy of the parent through execve, so a child spawned by a benchmark that holds 200 MB would report
// at least 200 MB whatever it used itself. VmHWM belongs to the process's own address space.
const { readFileSync, writeFileSync } = require('node:fs');
function peakRssKiB() {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {}
  return process.resourceUsage().maxRSS;
}
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  const cpuMs = (user + system) / 1000;
  if (process.env.BENCH_RSS_FILE) writeFileSync(process.env.BENCH_RSS_FILE, `${peakRssKiB()} ${cpuMs}`);
});
