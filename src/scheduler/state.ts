// Cluster state as a struct of arrays over SharedArrayBuffers, so every worker
// thread reads the very same memory the main thread commits placements into.
//
// Two halves:
// - `SchedTables`: plain, structured-cloneable dictionaries sent once to each
//   worker (strings behind label/taint/image ids, pod classes, affinity terms).
// - `SchedBuffers`: the SharedArrayBuffers. Static node data (allocatable,
//   label ids, taint ids, image ids, topology domain ids) never changes; dynamic
//   data (requested, pod counts, host ports, pod counts per label set and per
//   topology domain) is written only by the main thread, between scheduling
//   cycles, never while workers read it.
//
// Pods are interned into classes: every field the plugins read except the
// name. Synthetic workloads have a handful of classes; manifests may have one
// per pod, which is still correct, just less cache-friendly.
import { InputError } from '../errors.js';
import { signature, validatePodSelectors } from './labels.js';
import { preFilterNodeNames } from './plugins/nodeaffinity.js';
import type { LabelSelector, NodeSelectorTerm, PodAffinityTerm, PreferredSchedulingTerm, SchedNode, SchedPod, Taint, TaintEffect, Toleration } from './types.js';
import { LABEL_HOSTNAME, LABEL_ZONE } from './types.js';

/** How a placed pod's own affinity term acts on pods scheduled later (upstream's symmetry rules). */
export const TermKind = { requiredAffinity: 0, preferredAffinity: 1, preferredAntiAffinity: 2, requiredAntiAffinity: 3 } as const;
export type TermKindValue = (typeof TermKind)[keyof typeof TermKind];

/** A pod affinity term as carried by a placed pod of some class (namespaces resolved). */
export interface TermDef {
  kind: TermKindValue;
  weight: number;
  namespaces: string[];
  selector: LabelSelector | null;
  topoKey: number;
}

/** A pod affinity term of the pod being scheduled (namespaces resolved). */
export interface IncomingTerm {
  namespaces: string[];
  selector: LabelSelector | null;
  topoKey: number;
  weight: number;
}

export interface SpreadDef {
  maxSkew: number;
  topoKey: number;
  hard: boolean;
  selector: LabelSelector | null;
  minDomains: number;
}

export interface PodClass {
  namespace: string;
  labels: Record<string, string>;
  labelSet: number;
  /** Requests per resource column (see SchedTables.resources). */
  requests: number[];
  nonZeroCpu: number;
  nonZeroMemory: number;
  /** No cpu and no memory request: BalancedAllocation skips such pods (upstream #129138). */
  bestEffort: boolean;
  nodeName: string;
  nodeSelector: Record<string, string>;
  requiredNodeAffinity: NodeSelectorTerm[] | null;
  preferredNodeAffinity: PreferredSchedulingTerm[];
  tolerations: Toleration[];
  images: string[];
  /** Port key ids (SchedTables.ports) this pod binds on the host. */
  ports: number[];
  /** Hard (DoNotSchedule) constraints, for the filter. */
  spreadHard: SpreadDef[];
  /** Soft (ScheduleAnyway) constraints, or the system defaults, for the score. */
  spreadSoft: SpreadDef[];
  /** The pod wrote its own constraints (then every topology key is required on a node, as upstream). */
  spreadExplicit: boolean;
  affinityRequired: IncomingTerm[];
  affinityPreferred: IncomingTerm[];
  antiAffinityRequired: IncomingTerm[];
  antiAffinityPreferred: IncomingTerm[];
  /** TermDef ids a placed pod of this class contributes. */
  ownTerms: number[];
  /** Key of the node-static filter/score cache: everything static plugins read. */
  staticKey: string;
  /**
   * NodeAffinity's PreFilter result when the required terms name nodes
   * (preFilterNodeNames): the named nodes that exist, in examination order,
   * and whether the names conflicted. null: the cycle examines every node.
   */
  preFilter: { nodes: Int32Array; conflict: boolean } | null;
  /** The node a pending pod's status.nominatedNodeName names (tried first, as evaluateNominatedNode), -1 when none or not in the cluster. */
  nominated: number;
}

