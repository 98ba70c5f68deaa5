// Real manifests → scheduler input: field conversion, bound pods as load,
// --explain against hand-computed upstream scores, and the CLI end to end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inputErrorOf, tmpFile } from '../inputs.js';
import { explainPod } from '../../src/scheduler/explain.js';
import { loadClusterManifests, parseClusterManifests } from '../../src/scheduler/manifests.js';
import { podRequests } from '../../src/scheduler/requests.js';
import { scheduleReference } from '../../src/scheduler/scheduler.js';
import { buildState } from '../../src/scheduler/state.js';
import type { SchedPod } from '../../src/scheduler/types.js';

const FIX = 'test/fixtures/scheduler';
const MULTIDOC = join(FIX, 'cluster-multidoc.yaml');
const LIST = join(FIX, 'explain-cluster.yaml');
const POD = join(FIX, 'explain-pod.yaml');
const PENDING = join(FIX, 'pending-pods.yaml');
const Mi = 1024 ** 2;
const Gi = 1024 ** 3;

const kscale = (...args: string[]) => spawnSync(process.execPath, ['bin/kscale.js', 'schedule', ...args], { encoding: 'utf8', timeout: 120_000 });



const node = (name: string, cpu: string, memory: string, extra = '') => `apiVersion: v1
kind: Node
metadata: {name: ${name}, labels: {kubernetes.io/hostname: ${name}}}
status:
  allocatable: {cpu: "${cpu}", memory: ${memory}, pods: "110"}
${extra}---
`;
const pod = (name: string, cpu: string, memory: string, extra = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  containers:
  - name: c
    image: registry.example/c:1
    resources: {requests: {cpu: ${cpu}, memory: ${memory}}}
${extra}---
`;

describe('manifest conversion', () => {
  it('converts every node field: allocatable (extended, hugepages, capacity default), labels, taints, unschedulable, images', async () => {
    const c = await loadClusterManifests([MULTIDOC]);
    expect(c.nodes).toEqual([
      {
        name: 'gpu-1',
        labels: { 'kubernetes.io/hostname': 'gpu-1', 'topology.kubernetes.io/zone': 'zone-a', 'node.kubernetes.io/instance-type': 'g5.xlarge' },
        allocatable: { cpu: 3920, memory: 15 * Gi, 'ephemeral-storage': 95551679124, pods: 58, 'nvidia.com/gpu': 1, 'hugepages-2Mi': 0 },
        taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, { key: 'spot', value: '', effect: 'PreferNoSchedule' }],
        unschedulable: false,
        images: [{ names: ['ghcr.io/example/trainer@sha256:0a1b2c', 'ghcr.io/example/trainer:0.9'], sizeBytes: 2202009600 }],
      },
      {
        name: 'cordoned-1',
        labels: { 'kubernetes.io/hostname': 'cordoned-1', 'topology.kubernetes.io/zone': 'zone-b' },
        allocatable: { cpu: 8000, memory: 32 * Gi, pods: 110 },
        taints: [{ key: 'node.kubernetes.io/unschedulable', value: '', effect: 'NoSchedule' }],
        unschedulable: true,
        images: [],
      },
    ]);
  });

  it('keeps a Node resource name the API server would store (`CPU`) and refuses a fractional count or extended amount, in either list', () => {
    const c = parseClusterManifests(node('n1', '4', '8Gi').replace('pods: "110"', 'pods: "110", CPU: "4"'), 'n.yaml');
    expect(c.nodes[0]?.allocatable).toEqual({ cpu: 4000, memory: 8 * Gi, pods: 110, CPU: 4 });
    expect(inputErrorOf(() => parseClusterManifests(node('n1', '4', '8Gi').replace('pods: "110"', 'pods: "1.5"'), 'n.yaml')).message)
      .toMatch(/^n\.yaml doc 1: Node n1: status\.allocatable: pods: must be a whole number .*got "1\.5"$/);
    // capacity is validated even where allocatable is the list kscale reads.
    const capacity = node('n1', '4', '8Gi', '  capacity: {cpu: "4", example.com/gpu: 500m}\n');
    expect(inputErrorOf(() => parseClusterManifests(capacity, 'n.yaml')).message)
      .toMatch(/^n\.yaml doc 1: Node n1: status\.capacity: example\.com\/gpu: must be a whole number .*got "500m"$/);
  });

  it('converts every pod field: requests (limits default, init max, sidecars, overhead), selectors, affinity, tolerations, spread, host ports', async () => {
    const c = await loadClusterManifests([MULTIDOC]);
    const trainer = c.pods.find((p) => p.name === 'trainer-0') as SchedPod;
    // containers: app 250m/256Mi (+ gpu 1 from its limit), logger 100m/64Mi from limits → 350m, 320Mi.
    // init: migrate 1/128Mi; proxy (sidecar) 50m/32Mi adds to the sum → 400m, 352Mi; late-init runs beside the
    // sidecar: 550m, 632Mi. max → 1000m, 632Mi; + overhead 10m, 16Mi.
    const expected: SchedPod = {
      namespace: 'ml', name: 'trainer-0', labels: { app: 'trainer', tier: 'batch' },
      requests: { cpu: 1010, memory: 648 * Mi, 'nvidia.com/gpu': 1 },
      nonZeroRequests: { cpu: 1010, memory: 648 * Mi },
      nodeName: '',
      nodeSelector: { accelerator: 'gpu' },
      requiredNodeAffinity: [
        {
          matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-a', 'zone-b'] }],
          matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['cordoned-1'] }],
        },
        { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['8'] }], matchFields: [] },
      ],
      preferredNodeAffinity: [{ weight: 40, preference: { matchExpressions: [{ key: 'node.kubernetes.io/instance-type', operator: 'Exists', values: [] }], matchFields: [] } }],
      podAffinity: {
        required: [],
        preferred: [{ weight: 70, podAffinityTerm: { labelSelector: { matchLabels: { app: 'cache' }, matchExpressions: [] }, namespaces: ['ml', 'default'], topologyKey: 'topology.kubernetes.io/zone' } }],
      },
      podAntiAffinity: {
        // matchLabelKeys [tier] merges "tier In (batch)" into the selector.
        required: [{
          labelSelector: { matchLabels: {}, matchExpressions: [{ key: 'app', operator: 'In', values: ['trainer'] }, { key: 'tier', operator: 'In', values: ['batch'] }] },
          namespaces: [], topologyKey: 'kubernetes.io/hostname',
        }],
        preferred: [],
      },
      tolerations: [
        { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' },
        { key: '', operator: 'Exists', value: '', effect: 'NoExecute' },
        { key: 'spot', operator: 'Exists', value: '', effect: '' },
      ],
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'trainer' }, matchExpressions: [] }, minDomains: 2 },
        {
          maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: { app: 'trainer' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['batch'] }] }, minDomains: 1,
        },
      ],
      spreadSelector: null,
      images: ['ghcr.io/example/migrate:1.2', 'ghcr.io/example/proxy:3', 'ghcr.io/example/late', 'ghcr.io/example/trainer:0.9', 'ghcr.io/example/logger:2'],
      // hostNetwork: the UDP port without hostPort gets hostPort = containerPort.
      hostPorts: [{ port: 18080, protocol: 'TCP', hostIP: '10.0.0.5' }, { port: 9090, protocol: 'UDP', hostIP: '' }],
    };
    expect(trainer).toEqual(expected);
    const bestEffort = c.pods.find((p) => p.name === 'besteffort') as SchedPod;
    expect(bestEffort.namespace).toBe('default');
    expect(bestEffort.requests).toEqual({});
    expect(bestEffort.nonZeroRequests).toEqual({ cpu: 100, memory: 200 * Mi });
  });

  it('lists nodes in the order kube-scheduler examines them: zones round-robin (node_tree.go)', () => {
    // kubectl sorts a dump by name, which groups these by zone; the scheduler's cache lists a1 b1 a2 b2 a3.
    const zoned = (name: string, zone: string) => `apiVersion: v1
kind: Node
metadata: {name: ${name}, labels: {kubernetes.io/hostname: ${name}, topology.kubernetes.io/zone: ${zone}}}
status:
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
---
`;
    const c = parseClusterManifests(['a1', 'a2', 'a3', 'b1', 'b2'].map((n) => zoned(n, n.slice(0, 1))).join(''), 'zones.yaml');
    expect(c.nodes.map((n) => n.name)).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
  });

  it('counts sidecars (restartable init containers) as upstream PodRequests does', () => {
    // App 500m + sidecar 200m run together: 700m; the later init container runs beside the sidecar: 100m + 200m.
    expect(podRequests([{ cpu: '500m' }], [{ cpu: '200m' }, { cpu: '100m' }], {}, 'p', [true, false]).requests).toEqual({ cpu: 700 });
    // An init container before the sidecar does not run beside it; one after does: max(1000, 300 + 800) = 1100.
    expect(podRequests([{ cpu: '100m' }], [{ cpu: '1' }, { cpu: '300m' }, { cpu: '800m' }], {}, 'p', [false, true, false]).requests).toEqual({ cpu: 1100 });
    // Without sidecars, init containers are a max, not a sum; the non-zero defaults follow the same rules.
    const r = podRequests([{ cpu: '100m' }], [{ cpu: '1' }, {}], {}, 'p');
    expect(r.requests).toEqual({ cpu: 1000 });
    expect(r.nonZeroRequests).toEqual({ cpu: 1000, memory: 200 * Mi });
  });

  it('schedules only what the default scheduler would: counts, ignored kinds, queue order', async () => {
    const c = await loadClusterManifests([MULTIDOC]);
    expect(c.pods.map((p) => p.name)).toEqual(['trainer-0', 'besteffort']);
    expect(c.counts).toEqual({ nodes: 2, boundPods: 0, pendingPods: 2, terminalPods: 0, otherSchedulerPods: 1, gatedPods: 1, spreadSelectorFromLabels: 0 });
    expect(c.ignored).toEqual([{ kind: 'ConfigMap', count: 1 }, { kind: 'Deployment.apps', count: 1 }]);
    // PrioritySort: higher spec.priority first, input order among equals.
    const q = parseClusterManifests(node('n1', '4', '8Gi') + pod('low-a', '1', '1Gi') + pod('high', '1', '1Gi', '  priority: 100\n') + pod('low-b', '1', '1Gi'), 'q.yaml');
    expect(q.pods.map((p) => p.name)).toEqual(['high', 'low-a', 'low-b']);
  });

  it('reads a kubectl List: bound pods are load, terminal pods are dropped; JSON gives the same result', async () => {
    const c = await loadClusterManifests([LIST]);
    expect(c.nodes.map((n) => n.name)).toEqual(['node-a', 'node-b', 'node-c']);
    expect(c.counts).toMatchObject({ nodes: 3, boundPods: 1, pendingPods: 0, terminalPods: 1 });
    expect(c.pods.map((p) => [p.name, p.nodeName, p.requests])).toEqual([['db-0', 'node-a', { cpu: 1000, memory: 2 * Gi }]]);
    const json = tmpFile('cluster.json', JSON.stringify(parse(readFileSync(LIST, 'utf8'))));
    const fromJson = await loadClusterManifests([json]);
    expect({ nodes: fromJson.nodes, pods: fromJson.pods, counts: fromJson.counts }).toEqual({ nodes: c.nodes, pods: c.pods, counts: c.counts });
  });

  it('reads typed NodeList / PodList items without kind (API and kscale snapshot shape)', async () => {
    const c = await loadClusterManifests(['test/fixtures/snapshot/nodes.json', 'test/fixtures/snapshot/pods.json']);
    expect(c.nodes.length).toBeGreaterThan(0);
    expect(c.counts.boundPods).toBeGreaterThan(0);
  });

  it("default spreading selects what the pod's Services and controller select (helper.DefaultSelector)", () => {
    const owned = (name: string, owner: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: web
  labels: {app: web, pod-template-hash: h1, statefulset.kubernetes.io/pod-name: ${name}}
  ownerReferences: [{apiVersion: apps/v1, kind: ${owner}, name: web, uid: u, controller: true}]
spec: {containers: [{name: c, image: i}]}
---
`;
    const svc = 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: web}\nspec: {selector: {app: web}}\n---\n';
    const rs = 'apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web, namespace: web}\nspec: {selector: {matchLabels: {app: web}, matchExpressions: [{key: pod-template-hash, operator: In, values: [h1]}]}}\n---\n';
    const withRs = parseClusterManifests(node('n1', '4', '8Gi') + svc + rs + owned('a', 'ReplicaSet'), 'a.yaml');
    expect(withRs.pods[0]?.spreadSelector).toEqual({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'pod-template-hash', operator: 'In', values: ['h1'] }] });
    expect(withRs.counts.spreadSelectorFromLabels).toBe(0);
    // Controller not in the input: its pods' labels minus per-pod ones.
    const noRs = parseClusterManifests(node('n1', '4', '8Gi') + owned('b', 'StatefulSet'), 'b.yaml');
    expect(noRs.pods[0]?.spreadSelector).toEqual({ matchLabels: { app: 'web', 'pod-template-hash': 'h1' }, matchExpressions: [] });
    expect(noRs.counts.spreadSelectorFromLabels).toBe(1);
    // A bare pod no Service selects: no default constraints.
    expect(parseClusterManifests(node('n1', '4', '8Gi') + pod('bare', '1', '1Gi'), 'c.yaml').pods[0]?.spreadSelector).toBeNull();
  });

  it('bound pods use capacity: a pod that fits the empty node does not fit beside them', () => {
    const cluster = node('n1', '2', '4Gi');
    const bound = pod('running', '1500m', '1Gi', '  nodeName: n1\nstatus: {phase: Running}\n');
    const pending = pod('new', '1', '1Gi');
    const run = (text: string) => {
      const c = parseClusterManifests(text, 'cap.yaml');
      const built = buildState(c.nodes, c.pods);
      return scheduleReference(built.state, built.pending, { percentageOfNodesToScore: 100, seed: 1 });
    };
    expect(Array.from(run(cluster + pending).placements)).toEqual([0]);
    const busy = run(cluster + bound + pending);
    expect(Array.from(busy.placements)).toEqual([-1]);
    expect(busy.unschedulable[0]?.message).toBe('0/1 nodes are available: 1 Insufficient cpu.');
  });

  it.each([
    ['a quantity with a bad suffix', pod('p', '1', '2Gx'), /bad\.yaml doc 1: Pod default\/p: spec\.containers\[0\]\.resources\.requests: memory: quantity "2Gx": unknown suffix "Gx"/],
    ['a pod bound to an unknown node', node('n1', '1', '1Gi') + pod('p', '1', '1Gi', '  nodeName: ghost\n'), /bad\.yaml doc 2: Pod default\/p: spec\.nodeName: bound to node "ghost", which is not in the input/],
    ['a field of the wrong type', 'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {unschedulable: "yes"}\n', /Node n1: spec\.unschedulable: expected true or false, got a string/],
    ['an unknown taint effect', node('n1', '1', '1Gi', 'spec: {taints: [{key: k, effect: Sometimes}]}\n'), /Node n1: spec\.taints\[0\]\.effect: unknown value "Sometimes"/],
    ['a namespaceSelector', pod('p', '1', '1Gi', '  affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, namespaceSelector: {}}]}}\n'),
      /Pod default\/p: spec\.affinity\.podAffinity\.requiredDuringSchedulingIgnoredDuringExecution\[0\]\.namespaceSelector: is not supported/],
    ['a non-default nodeTaintsPolicy', pod('p', '1', '1Gi', '  topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Honor}]\n'),
      /spec\.topologySpreadConstraints\[0\]\.nodeTaintsPolicy: "Honor" is not supported/],
    ['pod-level resources', pod('p', '1', '1Gi', '  resources: {requests: {cpu: "2"}}\n'), /Pod default\/p: spec\.resources: pod-level resources are not supported/],
    ['an In selector without values', pod('p', '1', '1Gi', '  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: z, operator: In}]}]}}}\n'),
      /bad\.yaml doc 1: Pod default\/p: operator In on "z" needs at least one value/],
    ['a duplicate pod', node('n1', '1', '1Gi') + pod('p', '1', '1Gi') + pod('p', '1', '1Gi'), /bad\.yaml doc 3: Pod default\/p: duplicate pod/],
    ['a duplicate node, naming both places', node('n1', '1', '1Gi') + node('n1', '2', '1Gi'), /^bad\.yaml doc 2: Node n1: duplicate node name \(first defined at bad\.yaml doc 1: Node n1\)$/],
    ['an empty taint effect (required: it is not NoSchedule)', node('n1', '1', '1Gi', 'spec: {taints: [{key: k, effect: ""}]}\n'), /Node n1: spec\.taints\[0\]\.effect: is required \(one of NoSchedule, PreferNoSchedule, NoExecute\)/],
    ['an empty selector operator (required: it is not In)', pod('p', '1', '1Gi', '  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: z, operator: "", values: [a]}]}]}}}\n'),
      /matchExpressions\[0\]\.operator: is required \(one of In, NotIn, Exists, DoesNotExist, Gt, Lt\)/],
  ])('rejects %s with the file, object and field named', (_what, text, message) => {
    expect(inputErrorOf(() => parseClusterManifests(text, 'bad.yaml')).message).toMatch(message);
  });
});

