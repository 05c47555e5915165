import { defineConfig } from 'vitest/config';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * In CI (`CI=true`) a skipped test is a failure: a suite whose broker or fixture is missing must not pass by not
 * running (the e2e suites skip only locally, where Mosquitto or nats-server is not installed).
 */
class NoSkipsInCi implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped = testModules.flatMap((m) => [...m.children.allTests('skipped')].map((t) => t.fullName));
    if (skipped.length === 0) return;
    console.error(`\n${skipped.length} tests skipped, which CI does not allow:\n  ${skipped.join('\n  ')}`);
    process.exitCode = 1;
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests start brokers and child processes; two cores, so keep files from starving each other.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    reporters: process.env.CI === 'true' ? ['default', new NoSkipsInCi()] : ['default'],
  },
});