/**
 * Whether a class's cycle is the plain one: the rotated pass over every node
 * with nothing tried first. The others (a PreFilter node list, a nominated
 * node) go through SingleShard.cycle on whichever thread runs them, never the
 * shared chunks or the incremental engine.
 */
export function plainCycle(cls: PodClass): boolean {
  return cls.preFilter === null && cls.nominated < 0;
}

export interface PortKey {
  protocol: string;
  port: number;
  /** '' for every address. */
  hostIP: string;
}

export interface SchedTables {
  nodeNames: string[];
  strings: string[];
  resources: string[];
  topoKeys: string[];
  /** Per topology key: number of distinct values + 1 (domain id 0 means "label absent"). */
  topoDomains: number[];
  labelSets: { namespace: string; labels: Record<string, string> }[];
  terms: TermDef[];
  classes: PodClass[];
  ports: PortKey[];
  /** Node-slot capacity for host ports. */
  portSlots: number;
  images: string[];
  podNames: string[];
  maxSoftSpread: number;
}

export type SchedBuffers = Record<string, SharedArrayBuffer>;

/** The SharedArrayBuffer-backed arrays, as typed views. Build with `buildState`, attach with `attachState`. */
export interface SchedState {
  tables: SchedTables;
  buffers: SchedBuffers;
  N: number;
  R: number;
  LS: number;
  // node, static. Resource columns are column-major (alloc[r * N + node]) so the
  // hot loops read cpu and memory as two dense columns.
  alloc: Float64Array;
  allocPods: Int32Array;
  unschedulable: Uint8Array;
  labelStart: Int32Array;
  labelKey: Int32Array;
  labelVal: Int32Array;
  taintStart: Int32Array;
  taintKey: Int32Array;
  taintVal: Int32Array;
  taintEffect: Uint8Array;
  imageStart: Int32Array;
  imageId: Int32Array;
  imageSize: Float64Array;
  imageNumNodes: Int32Array;
  /** topo[k * N + node]: domain id of node for topology key k (0 = absent). */
  topo: Int32Array;
  // node, dynamic
  /** requested[r * N + node]. */
  requested: Float64Array;
  /** nonZero[node] cpu, nonZero[N + node] memory: requests with upstream's non-zero defaults, for LeastAllocated. */
  nonZero: Float64Array;
  podCount: Int32Array;
  /** Bumped on every commit to the node: per-thread caches of node-dependent values check it. */
  nodeVersion: Int32Array;
  portCount: Int32Array;
  portSlot: Int32Array;
  /** lsNode[ls * N + node]: placed pods of label set ls on node. */
  lsNode: Int32Array;
  /** lsDom[lsDomOff[k] + ls * D_k + dom]: placed pods of label set ls in domain dom of key k. */
  lsDom: Int32Array;
  lsDomOff: Int32Array;
  /** termDom[termDomOff[t] + dom]: placed pods carrying term t in domain dom of the term's key. */
  termDom: Int32Array;
  termDomOff: Int32Array;
  // pods
  podClass: Int32Array;
  podNode: Int32Array;
}

export const EFFECT_CODE: Record<TaintEffect, number> = { NoSchedule: 1, PreferNoSchedule: 2, NoExecute: 3 };
export const EFFECT_NAME: TaintEffect[] = ['NoSchedule', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const FIXED_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];

class Interner {
  readonly list: string[] = [];
  private readonly ids = new Map<string, number>();
  id(s: string): number {
    let v = this.ids.get(s);
    if (v === undefined) {
      v = this.list.length;
      this.list.push(s);
      this.ids.set(s, v);
    }
    return v;
  }
  has(s: string): boolean {
    return this.ids.has(s);
  }
}

/** ImageLocality's normalizedImageName: an image without a tag means ":latest". */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}

