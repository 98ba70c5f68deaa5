// Real Kubernetes manifests → the scheduler's input (types.ts SchedNode/SchedPod).
//
// Reads what `kubectl get nodes,pods -A -o yaml|json` prints (a `kind: List`),
// typed NodeList/PodList (`kubectl get --raw`, `kscale snapshot`), multi-document
// YAML and hand-written objects; decoding, List walking and file reading are
// src/model/manifests.ts's, shared. Like that loader, kinds it does not use are
// counted in `ignored`, never an error. Besides Nodes and Pods it reads the
// selectors of Services, ReplicaSets, StatefulSets and ReplicationControllers
// when the input holds them: they are what upstream's default spreading
// constraints select (helper.DefaultSelector).
//
// Two stages, as the model loader: read (unknown → official client-node types,
// checking every field's JSON type and naming its path), then normalise with
// the API server's defaults (requests default to limits, allocatable to
// capacity, hostNetwork host ports to container ports) and upstream's
// scheduler rules (effective requests, which pods it sees and in what order).
// Anything the scheduler here cannot honour faithfully is an InputError, not a
// silent approximation.
import type {
  V1Affinity,
  V1Container,
  V1ContainerImage,
  V1ContainerPort,
  V1LabelSelector,
  V1LabelSelectorRequirement,
  V1Node,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1OwnerReference,
  V1Pod,
  V1PodAffinity,
  V1PodAffinityTerm,
  V1Taint,
  V1Toleration,
  V1TopologySpreadConstraint,
  V1WeightedPodAffinityTerm,
} from '@kubernetes/client-node';
import { InputError } from '../errors.js';
import { isDNSLabel, isDNSSubdomain } from '../model/validate.js';
import { field, forEachManifestObject, groupOf, oneOf, readManifestTexts, Reader } from '../model/manifests.js';
import type { IgnoredKind, ManifestObject, Obj } from '../model/manifests.js';
import { validatePodSelectors } from './labels.js';
import { nodeTreeOrder } from './nodetree.js';
import { containerResourceProblem, nodeResourceProblem, resourceAmount } from './quantity.js';
import { podRequests } from './requests.js';
import type {
  ClusterInput,
  HostPort,
  LabelSelector,
  LabelSelectorRequirement,
  NodeSelectorOperator,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PodAffinityRules,
  PodAffinityTerm,
  SchedNode,
  SchedPod,
  SelectorOperator,
  Taint,
  TaintEffect,
  Toleration,
  TopologySpreadConstraint,
} from './types.js';

/** What the input held and what became of it. */
export interface ClusterCounts {
  nodes: number;
  /** Bound and not terminal: existing load. */
  boundPods: number;
  /** Unbound, for the default scheduler, without scheduling gates: what gets scheduled. */
  pendingPods: number;
  /** Succeeded or Failed: the scheduler's informer never sees them. */
  terminalPods: number;
  /** Unbound pods for another spec.schedulerName: the default scheduler leaves them alone. */
  otherSchedulerPods: number;
  /** Unbound pods with spec.schedulingGates: not enqueued until the gates are removed. */
  gatedPods: number;
  /**
   * Pods controlled by a ReplicaSet, StatefulSet or ReplicationController that
   * is not in the input: their default spreading selector is their own labels
   * minus per-pod ones, which is what such a controller's selector selects.
   */
  spreadSelectorFromLabels: number;
}

export interface ManifestCluster extends ClusterInput {
  /** Bound pods first (input order), then pending ones in queue order. */
  pods: SchedPod[];
  counts: ClusterCounts;
  /** Objects read but not used, by kind (as the model loader reports them). */
  ignored: IgnoredKind[];
}

export const DEFAULT_SCHEDULER = 'default-scheduler';
const PER_POD_LABELS = ['statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index', 'controller-revision-hash'];
const TAINT_EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const SELECTOR_OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
const NODE_SELECTOR_OPERATORS: readonly NodeSelectorOperator[] = [...SELECTOR_OPERATORS, 'Gt', 'Lt'];

// ---------------------------------------------------------------------------
// Stage 1: read unknown → official types

type Quantities = { [key: string]: string };

/** A ResourceList: quantities may be written as YAML numbers ("cpu: 2"), as the API accepts. */
function quantities(v: unknown, path: string, r: Reader): Quantities | undefined {
  const o = r.obj(v, path);
  if (!o) return undefined;
  const out: Quantities = {};
  for (const k of Object.keys(o)) {
    const q = o[k];
    if (typeof q === 'number' && Number.isFinite(q)) out[k] = String(q);
    else out[k] = r.str(q, `${path}.${k}`) ?? r.fail(`${path}.${k}`, 'must not be null');
  }
  return out;
}

function readLabelSelector(v: unknown, path: string, r: Reader): V1LabelSelector | undefined {
  const o = r.obj(v, path);
  if (!o) return undefined;
  return {
    matchLabels: r.strMap(field(o, 'matchLabels'), `${path}.matchLabels`),
    matchExpressions: r.objList(field(o, 'matchExpressions'), `${path}.matchExpressions`)?.map((e, i): V1LabelSelectorRequirement => ({
      key: r.str(field(e, 'key'), `${path}.matchExpressions[${i}].key`) ?? r.fail(`${path}.matchExpressions[${i}].key`, 'is required'),
      operator: r.str(field(e, 'operator'), `${path}.matchExpressions[${i}].operator`) ?? r.fail(`${path}.matchExpressions[${i}].operator`, 'is required'),
      values: r.strList(field(e, 'values'), `${path}.matchExpressions[${i}].values`),
    })),
  };
}

