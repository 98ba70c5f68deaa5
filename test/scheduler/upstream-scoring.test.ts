// Normalized scores reproduced from upstream's score-plugin tests
// (kubernetes/kubernetes pkg/scheduler/framework/plugins/…): every `it` is named
// after the upstream case it reproduces and asserts upstream's expected scores
// for the nodes upstream scores, in upstream's node order.
//
// Two differences between upstream's harness and explainPod shape the set-ups:
// - upstream score tests call PreScore/Score/NormalizeScore on a given list of
//   "filtered" nodes, while explainPod scores the nodes that pass kscale's
//   filters. A node upstream lists as failed is given `unschedulable: true`
//   here: NodeUnschedulable rejects it, and nothing PodTopologySpread or
//   InterPodAffinity counts depends on that field, so the pods on it still
//   count where upstream counts them.
// - upstream fixtures give nodes no allocatable and pods no requests; the
//   builders here add only `pods: 110`, which no score below reads.
import { describe, expect, it } from 'vitest';
import { explainPod } from '../../src/scheduler/explain.js';
import type { ScorePluginName } from '../../src/scheduler/framework.js';
import { buildState } from '../../src/scheduler/state.js';
import type { LabelSelector, SchedNode, SchedPod, TopologySpreadConstraint, WeightedPodAffinityTerm } from '../../src/scheduler/types.js';
import { LABEL_HOSTNAME } from '../../src/scheduler/types.js';
import { node, pod } from './helpers.js';

/** The named plugin's normalized score for each node that upstream scores (the feasible ones, in node order). */
function scores(nodes: SchedNode[], existing: SchedPod[], incoming: SchedPod, plugin: ScorePluginName): number[] {
  const built = buildState(nodes, [...existing, incoming]);
  return explainPod(built.state, existing.length).filter((e) => e.feasible).map((e) => e.scores[plugin] ?? Number.NaN);
}
const on = (p: SchedPod, nodeName: string): SchedPod => ({ ...p, nodeName });
/** A node with exactly these labels (no implicit hostname label). */
const bare = (name: string, labels: Record<string, string>, extra: Partial<SchedNode> = {}): SchedNode => ({ ...node(name, {}), ...extra, labels });
/** A node upstream passes as not filtered: kscale's NodeUnschedulable filter rejects it. */
const failed = (n: SchedNode): SchedNode => ({ ...n, unschedulable: true });
const exists = (key: string): LabelSelector => ({ matchLabels: {}, matchExpressions: [{ key, operator: 'Exists', values: [] }] });