function sab<T extends Int32Array | Float64Array | Uint8Array>(buffers: SchedBuffers, name: string, Ctor: { new(b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, length: number): T {
  const b = new SharedArrayBuffer(Math.max(1, length) * Ctor.BYTES_PER_ELEMENT);
  buffers[name] = b;
  return new Ctor(b);
}

function resolveNamespaces(t: PodAffinityTerm, ownNamespace: string): string[] {
  return t.namespaces.length > 0 ? [...t.namespaces].sort() : [ownNamespace];
}

/**
 * What a pod's scheduling depends on, minus its name, as written: equal texts
 * mean equal pods (the class's canonical key, below, is a function of it), so
 * the pods of one Deployment, written alike, find their class through it
 * without the canonical key's sort (that sort per pod was most of building a
 * 150,000-pod cluster).
 */
function rawClassKey(p: SchedPod): string {
  const { name: _name, ...rest } = p;
  return JSON.stringify(rest);
}

/** The class key: the pod minus its name with every object's keys sorted, so pods that differ only in key order share a class. */
function classKey(p: SchedPod): string {
  const { name: _name, ...rest } = p;
  return signature(rest);
}

export interface BuiltState {
  state: SchedState;
  /** Pod indices to schedule, in queue order. */
  pending: number[];
  /** Bound pods whose node is not in the cluster; upstream would never see them in its cache. */
  ignoredBound: number;
}

/** The most pods a Node may allow (allocatable pods), the int32 the pod counts are kept in. */
export const MAX_NODE_PODS = 2 ** 31 - 1;

/** A class's PreFilter node list (PodClass.preFilter): the names that exist, as node indices in examination order. */
function preFilterNodes(required: NodeSelectorTerm[] | null, nodeIndex: Map<string, number>): PodClass['preFilter'] {
  const names = preFilterNodeNames(required);
  if (names === null) return null;
  const nodes: number[] = [];
  for (const n of names) {
    const i = nodeIndex.get(n);
    if (i !== undefined) nodes.push(i);
  }
  // Upstream walks them in Go's map order, which is random; here, the order every other cycle walks.
  return { nodes: Int32Array.from(nodes.sort((a, b) => a - b)), conflict: names.size === 0 };
}

/** Interns nodes and pods into tables and shared arrays, and commits bound pods as existing load. */
export function buildState(nodes: SchedNode[], pods: SchedPod[]): BuiltState {
  if (nodes.length === 0) throw new InputError('cluster', 'no nodes to schedule onto');
  const N = nodes.length;
  const nodeIndex = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (nodeIndex.has(n.name)) throw new InputError(`Node ${n.name}`, 'duplicate node name');
    nodeIndex.set(n.name, i);
  });
  const strings = new Interner();
  const resources = new Interner();
  for (const r of FIXED_RESOURCES) resources.id(r);
  const extra = new Set<string>();
  for (const n of nodes) for (const r of Object.keys(n.allocatable)) if (r !== 'pods' && !FIXED_RESOURCES.includes(r)) extra.add(r);
  for (const p of pods) for (const r of Object.keys(p.requests)) if (r !== 'pods' && !FIXED_RESOURCES.includes(r)) extra.add(r);
  for (const r of [...extra].sort()) resources.id(r);
  const R = resources.list.length;
  // Fit's failure detail packs one bit per resource into an Int32 beside the plugin code.
  if (R > 26) throw new InputError('cluster', `${R} distinct resource names; at most 26 are supported`);

  // Topology keys: every key an affinity term or spread constraint names, plus the system defaults'.
  const topoKeys = new Interner();
  topoKeys.id(LABEL_HOSTNAME);
  topoKeys.id(LABEL_ZONE);
  const classes: PodClass[] = [];
  const classIds = new Map<string, number>();
  const labelSets = new Interner();
  const labelSetDefs: { namespace: string; labels: Record<string, string> }[] = [];
  const terms = new Interner();
  const termDefs: TermDef[] = [];
  const ports = new Interner();
  const portDefs: PortKey[] = [];
  const podClass = new Int32Array(new SharedArrayBuffer(Math.max(1, pods.length) * 4));
  const buffers: SchedBuffers = { podClass: podClass.buffer as SharedArrayBuffer };
  let maxSoftSpread = 2;

  const termId = (kind: TermKindValue, weight: number, t: PodAffinityTerm, ns: string): number => {
    const def: TermDef = { kind, weight, namespaces: resolveNamespaces(t, ns), selector: t.labelSelector, topoKey: topoKeys.id(t.topologyKey) };
    const before = terms.list.length;
    const id = terms.id(signature(def));
    if (id === before) termDefs.push(def);
    return id;
  };
  const incoming = (t: PodAffinityTerm, weight: number, ns: string): IncomingTerm =>
    ({ namespaces: resolveNamespaces(t, ns), selector: t.labelSelector, topoKey: topoKeys.id(t.topologyKey), weight });

  /** Raw text → class (rawClassKey): the canonical key is computed once per distinct text. */
  const rawClassIds = new Map<string, number>();
  pods.forEach((p, i) => {
    const raw = rawClassKey(p);
    let c = rawClassIds.get(raw);
    if (c !== undefined) {
      podClass[i] = c;
      return;
    }
    const key = classKey(p);
    c = classIds.get(key);
    if (c === undefined) {
      validatePodSelectors(p);
      const subject = `Pod ${p.namespace}/${p.name}`;
      const requests = new Array<number>(R).fill(0);
      for (const [r, v] of Object.entries(p.requests)) {
        if (!Number.isFinite(v) || v < 0) throw new InputError(subject, `request ${r} must be a non-negative number, got ${v}`);
        if (r !== 'pods') requests[resources.id(r)] = v;
      }
      const lsKey = signature({ ns: p.namespace, labels: p.labels });
      const lsBefore = labelSets.list.length;
      const ls = labelSets.id(lsKey);
      if (ls === lsBefore) labelSetDefs.push({ namespace: p.namespace, labels: p.labels });
      const portIds: number[] = [];
      for (const hp of p.hostPorts) {
        if (!Number.isInteger(hp.port) || hp.port < 1 || hp.port > 65535) throw new InputError(subject, `hostPort ${hp.port} out of range 1-65535`);
        const ip = hp.hostIP === '0.0.0.0' ? '' : hp.hostIP;
        const pk = `${hp.protocol}/${ip}/${hp.port}`;
        const before = ports.list.length;
        const id = ports.id(pk);
        if (id === before) portDefs.push({ protocol: hp.protocol, port: hp.port, hostIP: ip });
        portIds.push(id);
      }
      const spread = (hard: boolean): SpreadDef[] => p.topologySpreadConstraints
        .filter((s) => (s.whenUnsatisfiable === 'DoNotSchedule') === hard)
        .map((s) => ({ maxSkew: s.maxSkew, topoKey: topoKeys.id(s.topologyKey), hard, selector: s.labelSelector, minDomains: s.minDomains }));
      const explicit = p.topologySpreadConstraints.length > 0;
      // Upstream's system default constraints (PodTopologySpread, defaultingType System):
      // hostname maxSkew 3 and zone maxSkew 5, ScheduleAnyway, selecting what the pod's owners select.
      const soft = explicit ? spread(false) : p.spreadSelector ? [
        { maxSkew: 3, topoKey: topoKeys.id(LABEL_HOSTNAME), hard: false, selector: p.spreadSelector, minDomains: 1 },
        { maxSkew: 5, topoKey: topoKeys.id(LABEL_ZONE), hard: false, selector: p.spreadSelector, minDomains: 1 },
      ] : [];
      maxSoftSpread = Math.max(maxSoftSpread, soft.length);
      const own: number[] = [
        ...p.podAffinity.required.map((t) => termId(TermKind.requiredAffinity, 1, t, p.namespace)),
        ...p.podAffinity.preferred.map((t) => termId(TermKind.preferredAffinity, t.weight, t.podAffinityTerm, p.namespace)),
        ...p.podAntiAffinity.preferred.map((t) => termId(TermKind.preferredAntiAffinity, t.weight, t.podAffinityTerm, p.namespace)),
        ...p.podAntiAffinity.required.map((t) => termId(TermKind.requiredAntiAffinity, 0, t, p.namespace)),
      ];
      const images = p.images.map(normalizedImageName);
      const cpu = p.requests.cpu ?? 0;
      const mem = p.requests.memory ?? 0;
      c = classes.length;
      classes.push({
        namespace: p.namespace, labels: p.labels, labelSet: ls, requests,
        nonZeroCpu: p.nonZeroRequests.cpu, nonZeroMemory: p.nonZeroRequests.memory, bestEffort: cpu === 0 && mem === 0,
        nodeName: p.nodeName, nodeSelector: p.nodeSelector, requiredNodeAffinity: p.requiredNodeAffinity,
        preferredNodeAffinity: p.preferredNodeAffinity, tolerations: p.tolerations, images, ports: portIds,
        spreadHard: spread(true), spreadSoft: soft, spreadExplicit: explicit,
        affinityRequired: p.podAffinity.required.map((t) => incoming(t, 1, p.namespace)),
        affinityPreferred: p.podAffinity.preferred.map((t) => incoming(t.podAffinityTerm, t.weight, p.namespace)),
        antiAffinityRequired: p.podAntiAffinity.required.map((t) => incoming(t, 1, p.namespace)),
        antiAffinityPreferred: p.podAntiAffinity.preferred.map((t) => incoming(t.podAffinityTerm, t.weight, p.namespace)),
        ownTerms: own,
        staticKey: signature({ n: p.nodeName, s: p.nodeSelector, r: p.requiredNodeAffinity, pr: p.preferredNodeAffinity, t: p.tolerations, i: images }),
        preFilter: preFilterNodes(p.requiredNodeAffinity, nodeIndex),
        nominated: p.nominatedNodeName === undefined ? -1 : (nodeIndex.get(p.nominatedNodeName) ?? -1),
      });
      classIds.set(key, c);
    }
    rawClassIds.set(raw, c);
    podClass[i] = c;
  });

  // Node static arrays.
  const alloc = sab(buffers, 'alloc', Float64Array, N * R);
  const allocPods = sab(buffers, 'allocPods', Int32Array, N);
  const unschedulable = sab(buffers, 'unschedulable', Uint8Array, N);
  const labelCount = nodes.reduce((s, n) => s + Object.keys(n.labels).length, 0);
  const taintCount = nodes.reduce((s, n) => s + n.taints.length, 0);
  const images = new Interner();
  const imageSizes: number[] = [];
  const imageNodes: number[] = [];
  const nodeImageIds: number[][] = nodes.map((n) => {
    const ids = new Set<number>();
    for (const img of n.images) for (const name of img.names) {
      const before = images.list.length;
      const id = images.id(name);
      if (id === before) { imageSizes.push(img.sizeBytes); imageNodes.push(0); }
      ids.add(id);
    }
    for (const id of ids) imageNodes[id] = (imageNodes[id] ?? 0) + 1;
    return [...ids];
  });
  const labelStart = sab(buffers, 'labelStart', Int32Array, N + 1);
  const labelKey = sab(buffers, 'labelKey', Int32Array, labelCount);
  const labelVal = sab(buffers, 'labelVal', Int32Array, labelCount);
  const taintStart = sab(buffers, 'taintStart', Int32Array, N + 1);
  const taintKey = sab(buffers, 'taintKey', Int32Array, taintCount);
  const taintVal = sab(buffers, 'taintVal', Int32Array, taintCount);
  const taintEffect = sab(buffers, 'taintEffect', Uint8Array, taintCount);
  const imageStart = sab(buffers, 'imageStart', Int32Array, N + 1);
  const imageId = sab(buffers, 'imageId', Int32Array, nodeImageIds.reduce((s, l) => s + l.length, 0));
  const imageSize = sab(buffers, 'imageSize', Float64Array, images.list.length);
  const imageNumNodes = sab(buffers, 'imageNumNodes', Int32Array, images.list.length);
  imageSize.set(imageSizes);
  imageNumNodes.set(imageNodes);
  const K = topoKeys.list.length;
  const topo = sab(buffers, 'topo', Int32Array, K * N);
  const domainIds = topoKeys.list.map(() => new Map<string, number>());
  let li = 0;
  let ti = 0;
  let ii = 0;
  nodes.forEach((n, i) => {
    const subject = `Node ${n.name}`;
    for (const [r, v] of Object.entries(n.allocatable)) {
      if (!Number.isFinite(v) || v < 0) throw new InputError(subject, `allocatable ${r} must be a non-negative number, got ${v}`);
      if (r === 'pods') {
        // Held as int32 with the pod counts (a node runs 110 by default, at most a few hundred): a larger value would wrap.
        if (!Number.isInteger(v) || v > MAX_NODE_PODS) throw new InputError(subject, `allocatable pods must be a whole number up to ${MAX_NODE_PODS}, got ${v}`);
        allocPods[i] = v;
      }
      else alloc[resources.id(r) * N + i] = v;
    }
    unschedulable[i] = n.unschedulable ? 1 : 0;
    labelStart[i] = li;
    for (const [k, v] of Object.entries(n.labels)) { labelKey[li] = strings.id(k); labelVal[li] = strings.id(v); li++; }
    taintStart[i] = ti;
    for (const t of n.taints) {
      if (!(t.effect in EFFECT_CODE)) throw new InputError(subject, `taint ${t.key} has unknown effect "${String(t.effect)}"`);
      taintKey[ti] = strings.id(t.key); taintVal[ti] = strings.id(t.value); taintEffect[ti] = EFFECT_CODE[t.effect]; ti++;
    }
    imageStart[i] = ii;
    for (const id of nodeImageIds[i] ?? []) imageId[ii++] = id;
    topoKeys.list.forEach((key, k) => {
      if (!Object.hasOwn(n.labels, key)) return;
      const m = domainIds[k] as Map<string, number>;
      const v = n.labels[key] as string;
      let d = m.get(v);
      if (d === undefined) { d = m.size + 1; m.set(v, d); }
      topo[k * N + i] = d;
    });
  });
  labelStart[N] = li;
  taintStart[N] = ti;
  imageStart[N] = ii;
  const topoDomains = domainIds.map((m) => m.size + 1);

  // Dynamic arrays.
  const LS = labelSetDefs.length;
  const portSlots = Math.max(1, Math.min(64, portDefs.length));
  const lsDomOff = sab(buffers, 'lsDomOff', Int32Array, K + 1);
  let off = 0;
  for (let k = 0; k < K; k++) { lsDomOff[k] = off; off += LS * (topoDomains[k] as number); }
  lsDomOff[K] = off;
  const termDomOff = sab(buffers, 'termDomOff', Int32Array, termDefs.length + 1);
  let toff = 0;
  termDefs.forEach((t, i) => { termDomOff[i] = toff; toff += topoDomains[t.topoKey] as number; });
  termDomOff[termDefs.length] = toff;

  const tables: SchedTables = {
    nodeNames: nodes.map((n) => n.name), strings: strings.list, resources: resources.list, topoKeys: topoKeys.list, topoDomains,
    labelSets: labelSetDefs, terms: termDefs, classes, ports: portDefs, portSlots, images: images.list,
    podNames: pods.map((p) => `${p.namespace}/${p.name}`), maxSoftSpread,
  };
  sab(buffers, 'requested', Float64Array, N * R);
  sab(buffers, 'nonZero', Float64Array, N * 2);
  sab(buffers, 'podCount', Int32Array, N);
  sab(buffers, 'nodeVersion', Int32Array, N);
  sab(buffers, 'portCount', Int32Array, N);
  sab(buffers, 'portSlot', Int32Array, N * portSlots);
  sab(buffers, 'lsNode', Int32Array, LS * N);
  sab(buffers, 'lsDom', Int32Array, off);
  sab(buffers, 'termDom', Int32Array, toff);
  const podNode = sab(buffers, 'podNode', Int32Array, pods.length);
  podNode.fill(-1);
  const state = attachState(tables, buffers);

  const pending: number[] = [];
  let ignoredBound = 0;
  pods.forEach((p, i) => {
    if (p.nodeName === '') { pending.push(i); return; }
    const node = nodeIndex.get(p.nodeName);
    if (node === undefined) { ignoredBound++; return; }
    commitPod(state, i, node);
  });
  return { state, pending, ignoredBound };
}

