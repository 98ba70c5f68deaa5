// Seeded synthetic clusters and pod mixes shaped like kube-scheduler's
// scheduler_perf workloads (test/integration/scheduler_perf/config):
//   basic         SchedulingBasic: pod-default (100m cpu, 500Mi), bare pods
//   spread        TopologySpreading: zone spread maxSkew 5, DoNotSchedule, one selector
//   antiaffinity  SchedulingPodAntiAffinity: required anti-affinity on hostname
//                 (scheduler_perf uses one group of 1,000 pods; at 150,000 pods one
//                 group could place only one pod per node, so pods come in 100 groups)
//   nodeaffinity  SchedulingNodeAffinity: required node affinity on zone
//   mixed         all of the above plus Deployments (default spreading), tolerations,
//                 host ports, preferred pod affinity and preferred node affinity
import { InputError } from '../errors.js';
import { mulberry32 } from '../stats/summary.js';
import type { LabelSelector, SchedNode, SchedPod, Taint } from './types.js';
import { LABEL_HOSTNAME, LABEL_ZONE } from './types.js';

export const WORKLOADS = ['basic', 'spread', 'antiaffinity', 'nodeaffinity', 'daemonset', 'mixed'] as const;
export type Workload = (typeof WORKLOADS)[number];

export function isWorkload(s: string): s is Workload {
  return (WORKLOADS as readonly string[]).includes(s);
}

const GI = 1024 ** 3;
const MI = 1024 ** 2;
const ZONES = 10;
const NODE_SHAPES = [
  // node-default.yaml in scheduler_perf: 4 cpu, 32Gi, 110 pods.
  { type: 'standard-4', cpu: 4000, memory: 32 * GI, weight: 0.6 },
  { type: 'standard-8', cpu: 8000, memory: 64 * GI, weight: 0.3 },
  { type: 'highmem-16', cpu: 16000, memory: 128 * GI, weight: 0.1 },
];
const IMAGES = [
  { name: 'registry.k8s.io/pause:3.10', size: 700 * 1024 },
  { name: 'docker.io/library/nginx:1.27', size: 190 * MI },
  { name: 'docker.io/library/redis:7.4', size: 130 * MI },
  { name: 'ghcr.io/example/api:2.3.1', size: 450 * MI },
  { name: 'ghcr.io/example/ml-worker:0.9', size: 2100 * MI },
];

function selector(matchLabels: Record<string, string>): LabelSelector {
  return { matchLabels, matchExpressions: [] };
}

export function generateNodes(count: number, seed: number): SchedNode[] {
  if (!Number.isInteger(count) || count < 1) throw new InputError('--nodes', `must be a positive integer, got ${count}`);
  const rand = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const name = `node-${i}`;
    let r = rand();
    const shape = NODE_SHAPES.find((s) => (r -= s.weight) < 0) ?? (NODE_SHAPES[0] as (typeof NODE_SHAPES)[number]);
    const zone = `zone-${i % ZONES}`;
    const taints: Taint[] = [];
    const t = rand();
    if (t < 0.04) taints.push({ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' });
    else if (t < 0.1) taints.push({ key: 'spot', value: 'true', effect: 'PreferNoSchedule' });
    const images = IMAGES.filter((_, k) => k === 0 || rand() < 0.3).map((img) => ({ names: [img.name], sizeBytes: img.size }));
    return {
      name,
      labels: {
        [LABEL_HOSTNAME]: name, [LABEL_ZONE]: zone, 'topology.kubernetes.io/region': `region-${(i % ZONES) < 5 ? 0 : 1}`,
        'node.kubernetes.io/instance-type': shape.type, ...(taints[0]?.key === 'dedicated' ? { accelerator: 'gpu' } : {}),
      },
      allocatable: { cpu: shape.cpu, memory: shape.memory, pods: 110, 'ephemeral-storage': 100 * GI },
      taints,
      unschedulable: rand() < 0.005,
      images,
    };
  });
}

