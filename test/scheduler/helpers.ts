// Builders for small clusters in the shape of upstream's st.MakeNode()/st.MakePod().
import { podRequests } from '../../src/scheduler/requests.js';
import type { ContainerRequests } from '../../src/scheduler/requests.js';
import type { SchedNode, SchedPod } from '../../src/scheduler/types.js';
import { LABEL_HOSTNAME } from '../../src/scheduler/types.js';

export function node(name: string, allocatable: Record<string, number>, extra: Partial<SchedNode> = {}): SchedNode {
  return { name, labels: { [LABEL_HOSTNAME]: name, ...(extra.labels ?? {}) }, allocatable: { pods: 110, ...allocatable }, taints: [], unschedulable: false, images: [], ...extra, ...(extra.labels ? { labels: { [LABEL_HOSTNAME]: name, ...extra.labels } } : {}) };
}

/** Upstream fixtures write cpu as whole cores ("4000" = 4000 cores); helpers take the same strings. */
export function nodeQ(name: string, cpu: string, memory: string, extra: Partial<SchedNode> = {}): SchedNode {
  return node(name, { cpu: Number(cpu) * 1000, memory: Number(memory) }, extra);
}

export function pod(name: string, containers: ContainerRequests[] = [], extra: Partial<SchedPod> = {}): SchedPod {
  const r = podRequests(containers);
  return {
    namespace: 'default', name, labels: {}, ...r, nodeName: '', nodeSelector: {}, requiredNodeAffinity: null, preferredNodeAffinity: [],
    podAffinity: { required: [], preferred: [] }, podAntiAffinity: { required: [], preferred: [] }, tolerations: [],
    topologySpreadConstraints: [], spreadSelector: null, images: containers.map(() => 'registry.k8s.io/pause:3.10'), hostPorts: [], ...extra,
  };
}
