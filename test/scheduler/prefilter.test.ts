// NodeAffinity's PreFilter result (matchFields metadata.name In, as a
// DaemonSet's pods carry): the cycle examines only the named nodes, reports the
// rest as the PreFilter left them out, and advances the start index by the
// nodes it examined (schedule_one.go findNodesThatFitPod).
import { afterAll, describe, expect, it } from 'vitest';
import { explainPod } from '../../src/scheduler/explain.js';
import { preFilterNodeNames } from '../../src/scheduler/plugins/nodeaffinity.js';
import { SchedulerPool } from '../../src/scheduler/pool.js';
import { scheduleReference } from '../../src/scheduler/scheduler.js';
import type { ScheduleOptions } from '../../src/scheduler/scheduler.js';
import { buildState } from '../../src/scheduler/state.js';
import { generateNodes, generatePods } from '../../src/scheduler/synthetic.js';
import type { NodeSelectorTerm, SchedPod } from '../../src/scheduler/types.js';
import { node, pod } from './helpers.js';

const names = (...values: string[][]): NodeSelectorTerm => ({ matchExpressions: [], matchFields: values.map((v) => ({ key: 'metadata.name', operator: 'In' as const, values: v })) });
const daemon = (name: string, terms: NodeSelectorTerm[], cpu = '100m'): SchedPod => pod(name, [{ cpu }], { requiredNodeAffinity: terms });

describe('preFilterNodeNames (node_affinity.go PreFilter)', () => {
  it('unions the terms, intersecting each term\'s name lists', () => {
    expect(preFilterNodeNames([names(['a', 'b'], ['b', 'c']), names(['d'])])).toEqual(new Set(['b', 'd']));
  });
  it('lets every node in when some term names none (terms are ORed), or there are no terms', () => {
    const byLabel: NodeSelectorTerm = { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }], matchFields: [] };
    expect(preFilterNodeNames([names(['a']), byLabel])).toBeNull();
    expect(preFilterNodeNames([{ matchExpressions: [], matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['a'] }] }])).toBeNull();
    expect(preFilterNodeNames(null)).toBeNull();
    expect(preFilterNodeNames([])).toBeNull();
  });
  it('is empty when a term\'s lists share no name (a conflict)', () => {
    expect(preFilterNodeNames([names(['a'], ['b'])])).toEqual(new Set());
  });
});

describe('a cycle narrowed to named nodes', () => {
  // 200 equal nodes but n100, which is twice as large (LeastAllocated prefers it). Adaptive: 100 to find.
  const nodes = () => Array.from({ length: 200 }, (_, i) => node(`n${i}`, { cpu: i === 100 ? 8000 : 4000, memory: 16 * 2 ** 30 }));
  const adaptive: ScheduleOptions = { percentageOfNodesToScore: 0, seed: 1 };
  const nameOf = (b: ReturnType<typeof buildState>, n: number) => (n < 0 ? '-' : b.state.tables.nodeNames[n]);

  it('examines only the named node and advances the start index by one, as upstream', () => {
    // Upstream: the DaemonSet pod examines n150 alone (processed 1), so the next pod's window is nodes 1-100, which holds n100.
    const b = buildState(nodes(), [daemon('ds', [names(['n150'])]), pod('web', [{ cpu: '100m' }])]);
    const r = scheduleReference(b.state, b.pending, adaptive);
    expect(Array.from(r.placements, (n) => nameOf(b, n))).toEqual(['n150', 'n100']);
    // Without the DaemonSet pod the window is nodes 0-99.
    const alone = buildState(nodes(), [pod('web', [{ cpu: '100m' }])]);
    expect(nameOf(alone, scheduleReference(alone.state, alone.pending, adaptive).placements[0] as number)).not.toBe('n100');
  });

  it('reports the named node\'s own reason and the others as the PreFilter left them out', () => {
    const b = buildState(nodes(), [daemon('ds', [names(['n3'])], '5')]);
    const r = scheduleReference(b.state, b.pending, adaptive);
    expect(r.unschedulable.map((u) => u.message)).toEqual(["0/200 nodes are available: 1 Insufficient cpu, 199 node(s) didn't satisfy plugin(s) [NodeAffinity]."]);
  });

  it('names no existing node: every node is left out; conflicting names: the PreFilter rejects the pod', () => {
    const b = buildState(nodes(), [daemon('ghost', [names(['gone'])]), daemon('torn', [names(['n1'], ['n2'])])]);
    const r = scheduleReference(b.state, b.pending, adaptive);
    expect(r.unschedulable.map((u) => u.message)).toEqual([
      "0/200 nodes are available: 200 node(s) didn't satisfy plugin(s) [NodeAffinity].",
      '0/200 nodes are available: pod affinity terms conflict.',
    ]);
  });

  it('--explain reports the nodes left out as the scheduler does', () => {
    const b = buildState(nodes().slice(0, 6), [daemon('ds', [names(['n3'])])]);
    const ex = explainPod(b.state, 0);
    expect(ex.map((e) => e.feasible)).toEqual([false, false, false, true, false, false]);
    expect(ex[0]?.reasons).toEqual(["node(s) didn't satisfy plugin(s) [NodeAffinity]"]);
    const torn = buildState(nodes().slice(0, 2), [daemon('torn', [names(['n0'], ['n1'])])]);
    expect(explainPod(torn.state, 0).map((e) => e.reasons)).toEqual([['pod affinity terms conflict'], ['pod affinity terms conflict']]);
  });

  it('scores and picks among several named nodes, the percentage taken of them', () => {
    const b = buildState(nodes(), [daemon('pair', [names(['n7', 'n100', 'n9'])])]);
    expect(nameOf(b, scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 100, seed: 3 }).placements[0] as number)).toBe('n100');
  });
});

