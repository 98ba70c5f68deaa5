// End-to-end: the piscina pool with 1, 2 and 3 workers, with the default and with
// small work-stealing chunks, places every pod exactly where the single-threaded
// reference does (same seed), placements respect
// capacity, and bad input is an InputError or an unschedulable pod with reasons.
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { SchedulerPool } from '../../src/scheduler/pool.js';
import { scheduleReference } from '../../src/scheduler/scheduler.js';
import { claimChunk, closePhase, finishChunk, finisherOf, openPhase, openPhaseOf } from '../../src/scheduler/worker.js';
import { SCORE_PLUGINS } from '../../src/scheduler/framework.js';
import { FILTER_PLUGINS } from '../../src/scheduler/plugintime.js';
import type { ScheduleResult } from '../../src/scheduler/scheduler.js';
import { buildState } from '../../src/scheduler/state.js';
import { generateNodes, generatePods } from '../../src/scheduler/synthetic.js';
import type { Workload } from '../../src/scheduler/synthetic.js';
import { node, pod } from './helpers.js';

const pools: SchedulerPool[] = [];
afterAll(async () => { await Promise.all(pools.map((p) => p.close())); });

function cluster(workload: Workload, nodes: number, pods: number, seed = 7) {
  return buildState(generateNodes(nodes, seed), generatePods(workload, pods, seed, nodes));
}

async function viaPool(workload: Workload, nodes: number, pods: number, workers: number, pct: number): Promise<ScheduleResult> {
  const b = cluster(workload, nodes, pods);
  const pool = new SchedulerPool(b.state, workers);
  pools.push(pool);
  return pool.schedule(b.pending, { percentageOfNodesToScore: pct, seed: 42 });
}

describe('deterministic placements', () => {
  // Worker start-up from TypeScript sources is slow (each worker loads the compiler), so the
  // sweep is 1, 2, 3 workers with the adaptive percentage and 2 workers with every node scored.
  for (const [pct, workers] of [[0, [1, 2, 3]], [100, [2]]] as const) {
    it(`pool with ${workers.join(', ')} workers equals the reference path (mixed, 300 nodes, 600 pods, percentage ${pct || 'adaptive'})`, async () => {
      const b = cluster('mixed', 300, 600);
      const ref = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: pct, seed: 42 });
      expect(ref.placements.filter((n) => n >= 0).length).toBeGreaterThan(500);
      for (const w of workers) {
        const r = await viaPool('mixed', 300, 600, w, pct);
        expect(Array.from(r.placements), `${w} workers`).toEqual(Array.from(ref.placements));
        expect(r.unschedulable.map((u) => u.message)).toEqual(ref.unschedulable.map((u) => u.message));
      }
    });
  }

  it('same seed, same placements; another seed breaks ties differently', () => {
    const run = (seed: number) => { const b = cluster('basic', 200, 300); return Array.from(scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 100, seed }).placements); };
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
  });
});