function basePod(namespace: string, name: string, labels: Record<string, string>, cpu: number, memory: number, image: string): SchedPod {
  return {
    namespace, name, labels, requests: { cpu, memory }, nonZeroRequests: { cpu, memory }, nodeName: '',
    nodeSelector: {}, requiredNodeAffinity: null, preferredNodeAffinity: [],
    podAffinity: { required: [], preferred: [] }, podAntiAffinity: { required: [], preferred: [] },
    tolerations: [], topologySpreadConstraints: [], spreadSelector: null, images: [image], hostPorts: [],
  };
}

type Maker = (i: number, rand: () => number) => SchedPod;

const makeBasic: Maker = (i) => basePod('default', `basic-${i}`, { app: 'basic' }, 100, 500 * MI, IMAGES[0]!.name);

const makeSpread: Maker = (i) => {
  const p = basePod('default', `spread-${i}`, { color: 'blue' }, 100, 500 * MI, IMAGES[0]!.name);
  p.topologySpreadConstraints = [{ maxSkew: 5, topologyKey: LABEL_ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: selector({ color: 'blue' }), minDomains: 1 }];
  return p;
};

const ANTI_GROUPS = 100;
const makeAnti: Maker = (i) => {
  const group = `anti-${i % ANTI_GROUPS}`;
  const p = basePod('sched-0', `anti-${i}`, { app: group, color: 'green' }, 100, 500 * MI, IMAGES[2]!.name);
  p.podAntiAffinity.required = [{ labelSelector: selector({ app: group }), namespaces: [], topologyKey: LABEL_HOSTNAME }];
  return p;
};

const makeNodeAffinity: Maker = (i) => {
  const p = basePod('default', `affinity-${i}`, { app: 'node-affinity' }, 100, 500 * MI, IMAGES[1]!.name);
  const z = i % (ZONES / 2);
  p.requiredNodeAffinity = [{ matchExpressions: [{ key: LABEL_ZONE, operator: 'In', values: [`zone-${2 * z}`, `zone-${2 * z + 1}`] }], matchFields: [] }];
  return p;
};

const DEPLOYMENTS = 40;
const makeDeployment: Maker = (i, rand) => {
  const d = Math.floor(rand() * DEPLOYMENTS);
  const img = IMAGES[1 + (d % 3)]!.name;
  const p = basePod('apps', `deploy-${d}-${i}`, { app: `deploy-${d}`, 'pod-template-hash': `h${d}` }, 100 * (1 + (d % 5)), (256 + 128 * (d % 7)) * MI, img);
  p.spreadSelector = selector({ app: `deploy-${d}` });
  if (d % 4 === 0) p.preferredNodeAffinity = [{ weight: 50, preference: { matchExpressions: [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['standard-8', 'highmem-16'] }], matchFields: [] } }];
  if (d % 10 === 1) {
    // A best-effort Deployment: no requests, so only upstream's non-zero defaults count for LeastAllocated.
    p.requests = {};
    p.nonZeroRequests = { cpu: 100, memory: 200 * MI };
  }
  return p;
};

const makeGpu: Maker = (i) => {
  const p = basePod('ml', `gpu-${i}`, { app: 'trainer' }, 2000, 8 * GI, IMAGES[4]!.name);
  p.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }];
  p.nodeSelector = { accelerator: 'gpu' };
  return p;
};

const makeHostPort: Maker = (i) => {
  const p = basePod('kube-system', `exporter-${i}`, { app: 'exporter' }, 50, 64 * MI, IMAGES[0]!.name);
  p.hostPorts = [{ port: 9100 + (i % 4), protocol: 'TCP', hostIP: '' }];
  p.tolerations = [{ key: '', operator: 'Exists', value: '', effect: '' }];
  return p;
};

