// Expected scores reproduced from upstream's plugin tests
// (kubernetes/kubernetes pkg/scheduler/framework/plugins/*/…_test.go); each case
// cites the upstream test function and case name. Upstream fixtures write cpu
// in whole cores, memory in bytes; nodeQ/pod take them as written.
import { describe, expect, it } from 'vitest';
import { explainPod } from '../../src/scheduler/explain.js';
import { numFeasibleNodesToFind } from '../../src/scheduler/framework.js';
import { buildState } from '../../src/scheduler/state.js';
import type { SchedNode, SchedPod } from '../../src/scheduler/types.js';
import { LABEL_HOSTNAME, LABEL_ZONE } from '../../src/scheduler/types.js';
import { node, nodeQ, pod } from './helpers.js';

function scores(nodes: SchedNode[], existing: SchedPod[], incoming: SchedPod, plugin: Parameters<typeof pick>[1]): number[] {
  const built = buildState(nodes, [...existing, incoming]);
  return pick(explainPod(built.state, existing.length), plugin);
}
function pick(ex: ReturnType<typeof explainPod>, plugin: 'NodeResourcesFit' | 'NodeResourcesBalancedAllocation' | 'ImageLocality' | 'TaintToleration' | 'NodeAffinity' | 'PodTopologySpread' | 'InterPodAffinity'): number[] {
  return ex.map((e) => e.scores[plugin] ?? Number.NaN);
}
const on = (p: SchedPod, nodeName: string): SchedPod => ({ ...p, nodeName });

describe('NodeResourcesFit LeastAllocated (least_allocated_test.go TestLeastAllocatedScoringStrategy)', () => {
  const twoContainers = [{ cpu: '1000', memory: '2000' }, { cpu: '2000', memory: '3000' }];
  it('"nothing scheduled, resources requested, differently sized nodes" → 37, 50', () => {
    expect(scores([nodeQ('node1', '4000', '10000'), nodeQ('node2', '6000', '10000')], [], pod('p', twoContainers), 'NodeResourcesFit')).toEqual([37, 50]);
  });
  it('"no resources requested, pods scheduled with resources" → 70, 57', () => {
    const nodes = [nodeQ('node1', '10000', '20000'), nodeQ('node2', '10000', '20000')];
    const existing = [
      on(pod('e1', [{ cpu: '3000', memory: '0' }]), 'node1'), on(pod('e2', [{ cpu: '3000', memory: '0' }]), 'node1'),
      on(pod('e3', [{ cpu: '3000', memory: '0' }]), 'node2'), on(pod('e4', [{ cpu: '3000', memory: '5000' }]), 'node2'),
    ];
    expect(scores(nodes, existing, pod('p'), 'NodeResourcesFit')).toEqual([70, 57]);
  });
  it('"resources requested, pods scheduled with resources" → 57, 45', () => {
    const nodes = [nodeQ('node1', '10000', '20000'), nodeQ('node2', '10000', '20000')];
    const existing = [on(pod('e1', [{ cpu: '3000', memory: '0' }]), 'node1'), on(pod('e2', [{ cpu: '3000', memory: '5000' }]), 'node2')];
    expect(scores(nodes, existing, pod('p', twoContainers), 'NodeResourcesFit')).toEqual([57, 45]);
  });
  it('"resources requested, pods scheduled with resources, differently sized nodes" → 57, 60', () => {
    const nodes = [nodeQ('node1', '10000', '20000'), nodeQ('node2', '10000', '50000')];
    const existing = [on(pod('e1', [{ cpu: '3000', memory: '0' }]), 'node1'), on(pod('e2', [{ cpu: '3000', memory: '5000' }]), 'node2')];
    expect(scores(nodes, existing, pod('p', twoContainers), 'NodeResourcesFit')).toEqual([57, 60]);
  });
  it('uses the non-zero defaults (100m, 200 MB) for a container without requests', () => {
    // 4 cpu / 1000 MB node; a container without requests counts as 100m and 200 MB:
    // cpu (4000-100)*100/4000 = 97, memory (1000-200)*100/1000 = 80 → (97+80)/2 = 88.
    const n = node('n', { cpu: 4000, memory: 1000 * 1024 * 1024 });
    expect(scores([n], [], pod('p', [{}]), 'NodeResourcesFit')).toEqual([88]);
  });
});