describe('work-stealing chunks', () => {
  // 300 nodes in chunks of 16: 19 chunks claimed by whichever thread is free, merged in node order.
  // soloNodes 48: below 100% the main thread filters 3 chunks alone, then wakes the helpers.
  for (const pct of [100, 0]) {
    it(`small chunks with 2 and 3 workers equal the reference path (mixed, 300 nodes, 600 pods, percentage ${pct || 'adaptive'})`, async () => {
      const b = cluster('mixed', 300, 600);
      const ref = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: pct, seed: 42 });
      // rescueAfterMs 0: the main thread filters every chunk a helper has not finished the moment it needs it,
      // so helpers keep finishing chunks that were already done (into their own buffers, never read).
      for (const [w, rescueAfterMs] of [[2, undefined], [3, undefined], [2, 0]] as const) {
        const c = cluster('mixed', 300, 600);
        const pool = new SchedulerPool(c.state, w, { chunkNodes: 16, soloNodes: 48, ...(rescueAfterMs === undefined ? {} : { rescueAfterMs }) });
        pools.push(pool);
        expect(pool.chunks).toBe(19);
        const r = await pool.schedule(c.pending, { percentageOfNodesToScore: pct, seed: 42 });
        const what = `${w} workers, rescue after ${rescueAfterMs ?? 'default'} ms`;
        expect(Array.from(r.placements), what).toEqual(Array.from(ref.placements));
        expect(r.unschedulable.map((u) => u.message), what).toEqual(ref.unschedulable.map((u) => u.message));
        expect([...r.reasonTotals], what).toEqual([...ref.reasonTotals]);
        expect(r.rescored, what).toBe(ref.rescored);
        expect(pool.stats.cycles).toBe(600);
        expect(pool.stats.parallelCycles, what).toBeGreaterThan(0);
      }
    });
  }

  it('a chunk is recorded once per phase, by the first thread to finish it; a thread from an older phase never overwrites it', () => {
    const done = new BigInt64Array(new SharedArrayBuffer(16));
    expect(finisherOf(done, 0, 3n)).toBe(-1);
    expect(finishChunk(done, 0, 3n, 2)).toBe(true);
    expect(finishChunk(done, 0, 3n, 0)).toBe(false);
    expect(finisherOf(done, 0, 3n)).toBe(2);
    expect(finishChunk(done, 0, 4n, 0)).toBe(true);
    expect(finishChunk(done, 0, 3n, 1)).toBe(false); // fell behind: phase 4 already recorded
    expect(finisherOf(done, 0, 4n)).toBe(0);
    expect(finisherOf(done, 1, 4n)).toBe(-1);
  });

  it('the claim word hands out each chunk of the open phase once, and none after it closes or to an older phase', () => {
    const claim = new BigInt64Array(new SharedArrayBuffer(16));
    openPhase(claim, 7n);
    expect([claimChunk(claim, 7n, 3), claimChunk(claim, 7n, 3), claimChunk(claim, 7n, 3), claimChunk(claim, 7n, 3)]).toEqual([0, 1, 2, -1]);
    openPhase(claim, 8n);
    expect(claimChunk(claim, 7n, 3)).toBe(-1); // a thread still on phase 7
    expect(openPhaseOf(claim)).toBe(8n);
    expect(claimChunk(claim, 8n, 3)).toBe(0);
    expect(closePhase(claim)).toBe(1);
    expect(openPhaseOf(claim)).toBe(-1n);
    expect(claimChunk(claim, 8n, 3)).toBe(-1);
  });
});

describe('per-plugin time share', () => {
  it('sampling every cycle leaves placements unchanged and accounts for every filter and score plugin', () => {
    const run = (every: number) => { const b = cluster('mixed', 300, 400); return scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 100, seed: 5, pluginSampleEvery: every }); };
    const off = run(0);
    const on = run(1);
    expect(Array.from(on.placements)).toEqual(Array.from(off.placements));
    expect(off.pluginTimes).toBeNull();
    const t = on.pluginTimes!;
    expect(t.sampledCycles).toBe(400);
    expect(Object.keys(t.share)).toEqual([...FILTER_PLUGINS.map((p) => `Filter/${p}`), ...SCORE_PLUGINS.map(([p]) => `Score/${p}`)]);
    expect(Object.values(t.share).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    // The mixed workload exercises the dynamic plugins: they take time in the samples.
    for (const k of ['Filter/NodeResourcesFit', 'Filter/PodTopologySpread', 'Filter/InterPodAffinity', 'Score/PodTopologySpread']) expect(t.ms[k], k).toBeGreaterThan(0);
  });

  it("keeps the sampler's time out of the run's elapsed time and the cycles' latencies, on both paths", async () => {
    const b = cluster('mixed', 300, 400);
    const w0 = performance.now();
    const ref = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 100, seed: 5, pluginSampleEvery: 1 });
    const refWall = performance.now() - w0;
    const b2 = cluster('mixed', 300, 400);
    const pool = new SchedulerPool(b2.state, 2, { chunkNodes: 64 });
    pools.push(pool);
    await pool.ready();
    const w1 = performance.now();
    const pooled = await pool.schedule(b2.pending, { percentageOfNodesToScore: 100, seed: 5, pluginSampleEvery: 1 });
    const poolWall = performance.now() - w1;
    for (const [r, wall] of [[ref, refWall], [pooled, poolWall]] as const) {
      expect(r.samplingMs).toBeGreaterThan(0);
      expect(r.elapsedMs + r.samplingMs).toBeLessThanOrEqual(wall);
      // Sampling every cycle costs more than the cycles themselves: elapsed is well below the wall time.
      expect(r.elapsedMs).toBeLessThan(wall - r.samplingMs / 2);
      const latencySum = Array.from(r.latenciesMs).reduce((a, x) => a + x, 0);
      expect(latencySum).toBeLessThanOrEqual(r.elapsedMs);
    }
    expect(Array.from(pooled.placements)).toEqual(Array.from(ref.placements));
  });

  it('the pool samples the same cycles (one in every)', async () => {
    const b = cluster('mixed', 300, 600);
    const pool = new SchedulerPool(b.state, 2, { chunkNodes: 64 });
    pools.push(pool);
    const r = await pool.schedule(b.pending, { percentageOfNodesToScore: 0, seed: 42, pluginSampleEvery: 50 });
    expect(r.pluginTimes?.sampledCycles).toBe(12);
  });
});