describe('--explain', () => {
  it('matches upstream scores computed by hand, and names the untolerated taint', async () => {
    const m = await loadClusterManifests([LIST], { explainPod: POD });
    const explained = m.explain as SchedPod;
    const built = buildState(m.nodes, [...m.pods.slice(0, m.counts.boundPods), explained]);
    const ex = explainPod(built.state, m.counts.boundPods);
    // Pod 500m / 1Gi. node-a: 4 cpu, 8Gi, db-0 bound with 1 cpu, 2Gi; node-b: 2 cpu, 8Gi; node-c tainted.
    // LeastAllocated = mean over cpu, memory of trunc((alloc - requested) × 100 / alloc), requested incl. the pod:
    //   node-a cpu (4000 - 1500) × 100 / 4000 = 62.5 → 62, memory (8 - 3) / 8 → 62; (62 + 62) / 2 = 62
    //   node-b cpu (2000 - 500) × 100 / 2000 = 75, memory (8 - 1) / 8 = 87.5 → 87; (75 + 87) / 2 = 81
    // BalancedAllocation = trunc((1 - |f_cpu - f_mem| / 2) × 100):
    //   node-a 0.375 vs 0.375 → 100; node-b 0.25 vs 0.125 → (1 - 0.0625) × 100 = 93.75 → 93
    // ImageLocality: registry.example/app:1.0 (500 MiB) on 1 of 3 nodes → scaled 524288000 / 3 = 174762666;
    //   trunc(100 × (174762666 - 23 MiB) / (1000 MiB - 23 MiB)) = 14 on node-a, 0 elsewhere.
    // TaintToleration: no PreferNoSchedule taint anywhere → reverse-normalized 100. Others: nothing to score → 0.
    // total = 3 × Taint + 2 × NodeAffinity + Fit + 2 × Spread + 2 × InterPod + Balanced + Image.
    expect(ex).toEqual([
      { name: 'node-a', feasible: true, reasons: [], total: 300 + 62 + 100 + 14, scores: { TaintToleration: 100, NodeAffinity: 0, NodeResourcesFit: 62, PodTopologySpread: 0, InterPodAffinity: 0, NodeResourcesBalancedAllocation: 100, ImageLocality: 14 } },
      { name: 'node-b', feasible: true, reasons: [], total: 300 + 81 + 93, scores: { TaintToleration: 100, NodeAffinity: 0, NodeResourcesFit: 81, PodTopologySpread: 0, InterPodAffinity: 0, NodeResourcesBalancedAllocation: 93, ImageLocality: 0 } },
      { name: 'node-c', feasible: false, reasons: ['node(s) had untolerated taint {dedicated: gpu}'], total: null, scores: {} },
    ]);
  });

  it('refuses a bound pod and a file without exactly one pod', async () => {
    const bound = tmpFile('bound.yaml', pod('p', '1', '1Gi', '  nodeName: node-a\n'));
    await expect(loadClusterManifests([LIST], { explainPod: bound })).rejects.toThrow(/Pod default\/p: spec\.nodeName: already bound to "node-a"/);
    const nodesOnly = tmpFile('nodes.yaml', node('n9', '1', '1Gi'));
    await expect(loadClusterManifests([LIST], { explainPod: nodesOnly })).rejects.toThrow(/nodes\.yaml: --pod needs a file with exactly one Pod, found 0/);
    await expect(loadClusterManifests([LIST], { explainPod: LIST })).rejects.toThrow(/explain-cluster\.yaml: --pod needs a file with exactly one Pod, found 2/);
  });
});

