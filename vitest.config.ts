import { defineConfig } from 'vitest/config';

// The JSON report is what .ci/run reads for its closing "N passed, N failed" line.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'results/test-report.json' }]],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Kernel-touching tests share one host; run files one at a time so they never contend.
    fileParallelism: false,
  },
});
