import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The cluster tier needs a PostgreSQL-backed Temporal server: `npm run test:cluster`.
    exclude: ['test/cluster/**', '**/node_modules/**'],
    // One real Temporal dev server for the whole run (test/global-setup.ts); tests use unique task queues.
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // Two cores: keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
