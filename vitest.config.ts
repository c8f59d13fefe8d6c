import { defineConfig } from 'vitest/config';

// Two projects so pure tests never pay for a Temporal server: `unit` is machines, rules and
// formats; `temporal` runs through a real dev server and worker started by the global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // The graph-wide checks (every explored state against every example event) take seconds,
          // more on a loaded two-core machine than vitest's default of five allows.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'temporal',
          include: ['test/temporal/**/*.test.ts'],
          globalSetup: ['test/setup/temporal.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: one Temporal server, the JVM test server and a worker per file already
          // fill them, so files run one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
