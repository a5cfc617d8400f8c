/**
 * The cluster and fault suites (test/cluster/, test/faults/): several gateways, workers, HAProxy,
 * Redis Cluster and servers the tests kill and restart. Run with `npm run test:cluster`, one file
 * at a time, since each starts processes that take the machine's cores.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/cluster/**/*.test.ts', 'test/faults/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