describe('placements respect every hard constraint', () => {
  it('sums requests per node within allocatable, honours anti-affinity and zone spread', () => {
    const nodes = generateNodes(200, 3);
    const pods = generatePods('mixed', 3000, 3);
    const b = buildState(nodes, pods);
    const r = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 0, seed: 1 });
    const used = nodes.map(() => ({ cpu: 0, memory: 0, pods: 0 }));
    const antiOnNode = new Set<string>();
    b.pending.forEach((p, i) => {
      const n = r.placements[i] as number;
      if (n < 0) return;
      const u = used[n]!;
      u.cpu += pods[p]!.requests.cpu ?? 0;
      u.memory += pods[p]!.requests.memory ?? 0;
      u.pods++;
      if (pods[p]!.podAntiAffinity.required.length > 0) {
        const key = `${pods[p]!.labels.app}@${n}`;
        expect(antiOnNode.has(key), key).toBe(false);
        antiOnNode.add(key);
      }
      expect(nodes[n]!.unschedulable).toBe(false);
    });
    used.forEach((u, n) => {
      expect(u.cpu).toBeLessThanOrEqual(nodes[n]!.allocatable.cpu!);
      expect(u.memory).toBeLessThanOrEqual(nodes[n]!.allocatable.memory!);
      expect(u.pods).toBeLessThanOrEqual(nodes[n]!.allocatable.pods!);
    });
    expect(r.unschedulable.length).toBeGreaterThan(0); // 3000 pods overflow 200 nodes' gpu slots and cpu
    expect(r.reasonTotals.size).toBeGreaterThan(0);
  });
});

describe('pod classes', () => {
  it('pods that differ only in name or key order share a class; any other difference is a class of its own', () => {
    const base = pod('a', [{ cpu: '100m' }], { labels: { app: 'x', tier: 'web' }, nodeSelector: { zone: 'z1', disk: 'ssd' } });
    const renamed = { ...base, name: 'b' };
    const reordered = { ...base, name: 'c', labels: { tier: 'web', app: 'x' }, nodeSelector: { disk: 'ssd', zone: 'z1' } };
    const relabelled = { ...base, name: 'd', labels: { app: 'x', tier: 'db' } };
    const bigger = pod('e', [{ cpu: '200m' }], { labels: base.labels, nodeSelector: base.nodeSelector });
    const b = buildState([node('n', { cpu: 1000 })], [base, renamed, reordered, relabelled, bigger, { ...reordered, name: 'f' }]);
    expect([...b.state.podClass]).toEqual([0, 0, 0, 1, 2, 0]);
    expect(b.state.tables.classes).toHaveLength(3);
  });
  it("the pods of one synthetic Deployment are one class, another Deployment's another", () => {
    const pods = generatePods('mixed', 2000, 7);
    const b = buildState(generateNodes(50, 7), pods);
    const byDeployment = new Map<string, Set<number>>();
    pods.forEach((p, i) => {
      const app = p.labels.app ?? '';
      if (app.startsWith('deploy-')) byDeployment.set(app, (byDeployment.get(app) ?? new Set()).add(b.state.podClass[i] as number));
    });
    expect(byDeployment.size).toBe(40);
    for (const classes of byDeployment.values()) expect(classes.size).toBe(1);
    expect(new Set([...byDeployment.values()].map((c) => [...c][0])).size).toBe(40);
  });
});

describe('bad input', () => {
  it('a pod larger than any node and a zero-allocatable node: unschedulable with reasons', () => {
    const b = buildState([node('zero', { cpu: 0, memory: 0, pods: 0 }), node('n', { cpu: 1000, memory: 1024 ** 3 })], [pod('huge', [{ cpu: '64', memory: '1Ti' }])]);
    const r = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 100, seed: 1 });
    expect(r.placements[0]).toBe(-1);
    expect(r.unschedulable[0]?.message).toBe('0/2 nodes are available: 1 Too many pods, 2 Insufficient cpu, 2 Insufficient memory.');
  });
  it('malformed selectors and quantities are InputErrors', () => {
    expect(() => pod('p', [{ cpu: 'lots' }])).toThrow(InputError);
    const bad = pod('p', [], { requiredNodeAffinity: [{ matchExpressions: [{ key: 'zone', operator: 'Gt', values: ['x'] }], matchFields: [] }] });
    expect(() => buildState([node('n', { cpu: 1 })], [bad])).toThrow(/Gt on "zone" needs exactly one integer value/);
    expect(() => buildState([], [])).toThrow(InputError);
  });
});