describe('NodeResourcesBalancedAllocation (balanced_allocation_test.go TestNodeResourcesBalancedAllocation)', () => {
  it('"nothing scheduled, resources requested, differently sized nodes" → 87, 100', () => {
    const p = pod('p', [{ cpu: '1000', memory: '2000' }, { cpu: '2000', memory: '3000' }]);
    expect(scores([nodeQ('node1', '4000', '10000'), nodeQ('node2', '6000', '10000')], [], p, 'NodeResourcesBalancedAllocation')).toEqual([87, 100]);
  });
  it('"nothing scheduled, nothing requested, skip in PreScore": best-effort pods get 0 from the skipped plugin', () => {
    expect(scores([nodeQ('node1', '4000', '10000'), nodeQ('node2', '4000', '10000')], [], pod('p'), 'NodeResourcesBalancedAllocation')).toEqual([0, 0]);
  });
});

describe('ImageLocality (image_locality_test.go TestImageLocalityPriority)', () => {
  const MB = 1024 * 1024;
  const n1 = node('node1', { cpu: 1000, memory: GiB() }, { images: [
    { names: ['gcr.io/40:latest'], sizeBytes: 40 * MB }, { names: ['gcr.io/300:latest'], sizeBytes: 300 * MB }, { names: ['gcr.io/2000:latest'], sizeBytes: 2000 * MB }] });
  const n2 = node('node2', { cpu: 1000, memory: GiB() }, { images: [
    { names: ['gcr.io/250:latest'], sizeBytes: 250 * MB }, { names: ['gcr.io/10:latest', 'gcr.io/10:v1'], sizeBytes: 10 * MB }] });
  const withImages = (images: string[]): SchedPod => pod('p', images.map(() => ({})), { images });
  it('"two images spread on two nodes, prefer the larger image one" → 0, 5', () => {
    expect(scores([n1, n2], [], withImages(['gcr.io/40', 'gcr.io/250']), 'ImageLocality')).toEqual([0, 5]);
  });
  it('"two images on one node, prefer this node" → 7, 0', () => {
    expect(scores([n1, n2], [], withImages(['gcr.io/40', 'gcr.io/300']), 'ImageLocality')).toEqual([7, 0]);
  });
});
function GiB(): number { return 1024 ** 3; }

describe('TaintToleration (taint_toleration_test.go TestTaintTolerationScore)', () => {
  it('"node with taints tolerated by the pod, gets a higher score than those node with intolerable taints" → 100, 0', () => {
    const nodeA = node('nodeA', { cpu: 1000, memory: GiB() }, { taints: [{ key: 'foo', value: 'bar', effect: 'PreferNoSchedule' }] });
    const nodeB = node('nodeB', { cpu: 1000, memory: GiB() }, { taints: [{ key: 'foo', value: 'blah', effect: 'PreferNoSchedule' }] });
    const p = pod('p', [], { tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'PreferNoSchedule' }] });
    expect(scores([nodeA, nodeB], [], p, 'TaintToleration')).toEqual([100, 0]);
  });
  it('"the nodes that all of their taints are tolerated by the pod, get the same score, no matter how many tolerable taints a node has" → 100, 100, 100', () => {
    const t = (k: string, v: string) => ({ key: k, value: v, effect: 'PreferNoSchedule' as const });
    const nodes = [node('nodeA', { cpu: 1 }), node('nodeB', { cpu: 1 }, { taints: [t('cpu-type', 'arm64')] }), node('nodeC', { cpu: 1 }, { taints: [t('cpu-type', 'arm64'), t('disk-type', 'ssd')] })];
    const p = pod('p', [], { tolerations: [{ key: 'cpu-type', operator: 'Equal', value: 'arm64', effect: 'PreferNoSchedule' }, { key: 'disk-type', operator: 'Equal', value: 'ssd', effect: 'PreferNoSchedule' }] });
    expect(scores(nodes, [], p, 'TaintToleration')).toEqual([100, 100, 100]);
  });
  it('"the more intolerable taints a node has, the lower score it gets." → 100, 50, 0', () => {
    const t = (k: string, v: string) => ({ key: k, value: v, effect: 'PreferNoSchedule' as const });
    const nodes = [node('nodeA', { cpu: 1 }), node('nodeB', { cpu: 1 }, { taints: [t('cpu-type', 'arm64')] }), node('nodeC', { cpu: 1 }, { taints: [t('cpu-type', 'arm64'), t('disk-type', 'ssd')] })];
    const p = pod('p', [], { tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'PreferNoSchedule' }] });
    expect(scores(nodes, [], p, 'TaintToleration')).toEqual([100, 50, 0]);
  });
});

