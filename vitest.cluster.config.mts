import { defineConfig } from 'vitest/config';

// The fault tests against a real cluster (PostgreSQL, two servers, two workers): kept out of
// `npm test` because each fault waits out real failure detection; `npm run test:cluster` runs them.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
