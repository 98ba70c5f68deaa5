// --capacity: copies of one pod, one at a time, until one fits no node
// (cluster-capacity's question). The loops stop at that copy
// (stopAtUnschedulable) on every path; the answers below are worked out by hand.
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { capacityReport, copiesToTry, formatCapacity, MAX_CAPACITY_COPIES, podCopies, podSlotsFree } from '../../src/scheduler/capacity.js';
import { SchedulerPool } from '../../src/scheduler/pool.js';
import { scheduleReference } from '../../src/scheduler/scheduler.js';
import { buildState } from '../../src/scheduler/state.js';
import type { SchedNode, SchedPod } from '../../src/scheduler/types.js';
import { LABEL_HOSTNAME, LABEL_ZONE } from '../../src/scheduler/types.js';
import { node, pod } from './helpers.js';

const pools: SchedulerPool[] = [];
afterAll(async () => { await Promise.all(pools.map((p) => p.close())); });

const GI = 1024 ** 3;
function nodes(count: number, cpu: number, pods = 110): SchedNode[] {
  return Array.from({ length: count }, (_, i) => node(`n${i}`, { cpu, memory: 64 * GI, pods }, { labels: { [LABEL_ZONE]: `z${i % 2}` } }));
}

function capacity(ns: SchedNode[], p: SchedPod, bound: SchedPod[] = [], max = MAX_CAPACITY_COPIES) {
  const built = buildState(ns, [...bound, ...podCopies(p, copiesToTry(ns, bound, max))]);
  const result = scheduleReference(built.state, built.pending, { percentageOfNodesToScore: 0, seed: 1, stopAtUnschedulable: true });
  return { built, result, report: capacityReport(built, ns, p, result) };
}

describe('capacity: copies until one fits no node', () => {
  it('three 4-cpu nodes take twelve 1-cpu copies, four each; the thirteenth is the limit, and the loop stops there', () => {
    const { report, result } = capacity(nodes(3, 4000), pod('web', [{ cpu: '1' }]));
    expect(report.copies).toBe(12);
    expect(report.stoppedBy).toBe('0/3 nodes are available: 3 Insufficient cpu.');
    expect(report.perNode).toEqual([{ node: 'n0', copies: 4 }, { node: 'n1', copies: 4 }, { node: 'n2', copies: 4 }]);
    expect(report.perZone).toEqual({ z0: 8, z1: 4 });
    expect(result.scheduled).toBe(13);
    expect(report.queued).toBe(331);
  });

  it('without stopAtUnschedulable every queued copy goes through a cycle (what the option saves)', () => {
    const ns = nodes(3, 4000);
    const p = pod('web', [{ cpu: '1' }]);
    const built = buildState(ns, podCopies(p, 40));
    expect(scheduleReference(built.state, built.pending, { percentageOfNodesToScore: 0, seed: 1 }).scheduled).toBe(40);
  });

  it('each copy sees the ones before it: hostname anti-affinity to its own label allows one per node', () => {
    const self = { matchLabels: { app: 'solo' }, matchExpressions: [] };
    const p = pod('solo', [{ cpu: '100m' }], { labels: { app: 'solo' }, podAntiAffinity: { required: [{ labelSelector: self, namespaces: [], topologyKey: LABEL_HOSTNAME }], preferred: [] } });
    const { report } = capacity(nodes(3, 4000), p);
    expect(report.copies).toBe(3);
    // Upstream checks the placed pods' terms first: the copies already there reject the next one.
    expect(report.stoppedBy).toBe("0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules.");
  });

  it('pod slots bound the copies queued: bound pods take theirs, and the next copy is Too many pods', () => {
    const ns = nodes(2, 64000, 2);
    const bound = [pod('old', [{ cpu: '100m' }], { nodeName: 'n0' })];
    expect(podSlotsFree(ns, bound)).toBe(3);
    const { report } = capacity(ns, pod('web', [{ cpu: '100m' }]), bound);
    expect(report.queued).toBe(4);
    expect(report.copies).toBe(3);
    expect(report.stoppedBy).toBe('0/2 nodes are available: 2 Too many pods.');
  });

  it('all queued copies placed under --max-copies: "at least", no limit found', () => {
    const { report } = capacity(nodes(3, 4000), pod('web', [{ cpu: '1' }]), [], 5);
    expect(report).toMatchObject({ copies: 5, queued: 5, stoppedBy: null });
    expect(formatCapacity(report)).toMatch(/^capacity: at least 5 more copies of default\/web fit \(all 5 queued were placed/);
    expect(() => copiesToTry(nodes(1, 1000), [], 0)).toThrow(InputError);
    expect(() => copiesToTry(nodes(1, 1000), [], MAX_CAPACITY_COPIES + 1)).toThrow(InputError);
  });

  it('a pod no node fits: zero copies, with the reason', () => {
    const { report } = capacity(nodes(2, 1000), pod('big', [{ cpu: '2' }]));
    expect(report.copies).toBe(0);
    expect(report.perNode).toEqual([]);
    expect(formatCapacity(report)).toMatch(/^capacity: 0 more copies of default\/big fit; the next: 0\/2 nodes are available: 2 Insufficient cpu\.\n/);
  });

  it('the pool stops at the same copy with the same placements (1 and 2 workers)', async () => {
    const ns = nodes(30, 4000);
    const p = pod('web', [{ cpu: '700m' }]);
    const ref = capacity(ns, p);
    for (const w of [1, 2]) {
      const built = buildState(ns, podCopies(p, copiesToTry(ns, [], MAX_CAPACITY_COPIES)));
      const pool = new SchedulerPool(built.state, w);
      pools.push(pool);
      const r = await pool.schedule(built.pending, { percentageOfNodesToScore: 0, seed: 1, engine: 'incremental', stopAtUnschedulable: true });
      expect(r.scheduled).toBe(ref.result.scheduled);
      expect([...r.placements]).toEqual([...ref.result.placements]);
    }
    expect(ref.report.copies).toBe(30 * 5);
  });
});
