import { defineConfig } from 'vitest/config';

// `npm run test:cluster`: Switchyard against a real Temporal server on PostgreSQL
// (scripts/cluster.sh), started once by test/cluster/global-setup.ts. One file at a time: the
// tests restart that server.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['test/cluster/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
  },
});