describe('kscale schedule --cluster (CLI, from dist)', () => {
  it('schedules the pending pods; placements stay within every node\'s allocatable, bound load included', () => {
    const placements = join(mkdtempSync(join(tmpdir(), 'kscale-sched-')), 'placements.txt');
    const r = kscale('--cluster', LIST, '--cluster', PENDING, '--workers', '0', '--placements', placements, '--json');
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { workload: string; nodes: number; pods: number; scheduled: number; placed: number; unschedulable: number; cluster: { counts: Record<string, number> } };
    // node-a has 3 cpu free beside db-0, node-b 2, node-c is tainted: 5 of the 8 one-cpu pods fit.
    expect(s).toMatchObject({ workload: 'manifests', nodes: 3, pods: 8, scheduled: 8, placed: 5, unschedulable: 3 });
    expect(s.cluster.counts).toMatchObject({ boundPods: 1, pendingPods: 8, terminalPods: 1 });
    const lines = readFileSync(placements, 'utf8').trim().split('\n').map((l) => l.split(' '));
    expect(lines).toHaveLength(8);
    const used = new Map<string, { cpu: number; memory: number }>([['node-a', { cpu: 1000, memory: 2 * Gi }]]);
    for (const [, nodeName] of lines) {
      if (nodeName === '-') continue;
      const u = used.get(nodeName as string) ?? { cpu: 0, memory: 0 };
      used.set(nodeName as string, { cpu: u.cpu + 1000, memory: u.memory + Gi });
    }
    const alloc: Record<string, { cpu: number; memory: number }> = { 'node-a': { cpu: 4000, memory: 8 * Gi }, 'node-b': { cpu: 2000, memory: 8 * Gi }, 'node-c': { cpu: 16000, memory: 64 * Gi } };
    expect(used.has('node-c')).toBe(false);
    for (const [n, u] of used) {
      expect(u.cpu).toBeLessThanOrEqual(alloc[n]!.cpu);
      expect(u.memory).toBeLessThanOrEqual(alloc[n]!.memory);
    }
    expect([...used.values()].reduce((a, u) => a + u.cpu, 0)).toBe(1000 + 5 * 1000);
  });

  it('--explain --json prints every node with reasons, scores and total; the table names the taint', () => {
    const r = kscale('--cluster', LIST, '--pod', POD, '--explain', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { pod: string; nodes: { name: string; feasible: boolean; reasons: string[]; scores: Record<string, number>; total: number | null }[] };
    expect(out.pod).toBe('default/web');
    expect(out.nodes.map((n) => [n.name, n.feasible, n.total, n.scores.NodeResourcesFit ?? null, n.scores.NodeResourcesBalancedAllocation ?? null]))
      .toEqual([['node-a', true, 476, 62, 100], ['node-b', true, 474, 81, 93], ['node-c', false, null, null, null]]);
    expect(out.nodes[2]?.reasons).toEqual(['node(s) had untolerated taint {dedicated: gpu}']);
    const table = kscale('--cluster', LIST, '--pod', POD, '--explain');
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^pod default\/web: 2 of 3 nodes feasible/);
    expect(table.stdout).toMatch(/\nnode-a +yes +476 +100 +0 +62 +0 +0 +100 +14\n/);
    expect(table.stdout).toMatch(/\nnode-c +no +- .*node\(s\) had untolerated taint \{dedicated: gpu\}\n/);
  });

  it('--capacity --json: copies of the pod until the next fits no node, per node and zone (worked out by hand)', () => {
    // node-a: 4 cpu, 8Gi with db-0 (1 cpu, 2Gi) bound: six 500m/1Gi copies; node-b: 2 cpu: four; node-c: tainted.
    const r = kscale('--cluster', LIST, '--pod', POD, '--capacity', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { pod: string; copies: number; stoppedBy: string | null; perNode: { node: string; copies: number }[]; perZone: Record<string, number> };
    expect(out).toMatchObject({
      pod: 'default/web', copies: 10, perNode: [{ node: 'node-a', copies: 6 }, { node: 'node-b', copies: 4 }], perZone: { 'zone-1': 6, 'zone-2': 4 },
      stoppedBy: '0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.',
    });
    const capped = kscale('--cluster', LIST, '--pod', POD, '--capacity', '--max-copies', '3');
    expect(capped.status, capped.stderr).toBe(0);
    expect(capped.stdout).toMatch(/\ncapacity: at least 3 more copies of default\/web fit/);
  });

  it.each([
    ['malformed YAML', () => ['--cluster', tmpFile('broken.yaml', 'apiVersion: v1\nkind: Node\nmetadata: {name: [n1\n')], /broken\.yaml.*invalid YAML|broken\.yaml.*cannot parse YAML/],
    ['a bad quantity', () => ['--cluster', tmpFile('q.yaml', node('n1', '4', '2Gx'))], /q\.yaml doc 1: Node n1: status\.allocatable: memory: quantity "2Gx": unknown suffix "Gx"/],
    ['a node name with a newline and escape codes (it printed as a table row of its own)', () => ['--cluster', tmpFile('n.json', JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b\u001b[31m\nFAKE yes 999' }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' } } }))], /n\.json doc 1: Node: metadata\.name "node-b\\u001b\[31m\\nFAKE yes 999" is not a DNS subdomain/],
    ['a pod namespace that is not a DNS label', () => ['--cluster', tmpFile('ns.yaml', node('n1', '4', '8Gi') + pod('p', '1', '1Gi').replace('namespace: default', 'namespace: Bad_NS'))], /ns\.yaml doc 2: Pod: metadata\.namespace "Bad_NS" is not a DNS label/],
    ['a fractional extended resource on a node (value() rounded it up to 1)', () => ['--cluster', tmpFile('g.yaml', node('n1', '4', '8Gi').replace('pods: "110"', 'pods: "110", nvidia.com/gpu: "0.5"'))], /g\.yaml doc 1: Node n1: status\.allocatable: nvidia\.com\/gpu: must be a whole number .*got "0\.5"/],
    ['more pods allowed than an int32 holds (it wrapped to 110)', () => ['--cluster', tmpFile('p.yaml', node('n1', '4', '8Gi').replace('pods: "110"', 'pods: "4294967406"'))], /Node n1: allocatable pods must be a whole number up to 2147483647, got 4294967406/],
    ['a pod bound to an unknown node', () => ['--cluster', tmpFile('u.yaml', node('n1', '4', '8Gi') + pod('p', '1', '1Gi', '  nodeName: ghost\n'))], /u\.yaml doc 2: Pod default\/p: spec\.nodeName: bound to node "ghost"/],
    ['a missing --pod file', () => ['--cluster', LIST, '--pod', '/nonexistent/pod.yaml', '--explain'], /\/nonexistent\/pod\.yaml: cannot read: no such file or directory/],
    ['--cluster with --nodes', () => ['--cluster', LIST, '--nodes', '10'], /--nodes: cannot be combined with --cluster/],
    ['--explain without --pod', () => ['--cluster', LIST, '--explain'], /--explain: give --pod FILE and --explain together/],
    ['--explain without --cluster', () => ['--pod', POD, '--explain'], /--explain: needs --cluster/],
    ['--capacity without --pod', () => ['--cluster', LIST, '--capacity'], /--capacity: give --pod FILE and --capacity together/],
    ['--capacity with --explain', () => ['--cluster', LIST, '--pod', POD, '--capacity', '--explain'], /--capacity: cannot be combined with --explain/],
    ['--explain with a run flag it has no use for', () => ['--cluster', LIST, '--pod', POD, '--explain', '--workers', 'abc'], /--workers: cannot be combined with --explain/],
    ['--placements into a missing directory (checked before the run)', () => ['--cluster', LIST, '--placements', '/nonexistent/dir/p.txt'], /--placements: directory \/nonexistent\/dir does not exist/],
    ['--capacity with --batch', () => ['--cluster', LIST, '--pod', POD, '--capacity', '--batch', '8'], /--batch: cannot be combined with --capacity/],
    ['--max-copies without --capacity', () => ['--cluster', LIST, '--max-copies', '5'], /--max-copies: goes with --capacity/],
    ['--max-copies 0', () => ['--cluster', LIST, '--pod', POD, '--capacity', '--max-copies', '0'], /--max-copies/],
  ])('%s exits 2 naming the problem', (_what, args, message) => {
    const r = kscale(...args());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