function readNodeSelectorTerm(o: Obj, path: string, r: Reader): V1NodeSelectorTerm {
  const reqs = (key: string): V1NodeSelectorRequirement[] | undefined =>
    r.objList(field(o, key), `${path}.${key}`)?.map((e, i) => ({
      key: r.str(field(e, 'key'), `${path}.${key}[${i}].key`) ?? r.fail(`${path}.${key}[${i}].key`, 'is required'),
      operator: r.str(field(e, 'operator'), `${path}.${key}[${i}].operator`) ?? r.fail(`${path}.${key}[${i}].operator`, 'is required'),
      values: r.strList(field(e, 'values'), `${path}.${key}[${i}].values`),
    }));
  return { matchExpressions: reqs('matchExpressions'), matchFields: reqs('matchFields') };
}

function readPodAffinityTerm(o: Obj, path: string, r: Reader): V1PodAffinityTerm {
  return {
    labelSelector: readLabelSelector(field(o, 'labelSelector'), `${path}.labelSelector`, r),
    namespaceSelector: readLabelSelector(field(o, 'namespaceSelector'), `${path}.namespaceSelector`, r),
    namespaces: r.strList(field(o, 'namespaces'), `${path}.namespaces`),
    topologyKey: r.str(field(o, 'topologyKey'), `${path}.topologyKey`) ?? '',
    matchLabelKeys: r.strList(field(o, 'matchLabelKeys'), `${path}.matchLabelKeys`),
    mismatchLabelKeys: r.strList(field(o, 'mismatchLabelKeys'), `${path}.mismatchLabelKeys`),
  };
}

function readPodAffinity(v: unknown, path: string, r: Reader): V1PodAffinity | undefined {
  const o = r.obj(v, path);
  if (!o) return undefined;
  const req = 'requiredDuringSchedulingIgnoredDuringExecution';
  const pref = 'preferredDuringSchedulingIgnoredDuringExecution';
  return {
    [req]: r.objList(field(o, req), `${path}.${req}`)?.map((t, i) => readPodAffinityTerm(t, `${path}.${req}[${i}]`, r)),
    [pref]: r.objList(field(o, pref), `${path}.${pref}`)?.map((t, i): V1WeightedPodAffinityTerm => {
      const p = `${path}.${pref}[${i}]`;
      const term = r.obj(field(t, 'podAffinityTerm'), `${p}.podAffinityTerm`) ?? r.fail(`${p}.podAffinityTerm`, 'is required');
      return { weight: r.int(field(t, 'weight'), `${p}.weight`) ?? r.fail(`${p}.weight`, 'is required'), podAffinityTerm: readPodAffinityTerm(term, `${p}.podAffinityTerm`, r) };
    }),
  };
}

function readAffinity(v: unknown, r: Reader): V1Affinity | undefined {
  const o = r.obj(v, 'spec.affinity');
  if (!o) return undefined;
  const na = r.obj(field(o, 'nodeAffinity'), 'spec.affinity.nodeAffinity');
  const base = 'spec.affinity.nodeAffinity';
  const req = 'requiredDuringSchedulingIgnoredDuringExecution';
  const pref = 'preferredDuringSchedulingIgnoredDuringExecution';
  const required = r.obj(field(na, req), `${base}.${req}`);
  return {
    nodeAffinity: na && {
      [req]: required && {
        nodeSelectorTerms: (r.objList(field(required, 'nodeSelectorTerms'), `${base}.${req}.nodeSelectorTerms`) ?? r.fail(`${base}.${req}.nodeSelectorTerms`, 'is required'))
          .map((t, i) => readNodeSelectorTerm(t, `${base}.${req}.nodeSelectorTerms[${i}]`, r)),
      },
      [pref]: r.objList(field(na, pref), `${base}.${pref}`)?.map((t, i) => {
        const p = `${base}.${pref}[${i}]`;
        const preference = r.obj(field(t, 'preference'), `${p}.preference`) ?? r.fail(`${p}.preference`, 'is required');
        return { weight: r.int(field(t, 'weight'), `${p}.weight`) ?? r.fail(`${p}.weight`, 'is required'), preference: readNodeSelectorTerm(preference, `${p}.preference`, r) };
      }),
    },
    podAffinity: readPodAffinity(field(o, 'podAffinity'), 'spec.affinity.podAffinity', r),
    podAntiAffinity: readPodAffinity(field(o, 'podAntiAffinity'), 'spec.affinity.podAntiAffinity', r),
  };
}

function readContainer(c: Obj, path: string, r: Reader): V1Container {
  const res = r.obj(field(c, 'resources'), `${path}.resources`);
  return {
    name: r.str(field(c, 'name'), `${path}.name`) ?? '',
    image: r.str(field(c, 'image'), `${path}.image`),
    restartPolicy: r.str(field(c, 'restartPolicy'), `${path}.restartPolicy`),
    resources: res && {
      requests: quantities(field(res, 'requests'), `${path}.resources.requests`, r),
      limits: quantities(field(res, 'limits'), `${path}.resources.limits`, r),
    },
    ports: r.objList(field(c, 'ports'), `${path}.ports`)?.map((p, i): V1ContainerPort => ({
      containerPort: r.int(field(p, 'containerPort'), `${path}.ports[${i}].containerPort`) ?? r.fail(`${path}.ports[${i}].containerPort`, 'is required'),
      hostPort: r.int(field(p, 'hostPort'), `${path}.ports[${i}].hostPort`),
      hostIP: r.str(field(p, 'hostIP'), `${path}.ports[${i}].hostIP`),
      protocol: r.str(field(p, 'protocol'), `${path}.ports[${i}].protocol`),
    })),
  };
}