describe('the daemonset workload', () => {
  it('holds pod i to node i mod N, every one placed there (taints and cordons tolerated)', () => {
    const b = buildState(generateNodes(300, 7), generatePods('daemonset', 600, 7, 300));
    const r = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 0, seed: 1 });
    expect(Array.from(r.placements, (n) => b.state.tables.nodeNames[n])).toEqual(Array.from({ length: 600 }, (_, i) => `node-${i % 300}`));
  });
});

describe('narrowed and nominated cycles on the pool', () => {
  const pools: SchedulerPool[] = [];
  afterAll(async () => { await Promise.all(pools.map((p) => p.close())); });
  // The mixed workload with a DaemonSet pod after every 20th of its pods, each naming one node, and every 30th pod nominated to a node.
  /** The same run on the reference path and on a 2-worker pool, each on its own copy of the cluster. */
  const bothWays = async (make: () => ReturnType<typeof buildState>, opts: ScheduleOptions) => {
    const a = make();
    const ref = scheduleReference(a.state, a.pending, opts);
    const b = make();
    const pool = new SchedulerPool(b.state, 2);
    pools.push(pool);
    return { a, ref, r: await pool.schedule(b.pending, opts) };
  };
  const ownNode = new Map<string, string>();
  const cluster = () => {
    const nodes = generateNodes(300, 7);
    const pods = generatePods('mixed', 600, 7).flatMap((p, i) => {
      if (i % 30 === 0) p.nominatedNodeName = (nodes[(i * 13) % 300] as { name: string }).name;
      if (i % 20 !== 0) return [p];
      const target = (nodes[(i * 7) % 300] as { name: string }).name;
      ownNode.set(`ds-${i}`, target);
      return [p, daemon(`ds-${i}`, [names([target])])];
    });
    return buildState(nodes, pods);
  };
  it('2 workers equal the reference path when the named lists are long enough for the percentage to count (10%, batch 1 and 4)', async () => {
    // 1,100 of 1,200 nodes named: numFeasibleNodesToFind(10, 1100) = 110, not all of them; batch helpers get the percentage through the control block.
    const wide = () => {
      const nodes = generateNodes(1200, 3);
      const pods = generatePods('mixed', 400, 3).flatMap((p, i) => {
        if (i % 30 === 0) p.nominatedNodeName = (nodes[(i * 17) % 1200] as { name: string }).name;
        if (i % 25 !== 0) return [p];
        const named = Array.from({ length: 1100 }, (_, k) => (nodes[(i + k) % 1200] as { name: string }).name);
        return [p, daemon(`wide-${i}`, [names(named)])];
      });
      return buildState(nodes, pods);
    };
    for (const batch of [1, 4]) {
      const { ref, r } = await bothWays(wide, { percentageOfNodesToScore: 10, seed: 9, batch, engine: 'incremental' });
      expect(Array.from(r.placements), `batch ${batch}`).toEqual(Array.from(ref.placements));
    }
  });
  for (const [pct, batch] of [[0, 1], [100, 1], [0, 4]] as const) {
    it(`2 workers equal the reference path (percentage ${pct || 'adaptive'}, batch ${batch})`, async () => {
      const { a, ref, r } = await bothWays(cluster, { percentageOfNodesToScore: pct, seed: 42, batch, engine: 'incremental' });
      expect(Array.from(r.placements)).toEqual(Array.from(ref.placements));
      expect(r.unschedulable.map((u) => u.message)).toEqual(ref.unschedulable.map((u) => u.message));
      // Every DaemonSet pod that was placed is on its own node, and most were placed.
      const { podNames, nodeNames } = a.state.tables;
      const daemons = a.pending.map((p, i) => [podNames[p] as string, ref.placements[i] as number] as const).filter(([name]) => name.startsWith('default/ds-'));
      for (const [name, n] of daemons) if (n >= 0) expect(nodeNames[n], name).toBe(ownNode.get(name.slice('default/'.length)));
      expect(daemons.filter(([, n]) => n >= 0).length).toBeGreaterThan(daemons.length / 2);
    });
  }
});