/** Typed views over the shared buffers (in a worker: over the same memory the main thread writes). */
export function attachState(tables: SchedTables, buffers: SchedBuffers): SchedState {
  const i32 = (n: string): Int32Array => new Int32Array(buffers[n] as SharedArrayBuffer);
  const f64 = (n: string): Float64Array => new Float64Array(buffers[n] as SharedArrayBuffer);
  const u8 = (n: string): Uint8Array => new Uint8Array(buffers[n] as SharedArrayBuffer);
  return {
    tables, buffers, N: tables.nodeNames.length, R: tables.resources.length, LS: tables.labelSets.length,
    alloc: f64('alloc'), allocPods: i32('allocPods'), unschedulable: u8('unschedulable'),
    labelStart: i32('labelStart'), labelKey: i32('labelKey'), labelVal: i32('labelVal'),
    taintStart: i32('taintStart'), taintKey: i32('taintKey'), taintVal: i32('taintVal'), taintEffect: u8('taintEffect'),
    imageStart: i32('imageStart'), imageId: i32('imageId'), imageSize: f64('imageSize'), imageNumNodes: i32('imageNumNodes'),
    topo: i32('topo'), requested: f64('requested'), nonZero: f64('nonZero'), podCount: i32('podCount'), nodeVersion: i32('nodeVersion'),
    portCount: i32('portCount'), portSlot: i32('portSlot'), lsNode: i32('lsNode'), lsDom: i32('lsDom'), lsDomOff: i32('lsDomOff'),
    termDom: i32('termDom'), termDomOff: i32('termDomOff'), podClass: i32('podClass'), podNode: i32('podNode'),
  };
}

