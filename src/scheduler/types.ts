// The scheduler's input model: the parts of core/v1 Node and Pod that the
// default profile's filter and score plugins read, already normalised
// (quantities parsed to integers, defaults applied). The synthetic generator and
// the manifest loader both produce this shape; state.ts turns it into shared
// typed arrays.

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export type NodeSelectorOperator = SelectorOperator | 'Gt' | 'Lt';

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values: string[];
}

/** metav1.LabelSelector. An empty selector matches everything; a missing (null) one matches nothing. */
export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: LabelSelectorRequirement[];
}

export interface NodeSelectorRequirement {
  key: string;
  operator: NodeSelectorOperator;
  values: string[];
}

/** v1.NodeSelectorTerm: expressions over labels and fields (only metadata.name), ANDed. */
export interface NodeSelectorTerm {
  matchExpressions: NodeSelectorRequirement[];
  matchFields: NodeSelectorRequirement[];
}

export interface PreferredSchedulingTerm {
  weight: number;
  preference: NodeSelectorTerm;
}

export interface PodAffinityTerm {
  labelSelector: LabelSelector | null;
  /** Empty means "the namespace of the pod that carries the term". */
  namespaces: string[];
  topologyKey: string;
}

export interface WeightedPodAffinityTerm {
  weight: number;
  podAffinityTerm: PodAffinityTerm;
}

export interface PodAffinityRules {
  required: PodAffinityTerm[];
  preferred: WeightedPodAffinityTerm[];
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value: string;
  effect: TaintEffect;
}

export interface Toleration {
  /** '' with operator Exists tolerates every taint. */
  key: string;
  operator: 'Exists' | 'Equal';
  value: string;
  /** '' matches every effect. */
  effect: '' | TaintEffect;
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector: LabelSelector | null;
  /** 1 when unset (upstream's default). */
  minDomains: number;
}

export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface HostPort {
  port: number;
  protocol: PortProtocol;
  /** '' or '0.0.0.0' means every address. */
  hostIP: string;
}

export interface NodeImage {
  names: string[];
  sizeBytes: number;
}

export interface SchedNode {
  name: string;
  labels: Record<string, string>;
  /** status.allocatable: cpu in millicores, memory/ephemeral-storage in bytes, pods and extended resources as counts. */
  allocatable: Record<string, number>;
  taints: Taint[];
  unschedulable: boolean;
  images: NodeImage[];
}

export interface SchedPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** Effective requests: max(Σ containers, max init container) + overhead; cpu in millicores, others in units. */
  requests: Record<string, number>;
  /**
   * The same with upstream's non-zero defaults (100m cpu, 200 MB memory for a
   * container that sets none), used only by the LeastAllocated score.
   */
  nonZeroRequests: { cpu: number; memory: number };
  /** spec.nodeName: set for bound pods (existing load); for a pending pod the NodeName filter holds it to that node. */
  nodeName: string;
  /**
   * status.nominatedNodeName of a pending pod (set by an earlier preemption):
   * its cycle tries that node first. Absent or '' when none.
   */
  nominatedNodeName?: string;
  nodeSelector: Record<string, string>;
  /** requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms (ORed); null when absent. */
  requiredNodeAffinity: NodeSelectorTerm[] | null;
  preferredNodeAffinity: PreferredSchedulingTerm[];
  podAffinity: PodAffinityRules;
  podAntiAffinity: PodAffinityRules;
  tolerations: Toleration[];
  topologySpreadConstraints: TopologySpreadConstraint[];
  /**
   * The selector of the workload that owns the pod (ReplicaSet, StatefulSet,
   * Service): what upstream's default (system) spreading constraints count.
   * null when nothing selects the pod, as for a bare pod; then PodTopologySpread
   * skips it, as upstream does.
   */
  spreadSelector: LabelSelector | null;
  /** Images of init containers then containers, as written. */
  images: string[];
  hostPorts: HostPort[];
}

export interface ClusterInput {
  nodes: SchedNode[];
  /** Bound pods (nodeName set and known) are existing load; the rest are scheduled in order. */
  pods: SchedPod[];
}

/** Upstream's scoring defaults for containers without requests (pkg/scheduler/util: DefaultMilliCPURequest, DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