const makeCacheClient: Maker = (i) => {
  const p = basePod('apps', `client-${i}`, { app: 'cache-client' }, 200, 256 * MI, IMAGES[3]!.name);
  p.podAffinity.preferred = [{ weight: 80, podAffinityTerm: { labelSelector: selector({ app: 'deploy-0' }), namespaces: [], topologyKey: LABEL_ZONE } }];
  p.podAntiAffinity.preferred = [{ weight: 20, podAffinityTerm: { labelSelector: selector({ app: 'cache-client' }), namespaces: [], topologyKey: LABEL_HOSTNAME } }];
  return p;
};

/**
 * DaemonSets rolling out over the cluster: pod i is DaemonSet ⌊i / nodes⌋'s
 * pod for node-(i mod nodes), held there as the DaemonSet controller holds
 * its pods (required node affinity matchFields metadata.name In [node]:
 * NodeAffinity's PreFilter result, scheduler_perf's SchedulingDaemonset path),
 * tolerating every taint, as node agents (CNI, kube-proxy, exporters) do.
 */
function makeDaemon(nodes: number): Maker {
  return (i) => {
    const ds = Math.floor(i / nodes);
    const p = basePod('kube-system', `ds-${ds}-${i % nodes}`, { app: `ds-${ds}` }, 50, 64 * MI, IMAGES[0]!.name);
    p.requiredNodeAffinity = [{ matchExpressions: [], matchFields: [{ key: 'metadata.name', operator: 'In', values: [`node-${i % nodes}`] }] }];
    p.tolerations = [{ key: '', operator: 'Exists', value: '', effect: '' }];
    return p;
  };
}

const MIX: [number, Maker][] = [
  [0.45, makeDeployment], [0.15, makeBasic], [0.1, makeSpread], [0.08, makeAnti], [0.1, makeNodeAffinity],
  [0.04, makeCacheClient], [0.06, makeGpu], [0.02, makeHostPort],
];

/** The workload's pods; `nodes` (the cluster generateNodes made) is what the daemonset workload's pods are held to. */
export function generatePods(workload: Workload, count: number, seed: number, nodes = 0): SchedPod[] {
  if (!Number.isInteger(count) || count < 0) throw new InputError('--pods', `must be a non-negative integer, got ${count}`);
  if (workload === 'daemonset' && !(nodes >= 1)) throw new Error('generatePods: the daemonset workload needs the node count');
  const rand = mulberry32(seed ^ 0x5eed);
  const single: Record<Exclude<Workload, 'mixed'>, Maker> = { basic: makeBasic, spread: makeSpread, antiaffinity: makeAnti, nodeaffinity: makeNodeAffinity, daemonset: makeDaemon(nodes) };
  return Array.from({ length: count }, (_, i) => {
    if (workload !== 'mixed') return single[workload](i, rand);
    let r = rand();
    const maker = MIX.find(([w]) => (r -= w) < 0)?.[1] ?? makeBasic;
    return maker(i, rand);
  });
}

/** scheduler_perf's published thresholds (pods/s) for the same shapes, as an anchor; not measured here. */
export const SCHEDULER_PERF_THRESHOLDS: Partial<Record<Workload, { test: string; podsPerSecond: number }>> = {
  basic: { test: 'SchedulingBasic/5000Nodes_50000Pods', podsPerSecond: 810 },
  spread: { test: 'TopologySpreading/5000Nodes_5000Pods', podsPerSecond: 460 },
  antiaffinity: { test: 'SchedulingPodAntiAffinity/5000Nodes_2000Pods', podsPerSecond: 60 },
  // affinity/performance-config.yaml: the 5000Nodes workload has no threshold; 5000Nodes_10000Pods (5000 pods bound first) has.
  nodeaffinity: { test: 'SchedulingNodeAffinity/5000Nodes_10000Pods', podsPerSecond: 220 },
  // misc/performance-config.yaml: 15,000 nodes, every pod held to one named node; the same PreFilter path.
  daemonset: { test: 'SchedulingDaemonset/15000Nodes', podsPerSecond: 1100 },
};
