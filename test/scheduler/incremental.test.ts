// The incremental engine (incremental.ts) must place every pod exactly where
// the full pass does: same nodes, same unschedulable pods and reasons, for
// every workload, while actually taking the cycles when every node is scored (its counters say it did),
// below 100% for the classes few nodes fit (and handing them back when they fit more again),
// and also when its class-state budget forces evictions. Histogram is its
// min/max bookkeeping.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Histogram } from '../../src/scheduler/histogram.js';
import { SchedulerPool } from '../../src/scheduler/pool.js';
import type { PoolOptions } from '../../src/scheduler/pool.js';
import { scheduleReference } from '../../src/scheduler/scheduler.js';
import { buildState } from '../../src/scheduler/state.js';
import { generateNodes, generatePods, WORKLOADS } from '../../src/scheduler/synthetic.js';
import type { Workload } from '../../src/scheduler/synthetic.js';

const pools: SchedulerPool[] = [];
afterAll(async () => { await Promise.all(pools.map((p) => p.close())); });

function cluster(workload: Workload, nodes: number, pods: number, seed = 11) {
  return buildState(generateNodes(nodes, seed), generatePods(workload, pods, seed, nodes));
}

async function incremental(workload: Workload, nodes: number, pods: number, options: PoolOptions = {}, pct = 100) {
  const b = cluster(workload, nodes, pods);
  const pool = new SchedulerPool(b.state, 1, options);
  pools.push(pool);
  const r = await pool.schedule(b.pending, { percentageOfNodesToScore: pct, seed: 3, engine: 'incremental', pluginSampleEvery: 0 });
  return { r, stats: pool.stats };
}

/** Workloads with a class few enough nodes fit (node affinity, a tight hard spread) that, at 400 nodes, its cycles examine every node. */
const SPARSE_AT_ADAPTIVE = new Set<Workload>(['spread', 'nodeaffinity', 'mixed']);

describe('incremental engine', () => {
  // Enough pods per node that zones fill, spread counts and skew limits move, and nodes run out.
  for (const pct of [100, 0]) {
    for (const workload of WORKLOADS) {
      it(`places ${workload} exactly as the reference path (400 nodes, 4000 pods, percentage ${pct || 'adaptive'})`, async () => {
        const b = cluster(workload, 400, 4000);
        const ref = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: pct, seed: 3 });
        const { r, stats } = await incremental(workload, 400, 4000, {}, pct);
        expect(Array.from(r.placements)).toEqual(Array.from(ref.placements));
        expect(r.unschedulable.map((u) => `${u.pod} ${u.message}`)).toEqual(ref.unschedulable.map((u) => `${u.pod} ${u.message}`));
        expect([...r.reasonTotals].sort()).toEqual([...ref.reasonTotals].sort());
        if (workload === 'daemonset') {
          // Every pod is held to its node by a PreFilter list: not the plain cycle the engine serves.
          expect(stats.incrementalCycles).toBe(0);
        } else if (pct === 100) {
          // It took the cycles, and most of them without re-evaluating every node.
          expect(stats.incrementalCycles).toBeGreaterThan(2000);
          expect(stats.incrementalFullRefreshes).toBeLessThan(stats.incrementalCycles / 2);
        } else {
          // Below 100% it takes the classes whose last pod examined every node (fewer feasible than numToFind), only those.
          expect(stats.incrementalCycles > 0).toBe(SPARSE_AT_ADAPTIVE.has(workload));
          // The spread workload's hard constraint makes its class fit numToFind nodes again now and then: handed back, and still identical.
          if (workload === 'spread') expect(stats.incrementalHandedBack).toBeGreaterThan(0);
        }
      });
    }
  }

  it('the mixed workload fills nodes: some pods are unschedulable with reasons, identical on both paths', async () => {
    const b = cluster('mixed', 100, 4000);
    const ref = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 100, seed: 3 });
    expect(ref.unschedulable.length).toBeGreaterThan(100);
    const { r } = await incremental('mixed', 100, 4000);
    expect(Array.from(r.placements)).toEqual(Array.from(ref.placements));
    expect(r.unschedulable.map((u) => u.message)).toEqual(ref.unschedulable.map((u) => u.message));
  });

  it('a budget of one class evicts on every change of class and still places identically', async () => {
    const b = cluster('mixed', 300, 1500);
    const ref = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 100, seed: 3 });
    const { r, stats } = await incremental('mixed', 300, 1500, { incrementalCacheBytes: 1 });
    expect(Array.from(r.placements)).toEqual(Array.from(ref.placements));
    expect(stats.incrementalEvictions).toBeGreaterThan(10);
  });

});