describe('PodTopologySpread score (podtopologyspread/scoring_test.go TestPodTopologySpreadScore)', () => {
  const foo = exists('foo');
  const bar = exists('bar');
  const soft = (maxSkew: number, topologyKey: string, labelSelector: LabelSelector | null, minDomains = 1): TopologySpreadConstraint =>
    ({ maxSkew, topologyKey, whenUnsatisfiable: 'ScheduleAnyway', labelSelector, minDomains });
  const incoming = (constraints: TopologySpreadConstraint[], labels: Record<string, string> = { foo: '' }, extra: Partial<SchedPod> = {}): SchedPod =>
    pod('p', [], { labels, topologySpreadConstraints: constraints, ...extra });
  /** Existing pods by node: [node, count, labels]. */
  const placed = (...groups: [string, number, Record<string, string>][]): SchedPod[] =>
    groups.flatMap(([n, count, labels]) => Array.from({ length: count }, (_, i) => on(pod(`p-${n}-${i + 1}`, [], { labels }), n)));
  const F = { foo: '' };
  const host = (name: string, labels: Record<string, string> = {}): SchedNode => bare(name, { [LABEL_HOSTNAME]: name, ...labels });
  const abcd = () => ['node-a', 'node-b', 'node-c', 'node-d'].map((n) => host(n));

  it('"one constraint on node, all 4 nodes are candidates" → 20, 60, 100, 0', () => {
    const existing = placed(['node-a', 2, F], ['node-b', 1, F], ['node-d', 3, F]);
    expect(scores(abcd(), existing, incoming([soft(1, LABEL_HOSTNAME, foo)]), 'PodTopologySpread')).toEqual([20, 60, 100, 0]);
  });

  it('"one constraint on node, null selector" → 100, 100, 100, 100', () => {
    const existing = placed(['node-a', 2, F], ['node-b', 1, F], ['node-d', 3, F]);
    expect(scores(abcd(), existing, incoming([soft(1, LABEL_HOSTNAME, null)]), 'PodTopologySpread')).toEqual([100, 100, 100, 100]);
  });

  it('"one constraint on node, all 4 nodes are candidates, maxSkew=3" → 44, 66, 77, 100', () => {
    const existing = placed(['node-a', 4, F], ['node-b', 3, F], ['node-c', 2, F], ['node-d', 1, F]);
    expect(scores(abcd(), existing, incoming([soft(3, LABEL_HOSTNAME, foo)]), 'PodTopologySpread')).toEqual([44, 66, 77, 100]);
  });

  it('"system defaulting, nodes don\'t have zone, pods match service" → 44, 66, 77, 100', () => {
    // No constraints on the pod; a Service selects foo="" → the system defaults
    // (hostname maxSkew 3, zone maxSkew 5) with that selector. No node has a zone.
    const existing = placed(['node-a', 4, F], ['node-b', 3, F], ['node-c', 2, F], ['node-d', 1, F]);
    const p = incoming([], F, { spreadSelector: { matchLabels: { foo: '' }, matchExpressions: [] } });
    expect(scores(abcd(), existing, p, 'PodTopologySpread')).toEqual([44, 66, 77, 100]);
  });

  it('"one constraint on node, 3 out of 4 nodes are candidates" → 33, 83, 100 (node-y not filtered)', () => {
    const nodes = [host('node-a'), host('node-b'), host('node-x'), failed(host('node-y'))];
    const existing = placed(['node-a', 4, F], ['node-b', 2, F], ['node-x', 1, F], ['node-y', 3, F]);
    expect(scores(nodes, existing, incoming([soft(1, LABEL_HOSTNAME, foo)]), 'PodTopologySpread')).toEqual([33, 83, 100]);
  });

  it('"one constraint on node, 3 out of 4 nodes are candidates, one node doesn\'t match topology key" → 16, 0, 100', () => {
    const nodes = [host('node-a'), bare('node-b', { n: 'node-b' }), host('node-x'), failed(host('node-y'))];
    const existing = placed(['node-a', 4, F], ['node-b', 2, F], ['node-x', 1, F], ['node-y', 3, F]);
    expect(scores(nodes, existing, incoming([soft(1, LABEL_HOSTNAME, foo)]), 'PodTopologySpread')).toEqual([16, 0, 100]);
  });

  it('"one constraint on zone, 3 out of 4 nodes are candidates" → 75, 75, 100 (pods on the failed node-y still count for zone2)', () => {
    const nodes = [host('node-a', { zone: 'zone1' }), host('node-b', { zone: 'zone1' }), host('node-x', { zone: 'zone2' }), failed(host('node-y', { zone: 'zone2' }))];
    const existing = placed(['node-a', 4, F], ['node-b', 2, F], ['node-x', 1, F], ['node-y', 3, F]);
    expect(scores(nodes, existing, incoming([soft(1, 'zone', foo)]), 'PodTopologySpread')).toEqual([75, 75, 100]);
  });

  it('"two Constraints on zone and node, 2 out of 4 nodes are candidates" → 100, 63', () => {
    const nodes = [host('node-a', { zone: 'zone1' }), host('node-x', { zone: 'zone2' }), failed(host('node-b', { zone: 'zone1' })), failed(host('node-y', { zone: 'zone2' }))];
    const existing = placed(['node-a', 2, F], ['node-b', 1, F], ['node-x', 2, F], ['node-y', 4, F]);
    expect(scores(nodes, existing, incoming([soft(1, 'zone', foo), soft(1, LABEL_HOSTNAME, foo)]), 'PodTopologySpread')).toEqual([100, 63]);
  });

  it('"two Constraints on zone, 2 out of 4 nodes are candidates" → 85, 100', () => {
    // These nodes carry only the zone label.
    const z = (name: string, zone: string) => bare(name, { zone });
    const nodes = [z('node-a', 'zone1'), z('node-x', 'zone2'), failed(z('node-b', 'zone1')), failed(z('node-y', 'zone2'))];
    const FB = { foo: '', bar: '' };
    const existing = placed(['node-a', 1, FB], ['node-a', 1, F], ['node-b', 1, FB], ['node-y', 1, F], ['node-y', 1, FB], ['node-y', 1, F]);
    const p = incoming([soft(1, 'zone', foo), soft(1, 'zone', bar)], FB);
    expect(scores(nodes, existing, p, 'PodTopologySpread')).toEqual([85, 100]);
  });

  const zoned = () => [host('node-a', { zone: 'zone1' }), host('node-b', { zone: 'zone1' }), host('node-x', { zone: 'zone2' }), host('node-y', { zone: 'zone2' })];
  const fooZoneBarHost = () => incoming([soft(1, 'zone', foo), soft(1, LABEL_HOSTNAME, bar)], { foo: '', bar: '' });

  it('"two Constraints on zone and node, with different labelSelectors" → 60, 20, 100, 60', () => {
    const existing = placed(['node-a', 1, F], ['node-b', 1, { foo: '', bar: '' }], ['node-y', 1, F], ['node-y', 1, { bar: '' }]);
    expect(scores(zoned(), existing, fooZoneBarHost(), 'PodTopologySpread')).toEqual([60, 20, 100, 60]);
  });

  it('"two Constraints on zone and node, with different labelSelectors, some nodes have 0 pods" → 100, 60, 40, 0', () => {
    const existing = placed(['node-b', 1, { bar: '' }], ['node-x', 1, F], ['node-y', 1, { foo: '', bar: '' }]);
    expect(scores(zoned(), existing, fooZoneBarHost(), 'PodTopologySpread')).toEqual([100, 60, 40, 0]);
  });

  it('"two Constraints on zone and node, with different labelSelectors, 3 out of 4 nodes are candidates" → 50, 25, 100', () => {
    const nodes = zoned();
    nodes[3] = failed(nodes[3] as SchedNode);
    const existing = placed(['node-a', 1, F], ['node-b', 1, { foo: '', bar: '' }], ['node-y', 1, F], ['node-y', 1, { bar: '' }]);
    expect(scores(nodes, existing, fooZoneBarHost(), 'PodTopologySpread')).toEqual([50, 25, 100]);
  });

  it('"existing pods in a different namespace do not count" → 100, 33', () => {
    const existing = [
      on(pod('p-a1', [], { namespace: 'ns1', labels: F }), 'node-a'), on(pod('p-a2', [], { labels: F }), 'node-a'),
      on(pod('p-b1', [], { labels: F }), 'node-b'), on(pod('p-b2', [], { labels: F }), 'node-b'),
    ];
    expect(scores([host('node-a'), host('node-b')], existing, incoming([soft(1, LABEL_HOSTNAME, foo)]), 'PodTopologySpread')).toEqual([100, 33]);
  });

  it('"minDomains has no effect when ScheduleAnyway" → 75, 75, 100', () => {
    const nodes = ['node-a', 'node-b', 'node-c'].map((n) => bare(n, { node: n }));
    const existing = placed(['node-a', 2, F], ['node-b', 2, F], ['node-c', 1, F]);
    expect(scores(nodes, existing, incoming([soft(2, 'node', foo, 10)]), 'PodTopologySpread')).toEqual([75, 75, 100]);
  });

  it('"NodeTaintsPolicy ignored" → 66, 100, 100 (the default policy: node-c\'s pod counts though node-c is tainted)', () => {
    // Upstream scores node-c although it carries node.kubernetes.io/unschedulable:NoSchedule;
    // the pod tolerates it here so kscale's TaintToleration filter passes node-c too.
    // Under nodeTaintsPolicy Ignore the spread counts do not read taints or tolerations.
    const taint = { key: 'node.kubernetes.io/unschedulable', value: '', effect: 'NoSchedule' as const };
    const nodes = [bare('node-a', { node: 'node-a' }), bare('node-b', { node: 'node-b' }), bare('node-c', { node: 'node-c' }, { taints: [taint] })];
    const existing = placed(['node-a', 2, F], ['node-b', 1, F], ['node-c', 1, F]);
    const p = incoming([soft(1, 'node', foo)], F, { tolerations: [{ key: taint.key, operator: 'Exists', value: '', effect: 'NoSchedule' }] });
    expect(scores(nodes, existing, p, 'PodTopologySpread')).toEqual([66, 100, 100]);
  });
});