function readOwners(m: Obj | undefined, r: Reader): V1OwnerReference[] | undefined {
  return r.objList(field(m, 'ownerReferences'), 'metadata.ownerReferences')?.map((o, i) => ({
    apiVersion: r.str(field(o, 'apiVersion'), `metadata.ownerReferences[${i}].apiVersion`) ?? '',
    kind: r.str(field(o, 'kind'), `metadata.ownerReferences[${i}].kind`) ?? '',
    name: r.str(field(o, 'name'), `metadata.ownerReferences[${i}].name`) ?? '',
    uid: r.str(field(o, 'uid'), `metadata.ownerReferences[${i}].uid`) ?? '',
    controller: r.bool(field(o, 'controller'), `metadata.ownerReferences[${i}].controller`),
  }));
}

function readPod(o: Obj, r: Reader): V1Pod {
  const m = r.obj(field(o, 'metadata'), 'metadata');
  const spec = r.obj(field(o, 'spec'), 'spec') ?? r.fail('spec', 'is required');
  const status = r.obj(field(o, 'status'), 'status');
  const containers = (key: string): V1Container[] | undefined =>
    r.objList(field(spec, key), `spec.${key}`)?.map((c, i) => readContainer(c, `spec.${key}[${i}]`, r));
  const podResources = r.obj(field(spec, 'resources'), 'spec.resources');
  return {
    metadata: {
      name: r.str(field(m, 'name'), 'metadata.name'),
      namespace: r.str(field(m, 'namespace'), 'metadata.namespace'),
      labels: r.strMap(field(m, 'labels'), 'metadata.labels'),
      ownerReferences: readOwners(m, r),
    },
    spec: {
      containers: containers('containers') ?? [],
      initContainers: containers('initContainers'),
      overhead: quantities(field(spec, 'overhead'), 'spec.overhead', r),
      resources: podResources && {
        requests: quantities(field(podResources, 'requests'), 'spec.resources.requests', r),
        limits: quantities(field(podResources, 'limits'), 'spec.resources.limits', r),
      },
      nodeName: r.str(field(spec, 'nodeName'), 'spec.nodeName'),
      nodeSelector: r.strMap(field(spec, 'nodeSelector'), 'spec.nodeSelector'),
      affinity: readAffinity(field(spec, 'affinity'), r),
      tolerations: r.objList(field(spec, 'tolerations'), 'spec.tolerations')?.map((t, i): V1Toleration => ({
        key: r.str(field(t, 'key'), `spec.tolerations[${i}].key`),
        operator: r.str(field(t, 'operator'), `spec.tolerations[${i}].operator`),
        value: r.str(field(t, 'value'), `spec.tolerations[${i}].value`),
        effect: r.str(field(t, 'effect'), `spec.tolerations[${i}].effect`),
        tolerationSeconds: r.int(field(t, 'tolerationSeconds'), `spec.tolerations[${i}].tolerationSeconds`),
      })),
      topologySpreadConstraints: r.objList(field(spec, 'topologySpreadConstraints'), 'spec.topologySpreadConstraints')?.map((c, i): V1TopologySpreadConstraint => {
        const p = `spec.topologySpreadConstraints[${i}]`;
        return {
          maxSkew: r.int(field(c, 'maxSkew'), `${p}.maxSkew`) ?? r.fail(`${p}.maxSkew`, 'is required'),
          topologyKey: r.str(field(c, 'topologyKey'), `${p}.topologyKey`) ?? r.fail(`${p}.topologyKey`, 'is required'),
          whenUnsatisfiable: r.str(field(c, 'whenUnsatisfiable'), `${p}.whenUnsatisfiable`) ?? r.fail(`${p}.whenUnsatisfiable`, 'is required'),
          labelSelector: readLabelSelector(field(c, 'labelSelector'), `${p}.labelSelector`, r),
          minDomains: r.int(field(c, 'minDomains'), `${p}.minDomains`),
          nodeAffinityPolicy: r.str(field(c, 'nodeAffinityPolicy'), `${p}.nodeAffinityPolicy`),
          nodeTaintsPolicy: r.str(field(c, 'nodeTaintsPolicy'), `${p}.nodeTaintsPolicy`),
          matchLabelKeys: r.strList(field(c, 'matchLabelKeys'), `${p}.matchLabelKeys`),
        };
      }),
      hostNetwork: r.bool(field(spec, 'hostNetwork'), 'spec.hostNetwork'),
      schedulerName: r.str(field(spec, 'schedulerName'), 'spec.schedulerName'),
      priority: r.int(field(spec, 'priority'), 'spec.priority'),
      schedulingGates: r.objList(field(spec, 'schedulingGates'), 'spec.schedulingGates')?.map((g, i) => ({
        name: r.str(field(g, 'name'), `spec.schedulingGates[${i}].name`) ?? '',
      })),
      resourceClaims: r.objList(field(spec, 'resourceClaims'), 'spec.resourceClaims')?.map((c, i) => ({
        name: r.str(field(c, 'name'), `spec.resourceClaims[${i}].name`) ?? '',
      })),
    },
    status: { phase: r.str(field(status, 'phase'), 'status.phase'), nominatedNodeName: r.str(field(status, 'nominatedNodeName'), 'status.nominatedNodeName') },
  };
}

