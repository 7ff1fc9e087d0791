// Test runner configuration: unit tests (pure, in-process) and integration tests (real DNS
// servers and clients from Debian, spawned on 127.0.0.1) run in one `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Integration suites start servers on loopback; two CPU cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