describe('NodeAffinity score (node_affinity_test.go TestNodeAffinityPriority)', () => {
  const term = (labels: Record<string, string>) => ({ matchExpressions: Object.entries(labels).map(([key, v]) => ({ key, operator: 'In' as const, values: [v] })), matchFields: [] });
  const affinity3 = [
    { weight: 2, preference: term({ foo: 'bar' }) },
    { weight: 4, preference: term({ key: 'value' }) },
    { weight: 5, preference: term({ foo: 'bar', key: 'value', az: 'az1' }) },
  ];
  it('"all nodes matches the preferred scheduling requirements of pod but with different priorities" → 18, 36, 100', () => {
    const nodes = [
      node('node1', { cpu: 1 }, { labels: { foo: 'bar' } }),
      node('node2', { cpu: 1 }, { labels: { key: 'value' } }),
      node('node3', { cpu: 1 }, { labels: { foo: 'bar', key: 'value', az: 'az1' } }),
    ];
    expect(scores(nodes, [], pod('p', [], { preferredNodeAffinity: affinity3 }), 'NodeAffinity')).toEqual([18, 36, 100]);
  });
});

describe('PodTopologySpread system defaults', () => {
  it('prefers the node and zone with fewer pods of the same owner', () => {
    // Hand-computed with upstream's formulas (scoring.go): 3 filtered nodes, zones {a, a, b}.
    // weights: hostname log(3+2), zone log(2+2). Existing owner pods: n1 ×2 (zone a), n3 ×1 (zone b).
    // raw n1 = 2·ln5 + 2 + 2·ln4 + 4 = 11.99 → 12; n2 = 0 + 2 + 2·ln4 + 4 = 8.77 → 9; n3 = ln5 + 2 + ln4 + 4 = 9.0 → 9
    // normalized: 100·(max + min − s)/max with max 12, min 9 → n1 75, n2 100, n3 100.
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [] };
    const nodes = ['n1', 'n2', 'n3'].map((n, i) => node(n, { cpu: 10_000, memory: 10 * GiB() }, { labels: { [LABEL_ZONE]: i < 2 ? 'a' : 'b' } }));
    const web = (name: string) => pod(name, [{ cpu: '100m' }], { labels: { app: 'web' }, spreadSelector: sel });
    const existing = [on(web('w1'), 'n1'), on(web('w2'), 'n1'), on(web('w3'), 'n3')];
    expect(scores(nodes, existing, web('new'), 'PodTopologySpread')).toEqual([75, 100, 100]);
  });
});