function readNode(o: Obj, r: Reader): V1Node {
  const m = r.obj(field(o, 'metadata'), 'metadata');
  const spec = r.obj(field(o, 'spec'), 'spec');
  const status = r.obj(field(o, 'status'), 'status');
  return {
    metadata: { name: r.str(field(m, 'name'), 'metadata.name'), labels: r.strMap(field(m, 'labels'), 'metadata.labels') },
    spec: {
      unschedulable: r.bool(field(spec, 'unschedulable'), 'spec.unschedulable'),
      taints: r.objList(field(spec, 'taints'), 'spec.taints')?.map((t, i): V1Taint => ({
        key: r.str(field(t, 'key'), `spec.taints[${i}].key`) ?? r.fail(`spec.taints[${i}].key`, 'is required'),
        value: r.str(field(t, 'value'), `spec.taints[${i}].value`),
        effect: r.str(field(t, 'effect'), `spec.taints[${i}].effect`) ?? r.fail(`spec.taints[${i}].effect`, 'is required'),
      })),
    },
    status: {
      allocatable: quantities(field(status, 'allocatable'), 'status.allocatable', r),
      capacity: quantities(field(status, 'capacity'), 'status.capacity', r),
      images: r.objList(field(status, 'images'), 'status.images')?.map((img, i): V1ContainerImage => ({
        names: r.strList(field(img, 'names'), `status.images[${i}].names`),
        sizeBytes: r.int(field(img, 'sizeBytes'), `status.images[${i}].sizeBytes`),
      })),
    },
  };
}

// ---------------------------------------------------------------------------
// Stage 2: normalise

function labelSelector(s: V1LabelSelector | undefined, path: string, r: Reader): LabelSelector | null {
  if (!s) return null;
  return {
    matchLabels: { ...(s.matchLabels ?? {}) },
    matchExpressions: (s.matchExpressions ?? []).map((e, i): LabelSelectorRequirement => ({
      key: e.key, operator: requiredOneOf(e.operator, SELECTOR_OPERATORS, `${path}.matchExpressions[${i}].operator`, r), values: e.values ?? [],
    })),
  };
}

/**
 * matchLabelKeys / mismatchLabelKeys: requirements on the incoming pod's own
 * label values, ANDed into the selector (the API server merges them at
 * creation; merging again is harmless, the requirement is the same).
 */
function withLabelKeys(s: LabelSelector | null, labels: Record<string, string>, match: string[] = [], mismatch: string[] = []): LabelSelector | null {
  if (s === null || (match.length === 0 && mismatch.length === 0)) return s;
  const extra: LabelSelectorRequirement[] = [];
  for (const k of match) if (Object.hasOwn(labels, k)) extra.push({ key: k, operator: 'In', values: [labels[k] as string] });
  for (const k of mismatch) if (Object.hasOwn(labels, k)) extra.push({ key: k, operator: 'NotIn', values: [labels[k] as string] });
  return { matchLabels: s.matchLabels, matchExpressions: [...s.matchExpressions, ...extra] };
}

function nodeSelectorTerm(t: V1NodeSelectorTerm, path: string, r: Reader): NodeSelectorTerm {
  const reqs = (list: V1NodeSelectorRequirement[] | undefined, key: string): NodeSelectorRequirement[] => (list ?? []).map((e, i) => ({
    key: e.key, operator: requiredOneOf(e.operator, NODE_SELECTOR_OPERATORS, `${path}.${key}[${i}].operator`, r), values: e.values ?? [],
  }));
  return { matchExpressions: reqs(t.matchExpressions, 'matchExpressions'), matchFields: reqs(t.matchFields, 'matchFields') };
}

function affinityRules(a: V1PodAffinity | undefined, path: string, labels: Record<string, string>, r: Reader): PodAffinityRules {
  const term = (t: V1PodAffinityTerm, p: string): PodAffinityTerm => {
    // A namespace selector needs the cluster's Namespace objects and their labels, which a Node/Pod dump lacks.
    if (t.namespaceSelector !== undefined) r.fail(`${p}.namespaceSelector`, 'is not supported (namespaces are resolved from spec.namespaces only)');
    if (t.topologyKey === '') r.fail(`${p}.topologyKey`, 'is required');
    return {
      labelSelector: withLabelKeys(labelSelector(t.labelSelector, `${p}.labelSelector`, r), labels, t.matchLabelKeys, t.mismatchLabelKeys),
      namespaces: t.namespaces ?? [],
      topologyKey: t.topologyKey,
    };
  };
  const req = 'requiredDuringSchedulingIgnoredDuringExecution';
  const pref = 'preferredDuringSchedulingIgnoredDuringExecution';
  return {
    required: (a?.[req] ?? []).map((t, i) => term(t, `${path}.${req}[${i}]`)),
    preferred: (a?.[pref] ?? []).map((t, i) => {
      if (t.weight < 1 || t.weight > 100) r.fail(`${path}.${pref}[${i}].weight`, `must be within 1..100, got ${t.weight}`);
      return { weight: t.weight, podAffinityTerm: term(t.podAffinityTerm, `${path}.${pref}[${i}].podAffinityTerm`) };
    }),
  };
}

