// The batched optimistic mode (batch.ts): B pods scored against one snapshot,
// committed in order after a re-check. What it must keep from the sequential
// mode: every placement passes the whole Filter chain on the state committed
// before it (replayed here pod by pod), and the same seed and batch size give
// the same placements with any number of workers and on the reference path.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { batchStart } from '../../src/scheduler/batch.js';
import { createThreadCtx } from '../../src/scheduler/context.js';
import { evaluateNode, prepareCycle } from '../../src/scheduler/framework.js';
import { SchedulerPool } from '../../src/scheduler/pool.js';
import { scheduleReference } from '../../src/scheduler/scheduler.js';
import type { Engine, ScheduleResult } from '../../src/scheduler/scheduler.js';
import { buildState, commitPod } from '../../src/scheduler/state.js';
import type { BuiltState } from '../../src/scheduler/state.js';
import { generateNodes, generatePods, WORKLOADS } from '../../src/scheduler/synthetic.js';
import type { Workload } from '../../src/scheduler/synthetic.js';
import { node, pod } from './helpers.js';

const pools: SchedulerPool[] = [];
afterAll(async () => { await Promise.all(pools.map((p) => p.close())); });

function cluster(workload: Workload, nodes = 300, pods = 2000): BuiltState {
  return buildState(generateNodes(nodes, 9), generatePods(workload, pods, 9, nodes));
}

async function pooled(workload: Workload, workers: number, pct: number, batch: number, engine: Engine): Promise<ScheduleResult> {
  const b = cluster(workload);
  const p = new SchedulerPool(b.state, workers);
  pools.push(p);
  return p.schedule(b.pending, { percentageOfNodesToScore: pct, seed: 5, batch, engine, pluginSampleEvery: 0 });
}

/** Replays the placements in queue order on a fresh state: each node must pass the pod's whole Filter chain there. */
function replayFeasible(workload: Workload, r: ScheduleResult): number {
  const { state: st, pending } = cluster(workload);
  const ctx = createThreadCtx(st);
  const cols = { reason: new Int32Array(st.N), fit: new Int32Array(st.N), ipa: new Int32Array(st.N), spread: new Int32Array(st.N * Math.max(1, st.tables.maxSoftSpread)) };
  let placed = 0;
  pending.forEach((p, i) => {
    const n = r.placements[i] as number;
    if (n < 0) return;
    evaluateNode(ctx, prepareCycle(ctx, p), n, cols.reason, cols.fit, cols.ipa, cols.spread);
    expect(cols.reason[n], `pod ${i} on node ${n}`).toBe(0);
    commitPod(st, p, n);
    placed++;
  });
  return placed;
}