/** Binds pod to node: the only writer of the dynamic arrays (main thread, between cycles). */
export function commitPod(st: SchedState, pod: number, node: number): void {
  const { N, R, tables } = st;
  const c = tables.classes[st.podClass[pod] as number] as PodClass;
  for (let r = 0; r < R; r++) st.requested[r * N + node] = (st.requested[r * N + node] as number) + (c.requests[r] as number);
  st.nonZero[node] = (st.nonZero[node] as number) + c.nonZeroCpu;
  st.nonZero[N + node] = (st.nonZero[N + node] as number) + c.nonZeroMemory;
  st.podCount[node] = (st.podCount[node] as number) + 1;
  st.nodeVersion[node] = (st.nodeVersion[node] as number) + 1;
  for (const p of c.ports) {
    const n = st.portCount[node] as number;
    if (n >= tables.portSlots) throw new Error(`node ${tables.nodeNames[node]}: more than ${tables.portSlots} host ports in use`);
    st.portSlot[node * tables.portSlots + n] = p;
    st.portCount[node] = n + 1;
  }
  st.lsNode[c.labelSet * N + node] = (st.lsNode[c.labelSet * N + node] as number) + 1;
  const K = tables.topoKeys.length;
  for (let k = 0; k < K; k++) {
    const d = st.topo[k * N + node] as number;
    const i = (st.lsDomOff[k] as number) + c.labelSet * (tables.topoDomains[k] as number) + d;
    st.lsDom[i] = (st.lsDom[i] as number) + 1;
  }
  for (const t of c.ownTerms) {
    const def = tables.terms[t] as TermDef;
    const d = st.topo[def.topoKey * N + node] as number;
    const i = (st.termDomOff[t] as number) + d;
    st.termDom[i] = (st.termDom[i] as number) + 1;
  }
  st.podNode[pod] = node;
}

/** Node labels as a record (for selector evaluation; built lazily by callers that need it). */
export function nodeLabels(st: SchedState, node: number): Record<string, string> {
  const out: Record<string, string> = {};
  const s = st.tables.strings;
  for (let i = st.labelStart[node] as number; i < (st.labelStart[node + 1] as number); i++) out[s[st.labelKey[i] as number] as string] = s[st.labelVal[i] as number] as string;
  return out;
}

export function nodeTaints(st: SchedState, node: number): Taint[] {
  const out: Taint[] = [];
  const s = st.tables.strings;
  for (let i = st.taintStart[node] as number; i < (st.taintStart[node + 1] as number); i++) {
    out.push({ key: s[st.taintKey[i] as number] as string, value: s[st.taintVal[i] as number] as string, effect: EFFECT_NAME[st.taintEffect[i] as number] as TaintEffect });
  }
  return out;
}