function toleration(t: V1Toleration, path: string, r: Reader): Toleration {
  const operator = oneOf(t.operator, ['Equal', 'Exists'] as const, 'Equal', `${path}.operator`, r);
  const key = t.key ?? '';
  const value = t.value ?? '';
  if (operator === 'Exists' && value !== '') r.fail(`${path}.value`, 'must be empty when operator is Exists');
  if (key === '' && operator !== 'Exists') r.fail(`${path}.operator`, 'must be Exists when key is empty');
  const effect = t.effect === undefined || t.effect === '' ? '' : oneOf(t.effect, TAINT_EFFECTS, 'NoSchedule', `${path}.effect`, r);
  return { key, operator, value, effect };
}

function spreadConstraint(c: V1TopologySpreadConstraint, path: string, labels: Record<string, string>, r: Reader): TopologySpreadConstraint {
  // The plugin implements the default inclusion policies only.
  if (c.nodeAffinityPolicy !== undefined && c.nodeAffinityPolicy !== 'Honor') r.fail(`${path}.nodeAffinityPolicy`, `"${c.nodeAffinityPolicy}" is not supported (only the default Honor)`);
  if (c.nodeTaintsPolicy !== undefined && c.nodeTaintsPolicy !== 'Ignore') r.fail(`${path}.nodeTaintsPolicy`, `"${c.nodeTaintsPolicy}" is not supported (only the default Ignore)`);
  const whenUnsatisfiable = oneOf(c.whenUnsatisfiable, ['DoNotSchedule', 'ScheduleAnyway'] as const, 'DoNotSchedule', `${path}.whenUnsatisfiable`, r);
  if (c.minDomains !== undefined) {
    if (c.minDomains < 1) r.fail(`${path}.minDomains`, `must be ≥ 1, got ${c.minDomains}`);
    if (whenUnsatisfiable !== 'DoNotSchedule') r.fail(`${path}.minDomains`, 'may only be set with whenUnsatisfiable DoNotSchedule');
  }
  return {
    maxSkew: c.maxSkew, topologyKey: c.topologyKey, whenUnsatisfiable,
    labelSelector: withLabelKeys(labelSelector(c.labelSelector, `${path}.labelSelector`, r), labels, c.matchLabelKeys),
    minDomains: c.minDomains ?? 1,
  };
}

