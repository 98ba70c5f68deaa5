// The scheduler suite's parallel ceiling, run for real on a tiny cluster: single-threaded
// `kscale schedule` children, one alone and then one per core side by side.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { measureCeiling } from '../../bench/suites/scheduler.js';
import { silentProgress } from '../../src/bench/progress.js';
import type { SuiteContext } from '../../src/bench/types.js';
import type { Measurement } from '../../src/results/types.js';

describe('scheduler parallel ceiling', () => {
  it('sums the side-by-side processes over the lone one, and records what each did', async () => {
    const recorded: Measurement[] = [];
    const ctx = { seed: 3, progress: silentProgress(), record: (m: Measurement) => recorded.push(m) } as unknown as SuiteContext;
    const ceiling = await measureCeiling(ctx, 200, 400);
    expect(recorded).toHaveLength(1);
    const m = recorded[0] as Measurement;
    expect(m.name).toBe('parallel-ceiling');
    if (availableParallelism() < 2) {
      expect(m.status).toBe('skipped');
      return;
    }
    expect(m.status, m.reason).toBe('ok');
    const solo = m.extra?.soloPodsPerSecond as number;
    const side = m.extra?.sideBySidePodsPerSecond as number[];
    expect(side).toHaveLength(m.params.processes as number);
    expect(solo).toBeGreaterThan(0);
    expect(m.samples?.[0]).toBeCloseTo(side.reduce((a, b) => a + b, 0) / solo, 9);
    if (m.params.processes === availableParallelism()) expect(ceiling).toBe(m.samples?.[0]);
  }, 120_000);
});
