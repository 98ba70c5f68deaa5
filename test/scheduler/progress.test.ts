// Long scheduling runs report progress where they let the event loop in, on
// every path; kscale schedule turns that into one step per 5% of the pods.
import { afterAll, describe, expect, it } from 'vitest';
import type { Progress } from '../../src/bench/progress.js';
import { podProgress } from '../../src/commands/schedule.js';
import { SchedulerPool } from '../../src/scheduler/pool.js';
import { scheduleReferenceAsync } from '../../src/scheduler/scheduler.js';
import type { ScheduleOptions, ScheduleResult } from '../../src/scheduler/scheduler.js';
import { buildState } from '../../src/scheduler/state.js';
import { generateNodes, generatePods } from '../../src/scheduler/synthetic.js';

const pools: SchedulerPool[] = [];
afterAll(async () => { await Promise.all(pools.map((p) => p.close())); });

/** Every node scored with the full engine: long enough (seconds on the CI VM) to pass many yield points. */
async function reported(path: 'reference' | 'pool' | 'batched'): Promise<{ calls: [number, number][]; r: ScheduleResult }> {
  const b = buildState(generateNodes(1000, 4), generatePods('mixed', 4000, 4));
  const calls: [number, number][] = [];
  const opts: ScheduleOptions = { percentageOfNodesToScore: 100, seed: 1, engine: 'full', pluginSampleEvery: 0, onProgress: (done, pending) => { calls.push([done, pending]); } };
  if (path === 'reference') return { calls, r: await scheduleReferenceAsync(b.state, b.pending, opts) };
  const pool = new SchedulerPool(b.state, 2);
  pools.push(pool);
  return { calls, r: await pool.schedule(b.pending, path === 'batched' ? { ...opts, batch: 4 } : opts) };
}

describe('scheduling progress', () => {
  for (const path of ['reference', 'pool', 'batched'] as const) {
    it(`the ${path} loop reports how many of the pending pods went through, rising, at its yield points`, async () => {
      const { calls, r } = await reported(path);
      expect(r.elapsedMs).toBeGreaterThan(200);
      expect(calls.length).toBeGreaterThan(1);
      for (const [done, pending] of calls) {
        expect(pending).toBe(4000);
        expect(done).toBeGreaterThan(0);
        expect(done).toBeLessThan(4000);
      }
      for (let k = 1; k < calls.length; k++) expect(calls[k]![0]).toBeGreaterThan(calls[k - 1]![0]);
    });
  }

  it('kscale schedule shows one step per 5% of the pods, planned once', () => {
    const seen: string[] = [];
    const fake: Progress = { plan: (n) => seen.push(`plan ${n}`), step: (label) => seen.push(label), note() {}, done() {} };
    const report = podProgress(fake);
    report(40, 1000); // under 5%: no step yet
    report(120, 1000); // past 5% and 10%: two steps
    report(130, 1000);
    report(999, 1000); // up to 95%
    expect(seen.slice(0, 3)).toEqual(['plan 20', 'scheduling: 120 of 1,000 pods', 'scheduling: 120 of 1,000 pods']);
    expect(seen).toHaveLength(1 + 19);
    expect(seen.at(-1)).toBe('scheduling: 999 of 1,000 pods');
  });
});