/** A container's requests with the API server's default: a resource with a limit and no request requests the limit. */
function effectiveContainerRequests(c: V1Container): Quantities {
  return { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
}

/** A field the API server requires (no default): absent or "" is an error, not the first allowed value. */
function requiredOneOf<T extends string>(value: string | undefined, allowed: readonly T[], path: string, r: Reader): T {
  if (value === undefined || value === '') return r.fail(path, `is required (one of ${allowed.join(', ')})`);
  return oneOf(value, allowed, allowed[0] as T, path, r);
}

/** Every quantity parses; with `requested`, every name is one a container may request (containerResourceProblem). */
function checkQuantities(q: Quantities | undefined, subject: string, requested = false): void {
  for (const [res, text] of Object.entries(q ?? {})) {
    resourceAmount(res, text, subject);
    const problem = requested ? containerResourceProblem(res, text) : undefined;
    if (problem !== undefined) throw new InputError(subject, problem);
  }
}

function hostPorts(raw: V1Pod, r: Reader): HostPort[] {
  const out: HostPort[] = [];
  // NodePorts reads the app containers' ports (upstream's getContainerPorts).
  raw.spec?.containers.forEach((c, ci) => (c.ports ?? []).forEach((p, pi) => {
    const path = `spec.containers[${ci}].ports[${pi}]`;
    // With hostNetwork the API server defaults every hostPort to its containerPort.
    const port = p.hostPort !== undefined && p.hostPort !== 0 ? p.hostPort : raw.spec?.hostNetwork === true ? p.containerPort : 0;
    if (port === 0) return;
    if (port < 1 || port > 65535) r.fail(`${path}.hostPort`, `must be within 1..65535, got ${port}`);
    out.push({ port, protocol: oneOf(p.protocol, ['TCP', 'UDP', 'SCTP'] as const, 'TCP', `${path}.protocol`, r), hostIP: p.hostIP ?? '' });
  }));
  return out;
}

function nominated(name: string | undefined): Pick<SchedPod, 'nominatedNodeName'> {
  return name === undefined || name === '' ? {} : { nominatedNodeName: name };
}

function normalizePod(raw: V1Pod, subject: string, r: Reader): SchedPod {
  const meta = raw.metadata ?? {};
  const spec = raw.spec ?? r.fail('spec', 'is required');
  const labels = { ...(meta.labels ?? {}) };
  if (spec.containers.length === 0) r.fail('spec.containers', 'is required (at least one container)');
  if (spec.resources?.requests !== undefined || spec.resources?.limits !== undefined) {
    r.fail('spec.resources', 'pod-level resources are not supported (set requests per container)');
  }
  const init = spec.initContainers ?? [];
  const restartable = init.map((c, i) => {
    if (c.restartPolicy === undefined) return false;
    if (c.restartPolicy !== 'Always') r.fail(`spec.initContainers[${i}].restartPolicy`, `unknown value "${c.restartPolicy}" (expected Always)`);
    return true;
  });
  // Check every quantity with its path first, so a bad one is named exactly.
  spec.containers.forEach((c, i) => checkQuantities(effectiveContainerRequests(c), `${subject}: spec.containers[${i}].resources.requests`, true));
  init.forEach((c, i) => checkQuantities(effectiveContainerRequests(c), `${subject}: spec.initContainers[${i}].resources.requests`, true));
  checkQuantities(spec.overhead, `${subject}: spec.overhead`);
  const req = podRequests(spec.containers.map(effectiveContainerRequests), init.map(effectiveContainerRequests), spec.overhead ?? {}, subject, restartable);
  const na = spec.affinity?.nodeAffinity;
  const requiredTerms = na?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const pod: SchedPod = {
    namespace: meta.namespace ?? 'default',
    name: meta.name ?? r.fail('metadata.name', 'is required'),
    labels,
    requests: req.requests,
    nonZeroRequests: req.nonZeroRequests,
    nodeName: spec.nodeName ?? '',
    // A bound pod's nomination is moot; keeping it off the class key keeps such pods in one class.
    ...(spec.nodeName === undefined || spec.nodeName === '' ? nominated(raw.status?.nominatedNodeName) : {}),
    nodeSelector: { ...(spec.nodeSelector ?? {}) },
    requiredNodeAffinity: requiredTerms === undefined ? null
      : requiredTerms.map((t, i) => nodeSelectorTerm(t, `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${i}]`, r)),
    preferredNodeAffinity: (na?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t, i) => {
      const p = `spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      if (t.weight < 1 || t.weight > 100) r.fail(`${p}.weight`, `must be within 1..100, got ${t.weight}`);
      return { weight: t.weight, preference: nodeSelectorTerm(t.preference, `${p}.preference`, r) };
    }),
    podAffinity: affinityRules(spec.affinity?.podAffinity, 'spec.affinity.podAffinity', labels, r),
    podAntiAffinity: affinityRules(spec.affinity?.podAntiAffinity, 'spec.affinity.podAntiAffinity', labels, r),
    tolerations: (spec.tolerations ?? []).map((t, i) => toleration(t, `spec.tolerations[${i}]`, r)),
    topologySpreadConstraints: (spec.topologySpreadConstraints ?? []).map((c, i) => spreadConstraint(c, `spec.topologySpreadConstraints[${i}]`, labels, r)),
    spreadSelector: null,
    images: [...init, ...spec.containers].map((c) => c.image ?? ''),
    hostPorts: hostPorts(raw, r),
  };
  try {
    validatePodSelectors(pod);
  } catch (e) {
    // The selector checks name the pod; put the file and document in front.
    if (e instanceof InputError) throw new InputError(subject, e.message.slice(e.subject.length + 2));
    throw e;
  }
  return pod;
}

function normalizeNode(raw: V1Node, subject: string, r: Reader): SchedNode {
  const name = raw.metadata?.name ?? r.fail('metadata.name', 'is required');
  // Both lists as the API server validates them (ValidateNodeResources), the unused one too.
  for (const list of ['capacity', 'allocatable'] as const) {
    for (const [res, text] of Object.entries(raw.status?.[list] ?? {})) {
      resourceAmount(res, text, `${subject}: status.${list}`);
      const problem = nodeResourceProblem(res, text);
      if (problem !== undefined) throw new InputError(`${subject}: status.${list}`, problem);
    }
  }
  // The API server defaults allocatable to capacity (hand-written Nodes often give only one).
  const source = raw.status?.allocatable !== undefined ? 'allocatable' : 'capacity';
  const quantitiesIn = raw.status?.[source] ?? {};
  const allocatable: Record<string, number> = {};
  for (const [res, text] of Object.entries(quantitiesIn)) allocatable[res] = resourceAmount(res, text, `${subject}: status.${source}`);
  const taints: Taint[] = (raw.spec?.taints ?? []).map((t, i) => ({
    key: t.key, value: t.value ?? '', effect: requiredOneOf(t.effect, TAINT_EFFECTS, `spec.taints[${i}].effect`, r),
  }));
  return {
    name,
    labels: { ...(raw.metadata?.labels ?? {}) },
    allocatable,
    taints,
    unschedulable: raw.spec?.unschedulable ?? false,
    // ImageLocality keys node images by the names the kubelet reports.
    images: (raw.status?.images ?? []).map((img) => ({ names: img.names ?? [], sizeBytes: img.sizeBytes ?? 0 })),
  };
}

// ---------------------------------------------------------------------------
// Collecting, with the workload objects default spreading reads

interface PodEntry {
  pod: SchedPod;
  subject: string;
  phase: string;
  schedulerName: string;
  gated: boolean;
  priority: number;
  controller: V1OwnerReference | undefined;
  hasClaims: boolean;
}

interface Collected {
  nodes: SchedNode[];
  /** Where each of nodes came from (file, document), for a duplicate's message. */
  nodeSubjects: string[];
  pods: PodEntry[];
  /** Services' spec.selector by namespace. */
  services: Map<string, Record<string, string>[]>;
  /** "Kind/namespace/name" → selector, for ReplicaSet, StatefulSet, ReplicationController. */
  controllers: Map<string, LabelSelector>;
  ignored: Map<string, number>;
}

function controllerKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function readNamed(o: Obj, r: Reader): { name: string; namespace: string } {
  const m = r.obj(field(o, 'metadata'), 'metadata');
  return {
    name: r.str(field(m, 'name'), 'metadata.name') ?? r.fail('metadata.name', 'is required'),
    namespace: r.str(field(m, 'namespace'), 'metadata.namespace') ?? 'default',
  };
}

/**
 * A Node's or Pod's name as the API server allows it, checked before it goes
 * into any message or table: a name with a newline or escape codes would
 * otherwise print as rows of its own. The value is shown escaped and cut short.
 */
function checkName(where: string, kind: string, path: string, value: string | undefined, valid: (s: string) => boolean, rule: string): void {
  if (value === undefined || valid(value)) return;
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  throw new InputError(`${where}: ${kind}`, `${path} ${shown} is not ${rule}`);
}

const SUBDOMAIN_RULE = "a DNS subdomain (lowercase letters, digits and '-', '.'; at most 253 characters)";
const LABEL_RULE = "a DNS label (lowercase letters, digits and '-'; at most 63 characters)";

function collectObject({ o, kind, apiVersion, group, where, r }: ManifestObject, out: Collected): void {
  const version = (want: string): void => {
    if (apiVersion !== '' && apiVersion !== want) r.fail('apiVersion', `unsupported ${kind} apiVersion ${JSON.stringify(apiVersion)} (expected ${want})`);
  };
  if (kind === 'Node' && group === '') {
    version('v1');
    const meta = r.obj(field(o, 'metadata'), 'metadata');
    checkName(where, 'Node', 'metadata.name', r.str(field(meta, 'name'), 'metadata.name'), isDNSSubdomain, SUBDOMAIN_RULE);
    const subject = `${where}: Node ${r.str(field(meta, 'name'), 'metadata.name') ?? '?'}`;
    const named = r.named(subject);
    out.nodes.push(normalizeNode(readNode(o, named), subject, named));
    out.nodeSubjects.push(subject);
    return;
  }
  if (kind === 'Pod' && group === '') {
    version('v1');
    const meta = r.obj(field(o, 'metadata'), 'metadata');
    checkName(where, 'Pod', 'metadata.namespace', r.str(field(meta, 'namespace'), 'metadata.namespace'), isDNSLabel, LABEL_RULE);
    checkName(where, 'Pod', 'metadata.name', r.str(field(meta, 'name'), 'metadata.name'), isDNSSubdomain, SUBDOMAIN_RULE);
    const subject = `${where}: Pod ${r.str(field(meta, 'namespace'), 'metadata.namespace') ?? 'default'}/${r.str(field(meta, 'name'), 'metadata.name') ?? '?'}`;
    const named = r.named(subject);
    const raw = readPod(o, named);
    const spec = raw.spec;
    out.pods.push({
      pod: normalizePod(raw, subject, named), subject,
      phase: raw.status?.phase ?? '',
      schedulerName: spec?.schedulerName ?? DEFAULT_SCHEDULER,
      gated: (spec?.schedulingGates ?? []).length > 0,
      priority: spec?.priority ?? 0,
      controller: raw.metadata?.ownerReferences?.find((x) => x.controller === true),
      hasClaims: (spec?.resourceClaims ?? []).length > 0,
    });
    return;
  }
  if (kind === 'Service' && group === '') {
    const { namespace } = readNamed(o, r);
    const spec = r.obj(field(o, 'spec'), 'spec');
    const selector = r.strMap(field(spec, 'selector'), 'spec.selector');
    // Upstream: a Service without a selector selects nothing.
    if (selector !== undefined) out.services.set(namespace, [...(out.services.get(namespace) ?? []), { ...selector }]);
    return;
  }
  const isApps = group === 'apps' && (kind === 'ReplicaSet' || kind === 'StatefulSet');
  if (isApps || (kind === 'ReplicationController' && group === '')) {
    const { name, namespace } = readNamed(o, r);
    const named = r.named(`${where}: ${kind} ${namespace}/${name}`);
    const spec = r.obj(field(o, 'spec'), 'spec');
    const selector = isApps
      ? labelSelector(readLabelSelector(field(spec, 'selector'), 'spec.selector', named), 'spec.selector', named)
      : (() => { const s = named.strMap(field(spec, 'selector'), 'spec.selector'); return s ? { matchLabels: { ...s }, matchExpressions: [] } : null; })();
    if (selector) out.controllers.set(controllerKey(kind, namespace, name), selector);
    return;
  }
  const label = group === '' ? kind : `${kind}.${group}`;
  out.ignored.set(label, (out.ignored.get(label) ?? 0) + 1);
}

/** ReplicaSet / StatefulSet (apps) and ReplicationController (core): the owners DefaultSelector reads. */
function spreadOwnerKind(ref: V1OwnerReference | undefined): string | undefined {
  if (!ref) return undefined;
  const group = groupOf(ref.apiVersion);
  if (group === 'apps' && (ref.kind === 'ReplicaSet' || ref.kind === 'StatefulSet')) return ref.kind;
  if (group === '' && ref.kind === 'ReplicationController') return ref.kind;
  return undefined;
}

/**
 * helper.DefaultSelector: the merged selectors of the Services selecting the
 * pod, ANDed with its controlling ReplicaSet / StatefulSet / RC's selector.
 * null when that is empty (upstream then applies no default constraints).
 */
function defaultSpreadSelector(e: PodEntry, c: Collected): { selector: LabelSelector | null; fromLabels: boolean } {
  const p = e.pod;
  const matchLabels: Record<string, string> = {};
  for (const s of c.services.get(p.namespace) ?? []) {
    if (Object.entries(s).every(([k, v]) => p.labels[k] === v)) Object.assign(matchLabels, s);
  }
  const matchExpressions: LabelSelectorRequirement[] = [];
  let fromLabels = false;
  const kind = spreadOwnerKind(e.controller);
  if (kind !== undefined && e.controller) {
    let owner = c.controllers.get(controllerKey(kind, p.namespace, e.controller.name));
    if (owner === undefined) {
      const own = Object.fromEntries(Object.entries(p.labels).filter(([k]) => !PER_POD_LABELS.includes(k)));
      owner = { matchLabels: own, matchExpressions: [] };
      fromLabels = true;
    }
    Object.assign(matchLabels, owner.matchLabels);
    matchExpressions.push(...owner.matchExpressions);
  }
  const empty = Object.keys(matchLabels).length === 0 && matchExpressions.length === 0;
  return { selector: empty ? null : { matchLabels, matchExpressions }, fromLabels };
}

function finish(c: Collected): ManifestCluster {
  const nodeNames = new Map<string, string>();
  c.nodes.forEach((n, i) => {
    const subject = c.nodeSubjects[i] ?? `Node ${n.name}`;
    const first = nodeNames.get(n.name);
    if (first !== undefined) throw new InputError(subject, `duplicate node name (first defined at ${first})`);
    nodeNames.set(n.name, subject);
  });
  const counts: ClusterCounts = { nodes: c.nodes.length, boundPods: 0, pendingPods: 0, terminalPods: 0, otherSchedulerPods: 0, gatedPods: 0, spreadSelectorFromLabels: 0 };
  const seen = new Set<string>();
  const bound: SchedPod[] = [];
  const pending: { pod: SchedPod; priority: number }[] = [];
  for (const e of c.pods) {
    const id = `${e.pod.namespace}/${e.pod.name}`;
    if (seen.has(id)) throw new InputError(e.subject, 'duplicate pod (the same namespace/name appears twice)');
    seen.add(id);
    // The scheduler's pod informer selects status.phase!=Succeeded,status.phase!=Failed.
    if (e.phase === 'Succeeded' || e.phase === 'Failed') { counts.terminalPods++; continue; }
    const { selector, fromLabels } = defaultSpreadSelector(e, c);
    e.pod.spreadSelector = selector;
    if (e.pod.nodeName !== '') {
      if (!nodeNames.has(e.pod.nodeName)) throw new InputError(e.subject, `spec.nodeName: bound to node "${e.pod.nodeName}", which is not in the input`);
      bound.push(e.pod);
    } else if (e.schedulerName !== DEFAULT_SCHEDULER) {
      counts.otherSchedulerPods++;
      continue;
    } else if (e.gated) {
      counts.gatedPods++;
      continue;
    } else {
      if (e.hasClaims) throw new InputError(e.subject, 'spec.resourceClaims: dynamic resource allocation is not supported for pods to schedule');
      pending.push({ pod: e.pod, priority: e.priority });
    }
    if (fromLabels) counts.spreadSelectorFromLabels++;
  }
  // PrioritySort: higher spec.priority first; equal priorities keep input order
  // (upstream breaks ties by queue arrival time, which a dump does not carry).
  const queue = pending.map((x, i) => ({ ...x, i })).sort((a, b) => b.priority - a.priority || a.i - b.i).map((x) => x.pod);
  counts.boundPods = bound.length;
  counts.pendingPods = queue.length;
  return {
    // The order kube-scheduler's cache lists them in, which is the order every cycle examines them in.
    nodes: nodeTreeOrder(c.nodes),
    pods: [...bound, ...queue],
    counts,
    ignored: [...c.ignored.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([kind, count]) => ({ kind, count })),
  };
}

function newCollected(): Collected {
  return { nodes: [], nodeSubjects: [], pods: [], services: new Map(), controllers: new Map(), ignored: new Map() };
}

// ---------------------------------------------------------------------------
// Public API

/** Parses one manifest text into the scheduler's input. Pure; `fileName` only names the source in errors. */
export function parseClusterManifests(text: string, fileName: string): ManifestCluster {
  const c = newCollected();
  forEachManifestObject(text, fileName, (m) => collectObject(m, c));
  return finish(c);
}

/**
 * Loads Nodes and Pods (and the workload selectors default spreading needs)
 * from files, directories or "-". With `explainPod`, that file must hold
 * exactly one Pod, not yet bound (a bound pod never reaches the scheduler);
 * it is returned as `explain`, its default spreading selector drawn from the
 * cluster's Services and controllers like any pending pod's.
 */
export async function loadClusterManifests(paths: string[], options: { explainPod?: string } = {}): Promise<ManifestCluster & { explain?: SchedPod }> {
  const c = newCollected();
  await readManifestTexts(paths, (text, fileName) => forEachManifestObject(text, fileName, (m) => collectObject(m, c)));
  const cluster = finish(c);
  const path = options.explainPod;
  if (path === undefined) return cluster;
  const own = newCollected();
  await readManifestTexts([path], (text, fileName) => forEachManifestObject(text, fileName, (m) => collectObject(m, own)));
  const [first, ...rest] = own.pods;
  if (first === undefined || rest.length > 0) throw new InputError(path, `--pod needs a file with exactly one Pod, found ${own.pods.length}`);
  if (first.pod.nodeName !== '') throw new InputError(first.subject, `spec.nodeName: already bound to "${first.pod.nodeName}"; --pod takes a pod to schedule`);
  if (first.hasClaims) throw new InputError(first.subject, 'spec.resourceClaims: dynamic resource allocation is not supported for pods to schedule');
  first.pod.spreadSelector = defaultSpreadSelector(first, c).selector;
  return { ...cluster, explain: first.pod };
}
