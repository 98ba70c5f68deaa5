// A pending pod's status.nominatedNodeName (left by a preemption): its cycle
// tries that node alone first and takes it, unscored, when it fits; otherwise
// that node's status joins the diagnosis of the usual pass
// (schedule_one.go evaluateNominatedNode, findNodesThatFitPod).
import { describe, expect, it } from 'vitest';
import { podCopies } from '../../src/scheduler/capacity.js';
import { parseClusterManifests } from '../../src/scheduler/manifests.js';
import { scheduleReference } from '../../src/scheduler/scheduler.js';
import type { ScheduleOptions } from '../../src/scheduler/scheduler.js';
import { buildState } from '../../src/scheduler/state.js';
import type { SchedPod } from '../../src/scheduler/types.js';
import { node, pod } from './helpers.js';

// 200 nodes of 4 cpus; n100 has 8 (LeastAllocated prefers it), n150 only 100m. Adaptive: 100 nodes to find.
const nodes = () => Array.from({ length: 200 }, (_, i) => node(`n${i}`, { cpu: i === 100 ? 8000 : i === 150 ? 100 : 4000, memory: 16 * 2 ** 30 }));
const adaptive: ScheduleOptions = { percentageOfNodesToScore: 0, seed: 1 };
const web = (name: string, cpu = '100m', extra: Partial<SchedPod> = {}) => pod(name, [{ cpu }], extra);
const placed = (pods: SchedPod[]) => {
  const b = buildState(nodes(), pods);
  const r = scheduleReference(b.state, b.pending, adaptive);
  return { names: Array.from(r.placements, (n) => (n < 0 ? '-' : b.state.tables.nodeNames[n])), messages: r.unschedulable.map((u) => u.message) };
};

describe('nominatedNodeName', () => {
  it('takes the nominated node when it fits, without scoring, and leaves the start index where it was', () => {
    const alone = placed([web('b')]).names[0] as string;
    expect(alone).not.toBe('n5');
    // n5 scores below n100 and lies in the same window; the nominated pod goes there anyway, and b's window is unchanged.
    expect(placed([web('a', '100m', { nominatedNodeName: 'n5' }), web('b')]).names).toEqual(['n5', alone]);
  });

  it('runs the usual pass when the nominated node does not fit, counting that node among the processed ones', () => {
    // Without the nomination a examines nodes 0-99 and b's window starts at n100, which it takes. With it, n150's
    // failed status counts too: 101 processed, b's window starts at n101 and misses n100.
    const plain = placed([web('a', '500m'), web('b')]).names;
    expect(plain[1]).toBe('n100');
    const nominated = placed([web('a', '500m', { nominatedNodeName: 'n150' }), web('b')]).names;
    expect(nominated[0]).toBe(plain[0]);
    expect(nominated[1]).not.toBe('n100');
  });

  it('puts a failed nominated node outside a PreFilter list among the reasons, not among the nodes left out', () => {
    const ds = web('ds', '5', { nominatedNodeName: 'n7', requiredNodeAffinity: [{ matchExpressions: [], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] }] });
    expect(placed([ds]).messages).toEqual([
      "0/200 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector, 198 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    ]);
  });

  it('is the nominated pod\'s own: --capacity copies of it are new pods without one', () => {
    const copies = podCopies(web('a', '100m', { nominatedNodeName: 'n5' }), 2);
    expect(copies.map((p) => [p.name, p.nominatedNodeName])).toEqual([['a-1', undefined], ['a-2', undefined]]);
  });

  it('ignores a nomination to a node the cluster does not have', () => {
    expect(placed([web('a', '100m', { nominatedNodeName: 'gone' }), web('b')]).names).toEqual(placed([web('a'), web('b')]).names);
  });

  it("is read from a pending pod's status, and dropped for a bound one", () => {
    const doc = (name: string, nodeName: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  ${nodeName === '' ? '' : `nodeName: ${nodeName}`}
  containers: [{name: c, image: pause, resources: {requests: {cpu: 100m}}}]
status: {nominatedNodeName: n1}
---
`;
    const n = `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
---
`;
    const c = parseClusterManifests(n + doc('bound', 'n1') + doc('pending', ''), 'nom.yaml');
    expect(c.pods.map((p) => [p.name, p.nominatedNodeName])).toEqual([['bound', undefined], ['pending', 'n1']]);
  });
});
