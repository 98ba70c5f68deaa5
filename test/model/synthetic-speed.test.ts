// Kept apart from the other synthetic tests so it runs in a fresh worker: a
// heap already holding earlier tests' models would slow garbage collection
// and measure that instead.
import { describe, expect, it } from 'vitest';
import { generateCluster } from '../../src/model/synthetic.js';

describe('speed: 50,000 Services × 10 endpoints', () => {
  // A loose bound so a loaded CI machine does not flake; typical times are
  // printed (on an idle 2-core machine: scale ≈ 0.03 s, nft ≈ 0.15 s, realistic ≈ 0.3 s).
  for (const layout of ['kube-proxy-scale', 'kube-proxy-nft-bench', 'realistic'] as const) {
    it(layout, () => {
      const t0 = performance.now();
      const m = generateCluster({ services: 50000, endpointsPerService: 10, seed: 1, layout });
      const ms = performance.now() - t0;
      console.log(`generateCluster ${layout} 50000×10: ${ms.toFixed(0)} ms`);
      expect(m.services).toHaveLength(50000);
      expect(m.endpointSlices.reduce((n, s) => n + s.endpoints.length, 0)).toBe(500000);
      expect(ms).toBeLessThan(2000);
    });
  }
});