describe('kscale schedule --engine', () => {
  const kscale = (...args: string[]) => spawnSync(process.execPath, ['bin/kscale.js', 'schedule', ...args], { encoding: 'utf8', timeout: 120_000 });

  it('incremental (the default) and full write the same placements, and the JSON says which engine ran', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-engine-'));
    const common = ['--nodes', '200', '--pods', '1500', '--workload', 'mixed', '--workers', '1', '--percentage-of-nodes-to-score', '100', '--json'];
    const runs = [[], ['--engine', 'full'], ['--workers', '0']].map((extra, i) => {
      const file = join(dir, `p${i}.txt`);
      const r = kscale(...common, ...extra, '--placements', file);
      expect(r.status, r.stderr).toBe(0);
      return { out: JSON.parse(r.stdout) as { engine: string; mode: string; placed: number }, placements: readFileSync(file, 'utf8') };
    });
    expect(runs.map((r) => [r.out.mode, r.out.engine])).toEqual([['pool', 'incremental'], ['pool', 'full'], ['reference', 'full']]);
    expect(runs[0]?.out.placed).toBeGreaterThan(1000);
    expect(runs[0]?.placements).toBe(runs[1]?.placements);
    expect(runs[0]?.placements).toBe(runs[2]?.placements);
  });

  it('with the adaptive percentage the engine takes only the classes few nodes fit, and the JSON says what ran', () => {
    const run = (workload: string) => {
      const r = kscale('--nodes', '200', '--pods', '300', '--workers', '1', '--workload', workload, '--json');
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    // Every basic pod fits numToFind nodes: every cycle is the full pass.
    expect(run('basic')).toMatchObject({ mode: 'pool', engine: 'full', incrementalCycles: 0, percentageOfNodesToScore: 'adaptive', scheduled: 300 });
    const pinned = run('nodeaffinity');
    expect(pinned).toMatchObject({ mode: 'pool', engine: 'incremental', percentageOfNodesToScore: 'adaptive', scheduled: 300 });
    expect(pinned.incrementalCycles).toBeGreaterThan(200);
  });

  it('an unknown engine is exit 2 naming the flag and the known engines', () => {
    const r = kscale('--nodes', '100', '--pods', '10', '--engine', 'turbo');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--engine.*unknown engine "turbo".*incremental, full/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('Histogram', () => {
  it('tracks min and max through adds and removes, across growth on both sides', () => {
    const h = new Histogram();
    expect([h.min(), h.max(), h.size]).toEqual([Infinity, -Infinity, 0]);
    for (const v of [5, 3, 40, -7, 3]) h.add(v);
    expect([h.min(), h.max(), h.size]).toEqual([-7, 40, 5]);
    h.remove(-7);
    expect(h.min()).toBe(3);
    h.remove(3);
    expect(h.min()).toBe(3); // one copy of 3 is left
    h.remove(40);
    expect([h.min(), h.max()]).toEqual([3, 5]);
    h.add(1000);
    h.add(-1000);
    expect([h.min(), h.max(), h.size]).toEqual([-1000, 1000, 4]);
    h.remove(1000);
    h.remove(-1000);
    h.remove(5);
    expect([h.min(), h.max(), h.size]).toEqual([3, 3, 1]);
    h.remove(3);
    expect([h.min(), h.max(), h.size]).toEqual([Infinity, -Infinity, 0]);
    h.clear();
    h.add(2);
    expect([h.min(), h.max()]).toEqual([2, 2]);
  });

  it('agrees with a sorted list over random operations', () => {
    const h = new Histogram();
    const list: number[] = [];
    let x = 12345;
    const rand = () => { x = (x * 1103515245 + 12345) % 2 ** 31; return x / 2 ** 31; };
    for (let i = 0; i < 5000; i++) {
      if (list.length > 0 && rand() < 0.45) {
        const v = list.splice(Math.floor(rand() * list.length), 1)[0] as number;
        h.remove(v);
      } else {
        const v = Math.floor(rand() * 200) - 60 + Math.floor(i / 50);
        list.push(v);
        h.add(v);
      }
      expect(h.size).toBe(list.length);
      if (list.length > 0) expect([h.min(), h.max()]).toEqual([Math.min(...list), Math.max(...list)]);
    }
  });
});
