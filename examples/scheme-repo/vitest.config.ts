import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The engine's testing module runs from its TypeScript source, so no build step is needed.
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: { testTimeout: 120_000, hookTimeout: 300_000 },
});
