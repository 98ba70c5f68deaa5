// The scheduler suite end to end on the smoke profile, and what a report and a plan make of it.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schedulerSuite } from '../../bench/suites/scheduler.js';
import { PROFILES } from '../../bench/profiles.js';
import { silentProgress } from '../../src/bench/progress.js';
import type { SuiteContext } from '../../src/bench/types.js';
import { buildSections } from '../../src/report/sections.js';
import type { Measurement, RunResults } from '../../src/results/types.js';
import { schemaErrors } from '../../src/results/write.js';

describe('scheduler suite', () => {
  it('records throughput and latency that the report charts (every ok measurement has a summary)', async () => {
    const recorded: Measurement[] = [];
    const ctx = { profile: PROFILES.smoke, seed: 1, progress: silentProgress(), record: (m: Measurement) => recorded.push(m) } as unknown as SuiteContext;
    await schedulerSuite.run(ctx);
    const throughput = recorded.filter((m) => m.name === 'throughput');
    expect(throughput.length).toBe(schedulerSuite.steps(PROFILES.smoke));
    for (const m of recorded) {
      expect(m.status, m.reason).toBe('ok');
      expect(m.summary, `${m.name} ${JSON.stringify(m.params)}`).toBeDefined();
    }
    for (const m of throughput) expect(m.summary?.median).toBe(m.samples?.[0]);
    // A run of just these measurements, on the report fixture's host.
    const base = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'results', 'full.json'), 'utf8')) as RunResults;
    const run: RunResults = { ...base, suites: ['scheduler'], measurements: recorded };
    expect(schemaErrors(run)).toEqual([]);
    const section = buildSections(run).find((s) => s.id === 'scheduler');
    expect(section?.charts.map((c) => c.id)).toEqual(['scheduler-throughput']);
    expect(section?.charts[0]?.table.rows).toHaveLength(throughput.length);
    // With more than one core, a batched row on the smoke sweep's 2 workers, compared with the one-at-a-time run on as many.
    const batched = throughput.filter((m) => m.params.batch !== undefined);
    if (availableParallelism() > 1) {
      expect(batched.map((m) => [m.params.workload, m.params.workers, m.params.batch])).toEqual([['mixed', 2, 8]]);
      const extra = batched[0]?.extra as { speedupVsOneAtATime: number; samePlacementShare: number; cpuShareStdDev: number; cpuShareStdDevOneAtATime: number; batchStats: { batches: number } };
      // Both runs placed pods, so some nodes carry load and others less: a spread above zero, below the whole range.
      for (const sd of [extra.cpuShareStdDev, extra.cpuShareStdDevOneAtATime]) {
        expect(sd).toBeGreaterThan(0);
        expect(sd).toBeLessThan(0.5);
      }
      expect(extra.speedupVsOneAtATime).toBeGreaterThan(0);
      expect(extra.samePlacementShare).toBeGreaterThan(0);
      expect(extra.samePlacementShare).toBeLessThanOrEqual(1);
      expect(extra.batchStats.batches).toBeGreaterThan(0);
      expect(section?.charts[0]?.table.rows.some((row) => row[4] === 'pool incremental batch 8')).toBe(true);
    } else expect(batched).toEqual([]);
  }, 120_000);
});