describe('batched optimistic mode', () => {
  for (const pct of [0, 100]) {
    for (const workload of WORKLOADS) {
      it(`${workload}, percentage ${pct || 'adaptive'}: every placement fits when committed, the same with 1, 2${workload === 'mixed' ? ', 3' : ''} workers and the reference path`, async () => {
        const ref = scheduleReference(cluster(workload).state, cluster(workload).pending, { percentageOfNodesToScore: pct, seed: 5, batch: 4 });
        // Below 100%, the pods of classes few nodes fit run alone (the same sets as the incremental engine's test).
        const alone = ref.batch?.alone ?? -1;
        // A daemonset pod's class is its own (one node each): never seen again, never sparse.
        if (pct === 100 || workload === 'basic' || workload === 'antiaffinity' || workload === 'daemonset') {
          expect(ref.batch).toMatchObject({ batches: 500, alone: 0 });
        } else expect(alone).toBeGreaterThan(0);
        expect(replayFeasible(workload, ref)).toBeGreaterThan(1500);
        // Three threads on the 2-vCPU CI machine: helpers get descheduled and the main thread rescues their pods.
        // The full pass on one worker; every thread's own incremental engine on more (at 100% they take the batch's pods).
        for (const workers of workload === 'mixed' ? [1, 2, 3] : [1, 2]) {
          const r = await pooled(workload, workers, pct, 4, workers === 1 ? 'full' : 'incremental');
          expect(Array.from(r.placements), `${workers} workers`).toEqual(Array.from(ref.placements));
          expect(r.unschedulable.map((u) => `${u.pod} ${u.message}`)).toEqual(ref.unschedulable.map((u) => `${u.pod} ${u.message}`));
          expect(r.batch).toEqual(ref.batch);
        }
      });
    }
  }

  it("a pool reused for a second run starts its helpers' engines afresh (the commit log restarts)", async () => {
    const halves = (b: BuiltState) => [b.pending.slice(0, 1000), b.pending.slice(1000)];
    const opts = { percentageOfNodesToScore: 100, seed: 5, batch: 4, pluginSampleEvery: 0 };
    const ref = cluster('mixed');
    const want = halves(ref).map((part) => Array.from(scheduleReference(ref.state, part, opts).placements));
    const b = cluster('mixed');
    const p = new SchedulerPool(b.state, 2);
    pools.push(p);
    const got: number[][] = [];
    for (const part of halves(b)) got.push(Array.from((await p.schedule(part, { ...opts, engine: 'incremental' })).placements));
    expect(got).toEqual(want);
    expect(p.stats.incrementalCycles).toBeGreaterThan(0);
  });

  it('batch 1 is the sequential mode exactly', () => {
    const b = cluster('mixed');
    const seq = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 0, seed: 5 });
    const b1 = cluster('mixed');
    const one = scheduleReference(b1.state, b1.pending, { percentageOfNodesToScore: 0, seed: 5, batch: 1 });
    expect(Array.from(one.placements)).toEqual(Array.from(seq.placements));
    expect(one.batch).toBeNull();
  });

  it('two pods that both pick the one node only one fits: the second is re-checked, re-run and left unschedulable, never overcommitted', () => {
    const big = node('big', { cpu: 4000, memory: 8 * 1024 ** 3 });
    const small = [node('small-a', { cpu: 1000, memory: 1024 ** 3 }), node('small-b', { cpu: 1000, memory: 1024 ** 3 })];
    const b = buildState([small[0]!, big, small[1]!], [pod('p0', [{ cpu: '3', memory: '1Gi' }]), pod('p1', [{ cpu: '3', memory: '1Gi' }])]);
    const r = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 100, seed: 1, batch: 2 });
    expect(Array.from(r.placements)).toEqual([1, -1]);
    expect(r.batch).toEqual({ batches: 1, conflicts: 1, reruns: 1, alone: 0 });
    expect(r.unschedulable[0]?.message).toBe('0/3 nodes are available: 3 Insufficient cpu.');
  });

  it("a batch's pods start evenly spaced over the rotated order", () => {
    expect([0, 1, 2, 3].map((t) => batchStart(4990, 5000, 4, t))).toEqual([4990, 1240, 2490, 3740]);
  });
});

describe('kscale schedule --batch', () => {
  const kscale = (...args: string[]) => spawnSync(process.execPath, ['bin/kscale.js', 'schedule', ...args], { encoding: 'utf8' });

  it('reports the batch counts in the JSON; the engine takes only the pods that run alone', () => {
    const run = (workload: string) => {
      const r = kscale('--nodes', '200', '--pods', '400', '--workers', '2', '--batch', '4', '--workload', workload, '--json');
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { engine: string; incrementalCycles: number; scheduled: number; batch: { size: number; batches: number; alone: number } };
    };
    expect(run('basic')).toMatchObject({ engine: 'full', incrementalCycles: 0, scheduled: 400, batch: { size: 4, batches: 100, alone: 0 } });
    const mixed = run('mixed');
    expect(mixed).toMatchObject({ engine: 'incremental', scheduled: 400, batch: { size: 4 } });
    expect(mixed.batch.alone).toBeGreaterThan(0);
    expect(mixed.incrementalCycles).toBeGreaterThan(0);
    expect(mixed.incrementalCycles).toBeLessThanOrEqual(mixed.batch.alone);
  });

  it('a batch size of 0 or past the maximum is exit 2 naming the flag', () => {
    for (const bad of ['0', '65', 'two']) {
      const r = kscale('--nodes', '100', '--pods', '10', '--batch', bad);
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toMatch(/--batch/);
    }
  });
});
