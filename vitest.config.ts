import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One copy of graphql: Pothos and graphql-yoga must see the same module instance.
    alias: { graphql: require.resolve('graphql/index.js') },
  },
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // The multi-process cluster and fault suites run apart, in `npm run test:cluster`
    // (vitest.cluster.config.ts), which .ci/run also runs: they would take `npm test` past its budget.
    exclude: ['test/cluster/**', 'test/faults/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test files share a worker's loaded modules instead of importing the gateway afresh each
    // (about a quarter of the suite's time went to imports); every file makes its own databases,
    // gateways and queues, so none depends on a fresh module state.
    isolate: false,
    // Most test time is spent waiting on Postgres, Redis and child processes, so one file more
    // than there are cores pays off (vitest's default, cores - 1, runs them one by one on two).
    maxWorkers: availableParallelism() + 1,
  },
});