describe('InterPodAffinity score (interpodaffinity/scoring_test.go TestPreferredAffinity)', () => {
  const China = { region: 'China' };
  const India = { region: 'India' };
  const az1 = { az: 'az1' };
  const az2 = { az: 'az2' };
  const ChinaAz1 = { region: 'China', az: 'az1' };
  const S1 = { security: 'S1' };
  const S2 = { security: 'S2' };
  const securityIn = (...values: string[]): LabelSelector => ({ matchLabels: {}, matchExpressions: [{ key: 'security', operator: 'In', values }] });
  const weighted = (weight: number, labelSelector: LabelSelector, topologyKey: string): WeightedPodAffinityTerm =>
    ({ weight, podAffinityTerm: { labelSelector, namespaces: [], topologyKey } });
  const none = { required: [], preferred: [] };
  // The affinity specs of upstream's fixture, by what they ask for.
  const stayWithS1InRegion: Partial<SchedPod> = { podAffinity: { required: [], preferred: [weighted(5, securityIn('S1'), 'region')] } };
  const stayWithS2InRegion: Partial<SchedPod> = { podAffinity: { required: [], preferred: [weighted(6, securityIn('S2'), 'region')] } };
  const securityExistsNoWrongkey: LabelSelector = { matchLabels: {}, matchExpressions: [{ key: 'security', operator: 'Exists', values: [] }, { key: 'wrongkey', operator: 'DoesNotExist', values: [] }] };
  const affinity3: Partial<SchedPod> = { podAffinity: { required: [], preferred: [
    weighted(8, { matchLabels: {}, matchExpressions: [{ key: 'security', operator: 'NotIn', values: ['S1'] }, { key: 'security', operator: 'In', values: ['S2'] }] }, 'region'),
    weighted(2, securityExistsNoWrongkey, 'region'),
  ] } };
  const hardAffinity: Partial<SchedPod> = { podAffinity: { required: [
    { labelSelector: securityIn('S1', 'value2'), namespaces: [], topologyKey: 'region' },
    { labelSelector: securityExistsNoWrongkey, namespaces: [], topologyKey: 'region' },
  ], preferred: [] } };
  const awayFromS1InAz: Partial<SchedPod> = { podAntiAffinity: { required: [], preferred: [weighted(5, securityIn('S1'), 'az')] } };
  const awayFromS2InAz: Partial<SchedPod> = { podAntiAffinity: { required: [], preferred: [weighted(5, securityIn('S2'), 'az')] } };
  const stayWithS1InRegionAwayFromS2InAz: Partial<SchedPod> = {
    podAffinity: { required: [], preferred: [weighted(8, securityIn('S1'), 'region')] },
    podAntiAffinity: { required: [], preferred: [weighted(5, securityIn('S2'), 'az')] },
  };
  const nodes = (...labels: Record<string, string>[]): SchedNode[] => labels.map((l, i) => node(`node${i + 1}`, {}, { labels: l }));
  let seq = 0;
  /** An existing pod on nodeName with these labels and affinity. */
  const at = (nodeName: string, labels: Record<string, string> = {}, spec: Partial<SchedPod> = {}): SchedPod =>
    on(pod(`e${++seq}`, [], { labels, podAffinity: none, podAntiAffinity: none, ...spec }), nodeName);
  const incoming = (labels: Record<string, string>, spec: Partial<SchedPod> = {}): SchedPod => pod('p', [], { labels, ...spec });

  it('"Affinity: pod that matches topology key & pods in nodes will get high score comparing to otherswhich doesn\'t match either pods in nodes or in topology key" → 100, 0, 0', () => {
    const existing = [at('node1', S1), at('node2', S2), at('node3', S1)];
    expect(scores(nodes(China, India, az1), existing, incoming(S1, stayWithS1InRegion), 'InterPodAffinity')).toEqual([100, 0, 0]);
  });

  it('"All the nodes that have the same topology key & label value with one of them has an existing pod that match the affinity rules, have the same score" → 100, 100, 0', () => {
    expect(scores(nodes(China, ChinaAz1, India), [at('node1', S1)], incoming({}, stayWithS1InRegion), 'InterPodAffinity')).toEqual([100, 100, 0]);
  });

  it('"Affinity: nodes in one region has more matching pods comparing to other region, so the region which has more matches will get high score" → 100, 0, 100, 100, 0', () => {
    // Raw: China 4 × 6 = 24, India 2 × 6 = 12, normalised over the scores' own
    // min and max (12, 24): India scores 0, not 50 as with a range widened to hold 0.
    const existing = [at('node1', S2), at('node1', S2), at('node2', S2), at('node3', S2), at('node4', S2), at('node5', S2)];
    expect(scores(nodes(China, India, China, China, India), existing, incoming(S1, stayWithS2InRegion), 'InterPodAffinity')).toEqual([100, 0, 100, 100, 0]);
  });

  it('"Affinity: different Label operators and values for pod affinity scheduling preference, including some match failures " → 20, 100, 0', () => {
    const existing = [at('node1', S1), at('node2', S2), at('node3', S1)];
    expect(scores(nodes(China, India, az1), existing, incoming(S1, affinity3), 'InterPodAffinity')).toEqual([20, 100, 0]);
  });

  it('"Affinity symmetry: considered only the preferredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry" → 0, 100, 0', () => {
    const existing = [at('node1', S1, stayWithS1InRegion), at('node2', S2, stayWithS2InRegion)];
    expect(scores(nodes(China, India, az1), existing, incoming(S2), 'InterPodAffinity')).toEqual([0, 100, 0]);
  });

  it('"Affinity symmetry: considered RequiredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry" → 100, 100, 0', () => {
    // Each placed pod's two required terms select the incoming S1 pod: hardPodAffinityWeight 1 each per region.
    const existing = [at('node1', S1, hardAffinity), at('node2', S2, hardAffinity)];
    expect(scores(nodes(China, India, az1), existing, incoming(S1), 'InterPodAffinity')).toEqual([100, 100, 0]);
  });

  it('"Anti Affinity: pod that does not match existing pods in node will get high score " → 0, 100', () => {
    expect(scores(nodes(az1, China), [at('node1', S1), at('node2', S2)], incoming(S1, awayFromS1InAz), 'InterPodAffinity')).toEqual([0, 100]);
  });

  it('"Anti Affinity: one node has more matching pods comparing to other node, so the node which has more unmatches will get high score" → 0, 100', () => {
    const existing = [at('node1', S1), at('node1', S1), at('node2', S2)];
    expect(scores(nodes(az1, India), existing, incoming(S1, awayFromS1InAz), 'InterPodAffinity')).toEqual([0, 100]);
  });

  it('"Anti Affinity symmetry: the existing pods in node which has anti affinity match will get high score" → 0, 100', () => {
    const existing = [at('node1', S1, awayFromS2InAz), at('node2', S2, awayFromS1InAz)];
    expect(scores(nodes(az1, az2), existing, incoming(S2), 'InterPodAffinity')).toEqual([0, 100]);
  });

  it('"Affinity and Anti Affinity: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity" → 100, 0', () => {
    expect(scores(nodes(China, az1), [at('node1', S1), at('node2', S1)], incoming(S1, stayWithS1InRegionAwayFromS2InAz), 'InterPodAffinity')).toEqual([100, 0]);
  });

  it('"Affinity and Anti Affinity: considering both affinity and anti-affinity, the pod to schedule and existing pods have the same labels" → 100, 0, 100, 100, 0', () => {
    // Raw: China 5 × 8 = 40, India 2 × 8 = 16 (no S2 pods, so the anti-affinity term adds nothing).
    const existing = [at('node1', S1), at('node1', S1), at('node2', S1), at('node3', S1), at('node3', S1), at('node4', S1), at('node5', S1)];
    expect(scores(nodes(ChinaAz1, India, China, China, India), existing, incoming(S1, stayWithS1InRegionAwayFromS2InAz), 'InterPodAffinity')).toEqual([100, 0, 100, 100, 0]);
  });

  it('"Affinity and Anti Affinity and symmetry: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity & symmetry" → 100, 0, 100, 0', () => {
    // Raw: node1 +8 (own affinity), node2 -5 (own anti-affinity), node3 +8 (placed pod's affinity), node4 -5 (placed pod's anti-affinity).
    const existing = [at('node1', S1), at('node2', S2), at('node3', {}, stayWithS1InRegionAwayFromS2InAz), at('node4', {}, awayFromS1InAz)];
    expect(scores(nodes(China, az1, India, az2), existing, incoming(S1, stayWithS1InRegionAwayFromS2InAz), 'InterPodAffinity')).toEqual([100, 0, 100, 0]);
  });

  it('"Avoid panic when partial nodes in a topology don\'t have pods with affinity" → 0, 0', () => {
    // Raw: both nodes are in China, which the placed pod's preferred affinity credits with 8.
    const existing = [at('node1', S1), at('node2', {}, stayWithS1InRegionAwayFromS2InAz)];
    expect(scores(nodes(China, China), existing, incoming(S1), 'InterPodAffinity')).toEqual([0, 0]);
  });

  it('"Do not ignore preferred terms of existing pods" → 0, 100', () => {
    const existing = [at('node1', S1, stayWithS1InRegionAwayFromS2InAz), at('node2', S2, stayWithS2InRegion)];
    expect(scores(nodes(China, India), existing, incoming(S2), 'InterPodAffinity')).toEqual([0, 100]);
  });
});