describe('InterPodAffinity', () => {
  const sel = (app: string) => ({ matchLabels: { app }, matchExpressions: [] });
  const nodes = () => ['n1', 'n2', 'n3'].map((n, i) => node(n, { cpu: 10_000, memory: 10 * GiB() }, { labels: { [LABEL_ZONE]: i < 2 ? 'a' : 'b' } }));
  it('filters by required anti-affinity (incoming and existing) with the upstream reasons', () => {
    const db = (name: string) => pod(name, [], { labels: { app: 'db' }, podAntiAffinity: { required: [{ labelSelector: sel('db'), namespaces: [], topologyKey: LABEL_HOSTNAME }], preferred: [] } });
    const built = buildState(nodes(), [on(db('d1'), 'n1'), db('d2'), pod('other', [], { labels: { app: 'db' } })]);
    const ex = explainPod(built.state, 1);
    expect(ex.map((e) => e.feasible)).toEqual([false, true, true]);
    expect(ex[0]?.reasons).toEqual(["node(s) didn't satisfy existing pods anti-affinity rules"]);
    // A pod without terms is still kept off n1 by d1's required anti-affinity (symmetry).
    expect(explainPod(built.state, 2).map((e) => e.feasible)).toEqual([false, true, true]);
  });
  it('required affinity lets the first pod of a self-selecting group anywhere, then follows the group', () => {
    const cache = (name: string) => pod(name, [], { labels: { app: 'cache' }, podAffinity: { required: [{ labelSelector: sel('cache'), namespaces: [], topologyKey: LABEL_ZONE }], preferred: [] } });
    expect(explainPod(buildState(nodes(), [cache('c1')]).state, 0).map((e) => e.feasible)).toEqual([true, true, true]);
    const ex = explainPod(buildState(nodes(), [on(cache('c1'), 'n3'), cache('c2')]).state, 1);
    expect(ex.map((e) => e.feasible)).toEqual([false, false, true]);
    expect(ex[0]?.reasons).toEqual(["node(s) didn't match pod affinity rules"]);
  });
  it('scores preferred affinity by matching pods per domain, normalized by (s - min)/(max - min) over the scores themselves', () => {
    const p = pod('p', [], { podAffinity: { required: [], preferred: [{ weight: 10, podAffinityTerm: { labelSelector: sel('db'), namespaces: [], topologyKey: LABEL_ZONE } }] } });
    const existing = [on(pod('d1', [], { labels: { app: 'db' } }), 'n1'), on(pod('d2', [], { labels: { app: 'db' } }), 'n3'), on(pod('d3', [], { labels: { app: 'db' } }), 'n3')];
    // zone a: 10, zone b: 20; normalised over the scores' own extremes (10 and 20) → n1 0, n2 0, n3 100
    expect(scores(nodes(), existing, p, 'InterPodAffinity')).toEqual([0, 0, 100]);
  });
});

describe('filters and reasons', () => {
  it('reports per-node reasons in upstream filter order', () => {
    const nodes = [
      node('unsched', { cpu: 4000, memory: GiB() }, { unschedulable: true }),
      node('tainted', { cpu: 4000, memory: GiB() }, { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      node('small', { cpu: 100, memory: GiB() }),
      node('zero', { cpu: 0, memory: 0, pods: 0 }),
      node('ok', { cpu: 4000, memory: GiB() }),
    ];
    const built = buildState(nodes, [pod('p', [{ cpu: '500m', memory: '100Mi', 'example.com/gpu': '1' }])]);
    const ex = explainPod(built.state, 0);
    expect(ex.map((e) => e.reasons)).toEqual([
      ['node(s) were unschedulable'],
      ['node(s) had untolerated taint {dedicated: gpu}'],
      ['Insufficient cpu', 'Insufficient example.com/gpu'],
      ['Too many pods', 'Insufficient cpu', 'Insufficient memory', 'Insufficient example.com/gpu'],
      ['Insufficient example.com/gpu'],
    ]);
  });
});

describe('percentageOfNodesToScore (schedule_one.go numFeasibleNodesToFind)', () => {
  it('follows the adaptive formula with its minimums', () => {
    expect(numFeasibleNodesToFind(0, 50)).toBe(50);
    expect(numFeasibleNodesToFind(0, 100)).toBe(100);
    expect(numFeasibleNodesToFind(0, 500)).toBe(230);
    expect(numFeasibleNodesToFind(0, 1000)).toBe(420);
    expect(numFeasibleNodesToFind(0, 5000)).toBe(500);
    expect(numFeasibleNodesToFind(0, 10_000)).toBe(500);
    expect(numFeasibleNodesToFind(100, 5000)).toBe(5000);
    expect(numFeasibleNodesToFind(1, 5000)).toBe(100);
  });
});