describe('NodeResourcesBalancedAllocation (noderesources/balanced_allocation_test.go TestNodeResourcesBalancedAllocation)', () => {
  // Upstream's makeNode takes milli-cpu and bytes; the pods request "1000m", "2000" and so on.
  const machine = (name: string, milliCpu: number, memory: number) => node(name, { cpu: milliCpu, memory });
  const cpuOnly = [{ cpu: '1000m', memory: '0' }, { cpu: '2000m', memory: '0' }];
  const cpuAndMemory = [{ cpu: '1000m', memory: '2000' }, { cpu: '2000m', memory: '3000' }];
  const existing = () => [on(pod('cpu-only', cpuOnly), 'node1'), on(pod('cpu-and-memory', cpuAndMemory), 'node2')];

  it('"resources requested, pods scheduled with resources" → 82, 95', () => {
    const nodes = [machine('node1', 10000, 20000), machine('node2', 10000, 20000)];
    expect(scores(nodes, existing(), pod('p', cpuAndMemory), 'NodeResourcesBalancedAllocation')).toEqual([82, 95]);
  });

  it('"resources requested, pods scheduled with resources, differently sized nodes" → 82, 80', () => {
    const nodes = [machine('node1', 10000, 20000), machine('node2', 10000, 50000)];
    expect(scores(nodes, existing(), pod('p', cpuAndMemory), 'NodeResourcesBalancedAllocation')).toEqual([82, 80]);
  });

  it('"requested resources at node capacity" → 50, 75', () => {
    const nodes = [machine('node1', 6000, 10000), machine('node2', 6000, 10000)];
    expect(scores(nodes, existing(), pod('p', cpuOnly), 'NodeResourcesBalancedAllocation')).toEqual([50, 75]);
  });
});
