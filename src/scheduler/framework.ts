// One scheduling cycle, split the way the pool runs it:
//   prepareCycle   PreFilter/PreScore; every thread computes it from the same shared state
//   filterShard    Filter + raw Score over a contiguous range of the cycle's rotated node
//                  order, into a shard's typed-array columns (parallel)
//   takeShards     the first numToFind feasible nodes in rotated order over the shards
//   shardStats     per shard, what NormalizeScore needs (maxima, minima, domains seen)
//   mergeStats     the shards' stats into one normalisation (cheap, per pod)
//   scoreShard     normalised weighted totals, and the shard's running-maximum records (parallel)
//   reduceRecords  selectHost's seeded reservoir sampling replayed over the records in
//                  shard order: exactly the pick a single pass over all nodes makes
// The single-threaded reference path runs the same functions with one shard
// covering every node, so pool and reference agree by construction.
//
// Plugins whose inputs are static (NodeUnschedulable, NodeName, TaintToleration,
// NodeAffinity, ImageLocality) are evaluated once per distinct pod spec and
// node and memoized: node labels, taints and images never change during a run.
import type { ThreadCtx } from './context.js';
import { allNodeLabels, allNodeTaints, memoClass, memoize, memoizeBounded } from './context.js';
import type { PodClass, SchedState } from './state.js';
import { Histogram } from './histogram.js';
import { MAX_NODE_SCORE } from './plugins/helper.js';
import { imageLocalityPriority, scaledImageScore, IMAGE_LOCALITY_WEIGHT } from './plugins/imagelocality.js';
import type { AffinityCycle } from './plugins/interpodaffinity.js';
import { affinityFilter, affinityNormalized, affinityRawScore, prepareAffinity, IPA_WEIGHT, REASON_AFFINITY, REASON_ANTI_AFFINITY, REASON_EXISTING_ANTI_AFFINITY } from './plugins/interpodaffinity.js';
import { nodeAffinityFits, preferredNodeAffinityScore, NODE_AFFINITY_WEIGHT, REASON_NODE_AFFINITY } from './plugins/nodeaffinity.js';
import { nodeNameFits, REASON_NODE_NAME } from './plugins/nodename.js';
import { nodePortsFit, REASON_NODE_PORTS } from './plugins/nodeports.js';
import { balancedCpuMemory, insufficientReason, leastAllocatedCpuMemory, BALANCED_WEIGHT, FIT_WEIGHT, REASON_TOO_MANY_PODS } from './plugins/noderesources.js';
import { nodeUnschedulableFits, REASON_UNSCHEDULABLE } from './plugins/nodeunschedulable.js';
import type { SpreadCycle } from './plugins/podtopologyspread.js';
import { prepareSpreadFilter, prepareSpreadScore, spreadCount, spreadFilter, spreadNormalized, spreadRawScore, PTS_WEIGHT, REASON_PTS_MISSING_LABEL, REASON_PTS_SKEW } from './plugins/podtopologyspread.js';
import { firstUntoleratedTaint, intolerablePreferNoSchedule, untoleratedTaintReason, TAINT_TOLERATION_WEIGHT } from './plugins/tainttoleration.js';

/** Score plugins of the default profile and their weights (pkg/scheduler/apis/config/v1 default_plugins.go). */
export const SCORE_PLUGINS = [
  ['TaintToleration', TAINT_TOLERATION_WEIGHT],
  ['NodeAffinity', NODE_AFFINITY_WEIGHT],
  ['NodeResourcesFit', FIT_WEIGHT],
  ['PodTopologySpread', PTS_WEIGHT],
  ['InterPodAffinity', IPA_WEIGHT],
  ['NodeResourcesBalancedAllocation', BALANCED_WEIGHT],
  ['ImageLocality', IMAGE_LOCALITY_WEIGHT],
] as const;
export type ScorePluginName = (typeof SCORE_PLUGINS)[number][0];

/** Filter failure codes: low 4 bits the plugin (upstream's filter order), the rest a detail. */
export const Fail = { none: 0, unschedulable: 1, nodeName: 2, taint: 3, nodeAffinity: 4, ports: 5, fit: 6, spread: 7, interPod: 8 } as const;

/** Static per pod spec × node: a failure code (0 = passes the static filters) and static scores. */
interface StaticEntry {
  reason: Int32Array;
  /**
   * Per node n: the first node m ≥ n that passes the static filters (N if
   * none), so a pass skips a run of rejected nodes in one step. A pod whose
   * node affinity fits 2 zones of 10 examines about 2,600 of 5,000 nodes to
   * find 500, most of them rejected here.
   */
  nextPass: Int32Array;
  taintCount: Int32Array;
  nodeAffinity: Int32Array;
  image: Int32Array;
  /**
   * Weighted static part of the total per node (3 × TaintToleration + 2 ×
   * NodeAffinity + ImageLocality, normalised), per (maxTaint, maxAffinity) of
   * the scored nodes: they rarely change between pods of one spec.
   */
  weighted: Map<number, Int32Array>;
  /**
   * The nodes it holds values for, when not every node (listedStatic: a
   * PreFilter list); the others read as NodeAffinity rejections.
   */
  only: Int32Array | null;
}

const MAX_WEIGHTED_VARIANTS = 8;

/** The weighted static scores for the given maxima, built once per variant (O(N), or over `only`'s nodes). */
function weightedStatic(stat: StaticEntry, maxTaint: number, maxAffinity: number): Int32Array {
  const key = maxTaint * 1_000_003 + maxAffinity;
  let w = stat.weighted.get(key);
  if (w === undefined) {
    const { taintCount, nodeAffinity, image, only } = stat;
    const N = taintCount.length;
    w = new Int32Array(N);
    const one = (n: number, into: Int32Array): void => {
      // helper.DefaultNormalizeScore: reversed for TaintToleration, plain for NodeAffinity.
      const taint = maxTaint === 0 ? MAX_NODE_SCORE : MAX_NODE_SCORE - Math.trunc((MAX_NODE_SCORE * (taintCount[n] as number)) / maxTaint);
      const affinity = maxAffinity === 0 ? 0 : Math.trunc((MAX_NODE_SCORE * (nodeAffinity[n] as number)) / maxAffinity);
      into[n] = TAINT_TOLERATION_WEIGHT * taint + NODE_AFFINITY_WEIGHT * affinity + IMAGE_LOCALITY_WEIGHT * (image[n] as number);
    };
    if (only === null) for (let n = 0; n < N; n++) one(n, w);
    else for (const n of only) one(n, w);
    if (stat.weighted.size >= MAX_WEIGHTED_VARIANTS) stat.weighted.clear();
    stat.weighted.set(key, w);
  }
  return w;
}

function emptyStatic(N: number): StaticEntry {
  return { reason: new Int32Array(N), nextPass: new Int32Array(N), taintCount: new Int32Array(N), nodeAffinity: new Int32Array(N), image: new Int32Array(N), weighted: new Map(), only: null };
}

/** The static plugins' outcome and scores for node n into e (staticEntry's per-node work). */
function fillStatic(ctx: ThreadCtx, cls: PodClass, e: StaticEntry, n: number, imageIds: number[]): void {
  const { st } = ctx;
  const name = st.tables.nodeNames[n] as string;
  const l = allNodeLabels(ctx)[n] as Record<string, string>;
  const t = allNodeTaints(ctx)[n] as ReturnType<typeof allNodeTaints>[number];
  let reason: number = Fail.none;
  if (!nodeUnschedulableFits(st.unschedulable[n] === 1, cls.tolerations)) reason = Fail.unschedulable;
  else if (!nodeNameFits(cls.nodeName, name)) reason = Fail.nodeName;
  else {
    const ti = firstUntoleratedTaint(t, cls.tolerations);
    if (ti >= 0) reason = Fail.taint | (((st.taintStart[n] as number) + ti) << 4);
    else if (!nodeAffinityFits(cls.nodeSelector, cls.requiredNodeAffinity, l, name)) reason = Fail.nodeAffinity;
  }
  e.reason[n] = reason;
  e.taintCount[n] = intolerablePreferNoSchedule(t, cls.tolerations);
  e.nodeAffinity[n] = preferredNodeAffinityScore(cls.preferredNodeAffinity, l, name);
  let sum = 0;
  for (const id of imageIds) {
    if (id < 0) continue;
    let has = false;
    for (let j = st.imageStart[n] as number; j < (st.imageStart[n + 1] as number); j++) if (st.imageId[j] === id) { has = true; break; }
    if (has) sum += scaledImageScore(st.imageSize[id] as number, st.imageNumNodes[id] as number, st.N);
  }
  e.image[n] = imageLocalityPriority(sum, cls.images.length);
}

function fillNextPass(e: StaticEntry): void {
  const N = e.reason.length;
  let next = N;
  for (let n = N - 1; n >= 0; n--) {
    if (e.reason[n] === Fail.none) next = n;
    e.nextPass[n] = next;
  }
}

function imageIdsOf(ctx: ThreadCtx, cls: PodClass): number[] {
  return cls.images.map((img) => ctx.st.tables.images.indexOf(img));
}

/**
 * Static entries a thread keeps at most, least recently used out: manifests
 * may give every pod a static part of its own (a nodeSelector naming its
 * host), and each entry holds five arrays over every node and up to
 * MAX_WEIGHTED_VARIANTS more.
 */
const MAX_STATIC_BYTES = 256 * 2 ** 20;

/** The class's static entry, by its static key, from this thread's bounded cache. */
function staticEntry(ctx: ThreadCtx, cls: PodClass): StaticEntry {
  const { N } = ctx.st;
  const capacity = Math.max(1, Math.floor(MAX_STATIC_BYTES / (4 * N * (5 + MAX_WEIGHTED_VARIANTS))));
  return memoizeBounded(ctx, 'static-entries', cls.staticKey, capacity, () => {
    const e = emptyStatic(N);
    const imageIds = imageIdsOf(ctx, cls);
    for (let n = 0; n < N; n++) fillStatic(ctx, cls, e, n, imageIds);
    fillNextPass(e);
    return e;
  });
}

/**
 * The static entry of a class NodeAffinity's PreFilter narrowed: its listed
 * nodes' values in this thread's one scratch entry, refilled every cycle;
 * every other node reads as rejected by NodeAffinity, which it is. Such
 * classes are one per DaemonSet pod, so a memoised O(N) entry each would cost
 * O(N) time and memory per pod (15,000 nodes: 300 KB a pod).
 */
function listedStatic(ctx: ThreadCtx, cls: PodClass, nodes: Int32Array): StaticEntry {
  const e = memoize(ctx, 'static-listed', () => {
    const s = emptyStatic(ctx.st.N);
    s.reason.fill(Fail.nodeAffinity);
    // No runs to skip: a full pass over it (explain's) examines every node, so nothing needs redoing per cycle.
    for (let n = 0; n < s.nextPass.length; n++) s.nextPass[n] = n + 1;
    s.only = new Int32Array(0);
    return s;
  });
  for (const n of e.only as Int32Array) {
    e.reason[n] = Fail.nodeAffinity;
    e.taintCount[n] = 0;
    e.nodeAffinity[n] = 0;
    e.image[n] = 0;
  }
  const imageIds = imageIdsOf(ctx, cls);
  for (const n of nodes) fillStatic(ctx, cls, e, n, imageIds);
  e.only = nodes;
  e.weighted.clear();
  return e;
}

export interface Cycle {
  pod: number;
  classId: number;
  cls: PodClass;
  stat: StaticEntry;
  spreadHard: SpreadCycle[];
  spreadSoft: SpreadCycle[];
  affinity: AffinityCycle;
  /** Resource columns beyond cpu and memory that the pod requests. */
  extra: Int32Array;
  fit: FitCache;
  /**
   * How NormalizeScore's extremes for PodTopologySpread are found without a
   * pass over every node: with at most one per-node (hostname) constraint `h`
   * and at most one per-domain constraint `z`, a node's raw score grows with
   * its hostname count within each domain of z, so per domain (bucket) the
   * minimum and maximum hostname count decide the extremes. Otherwise
   * (`bucketed` false) mergeStats makes a pass over the scored nodes.
   */
  bucketed: boolean;
  h: number;
  z: number;
  buckets: number;
  /** filterShard's speculative normalisation from the class's guess, built once per cycle (the guess holds still while the cycle filters). */
  spec: Normalisation | null;
}

/**
 * NodeResourcesFit's filter outcome and both resource scores per node for one
 * resource shape (requests, non-zero requests), valid while the node's version
 * is the one recorded: a node changes only when a pod is committed to it.
 * code[n] < 0: -(insufficiency bits); otherwise LeastAllocated × 128 + BalancedAllocation.
 */
export interface FitCache {
  version: Int32Array;
  code: Int32Array;
}

/** FitCaches a thread keeps at most (two arrays over every node each), least recently used out: requests may differ per pod. */
const MAX_FIT_CACHE_BYTES = 128 * 2 ** 20;

/** The FitCache of one resource shape, from this thread's bounded cache (a new one starts with every node stale). */
function fitCache(ctx: ThreadCtx, fitKey: string): FitCache {
  const { N } = ctx.st;
  return memoizeBounded(ctx, 'fit-caches', fitKey, Math.max(1, Math.floor(MAX_FIT_CACHE_BYTES / (8 * N))), (): FitCache => ({ version: new Int32Array(N).fill(-1), code: new Int32Array(N) }));
}

/** Per class: what never changes between its pods (per thread). */
interface ClassPlan {
  /** Key of its FitCache (requests, non-zero requests, best effort): classes of one resource shape share it. */
  fitKey: string;
  extra: Int32Array;
  bucketed: boolean;
  h: number;
  z: number;
}

function classPlan(ctx: ThreadCtx, classId: number, cls: PodClass, soft: SpreadCycle[]): ClassPlan {
  return memoClass(ctx, 'plan', classId, () => {
    const extra: number[] = [];
    for (let r = 2; r < ctx.st.R; r++) if ((cls.requests[r] as number) > 0) extra.push(r);
    let h = -1;
    let z = -1;
    let bucketed = true;
    soft.forEach((s, i) => {
      if (s.hostname) { if (h >= 0) bucketed = false; h = i; }
      else { if (z >= 0) bucketed = false; z = i; }
    });
    const fitKey = `${cls.requests.join(',')}:${cls.nonZeroCpu}:${cls.nonZeroMemory}:${cls.bestEffort}`;
    return { fitKey, extra: Int32Array.from(extra), bucketed, h, z };
  });
}

/** PreFilter + PreScore: a pure function of the shared state at the start of the cycle. */
export function prepareCycle(ctx: ThreadCtx, pod: number): Cycle {
  const classId = ctx.st.podClass[pod] as number;
  const cls = ctx.st.tables.classes[classId] as PodClass;
  const spreadSoft = prepareSpreadScore(ctx, classId, cls);
  const p = classPlan(ctx, classId, cls, spreadSoft);
  const zs = p.z >= 0 ? (spreadSoft[p.z] as SpreadCycle) : null;
  return {
    // The static entry each cycle from the bounded cache (a plan holding it would keep every one alive), or the listed nodes'.
    pod, classId, cls, stat: cls.preFilter === null ? staticEntry(ctx, cls) : listedStatic(ctx, cls, cls.preFilter.nodes), spreadHard: prepareSpreadFilter(ctx, classId, cls), spreadSoft, affinity: prepareAffinity(ctx, classId, cls),
    extra: p.extra, fit: fitCache(ctx, p.fitKey), bucketed: p.bucketed, h: p.h, z: p.z, buckets: zs ? (ctx.st.tables.topoDomains[zs.def.topoKey] as number) : 1, spec: null,
  };
}

/**
 * NodeResourcesFit's FitCache code for one node, through the cycle's cache:
 * the check filterShard inlines, as a function (the plugin-time sampler).
 */
export function fitCodeFor(ctx: ThreadCtx, c: Cycle, node: number): number {
  const { st } = ctx;
  const { N } = st;
  const v = st.nodeVersion[node] as number;
  if (c.fit.version[node] === v) return c.fit.code[node] as number;
  const { cls } = c;
  const podCpu = cls.requests[0] as number;
  const podMem = cls.requests[1] as number;
  const aCpu = ctx.allocCpu[node] as number;
  const aMem = ctx.allocMem[node] as number;
  const rCpu = ctx.reqCpu[node] as number;
  const rMem = ctx.reqMem[node] as number;
  let bits = (st.podCount[node] as number) + 1 > (st.allocPods[node] as number) ? 1 : 0;
  if (podCpu > 0 && podCpu > aCpu - rCpu) bits |= 2;
  if (podMem > 0 && podMem > aMem - rMem) bits |= 4;
  for (let x = 0; x < c.extra.length; x++) {
    const r = c.extra[x] as number;
    if ((cls.requests[r] as number) > (st.alloc[r * N + node] as number) - (st.requested[r * N + node] as number)) bits |= 2 << r;
  }
  let fc: number;
  if (bits !== 0) fc = -bits;
  else {
    const least = leastAllocatedCpuMemory((ctx.nonZeroCpu[node] as number) + cls.nonZeroCpu, aCpu, (ctx.nonZeroMem[node] as number) + cls.nonZeroMemory, aMem);
    const balanced = cls.bestEffort ? 0 : balancedCpuMemory(rCpu + podCpu, aCpu, rMem + podMem, aMem);
    fc = least * 128 + balanced;
  }
  c.fit.code[node] = fc;
  c.fit.version[node] = v;
  return fc;
}

/**
 * One node's Filter chain and raw dynamic scores for a cycle, in filterShard's
 * order and with its arithmetic, into per-node columns (index = node id):
 * reason[node] (0 = feasible) and, for a feasible node, fit[node] (FitCache
 * code), ipa[node] (raw InterPodAffinity, 0 when the score is inactive) and
 * spread[k * N + node] per soft constraint k. What the incremental engine
 * re-evaluates for the nodes whose inputs changed.
 */
export function evaluateNode(ctx: ThreadCtx, c: Cycle, node: number, reason: Int32Array, fit: Int32Array, ipa: Int32Array, spread: Int32Array): void {
  const { st } = ctx;
  const { cls } = c;
  let code = c.stat.reason[node] as number;
  if (code === Fail.none) {
    if (cls.ports.length > 0 && !nodePortsFit(st.tables.ports, st.portSlot, node * st.tables.portSlots, st.portCount[node] as number, cls.ports)) code = Fail.ports;
    else {
      const fc = fitCodeFor(ctx, c, node);
      if (fc < 0) code = Fail.fit | (-fc << 4);
      else {
        let r = c.spreadHard.length > 0 ? spreadFilter(c.spreadHard, node) : 0;
        if (r !== 0) code = Fail.spread | (r << 4);
        else {
          r = c.affinity.filterActive ? affinityFilter(c.affinity, node) : 0;
          if (r !== 0) code = Fail.interPod | (r << 4);
          else {
            fit[node] = fc;
            ipa[node] = c.affinity.scoreActive ? affinityRawScore(c.affinity, node) : 0;
            const { N } = st;
            for (let k = 0; k < c.spreadSoft.length; k++) spread[k * N + node] = spreadCount(c.spreadSoft[k] as SpreadCycle, node);
          }
        }
      }
    }
  }
  reason[node] = code;
}

// Per-shard stats (Float64): what NormalizeScore needs from the shard's taken entries.
const ST_MAX_TAINT = 0;
const ST_MAX_AFFINITY = 1;
const ST_IPA_MIN = 2;
const ST_IPA_MAX = 3;
/** Scored nodes that explicit spread constraints do not ignore. */
const ST_COUNTED = 4;
/** Then per bucket b: seen, min and max hostname count at ST_BUCKETS + 3b. */
const ST_BUCKETS = 5;
// Shard header (Int32).
const H_EXAMINED = 0;
const H_FEASIBLE = 1;
const H_RECORDS = 2;
// Global normalisation (Float64), written by mergeStats, read by scoreShard.
const G_MAX_TAINT = 0;
const G_MAX_AFFINITY = 1;
const G_IPA_MIN = 2;
const G_IPA_MAX = 3;
const G_SPREAD_MIN = 4;
const G_SPREAD_MAX = 5;
const G_WEIGHTS = 6;

/**
 * One shard's working memory: per feasible node (entry) its node, position and
 * raw dynamic scores as columns; the running-maximum records of scoreShard;
 * stats. Over a SharedArrayBuffer for the pool, a plain buffer otherwise.
 */
export interface ShardBuf {
  cap: number;
  head: Int32Array;
  node: Int32Array;
  pos: Int32Array;
  /** LeastAllocated × 128 + BalancedAllocation (FitCache code). */
  fit: Int32Array;
  ipa: Int32Array;
  /** spread[c * cap + i]: spreadCount of soft constraint c for entry i. */
  spread: Int32Array;
  recEntry: Int32Array;
  recTotal: Float64Array;
  stats: Float64Array;
}

function maxDomains(st: SchedState): number {
  return Math.max(1, ...st.tables.topoDomains);
}

export function shardBufBytes(st: SchedState, cap: number): number {
  const C = st.tables.maxSoftSpread;
  return 8 * (cap + ST_BUCKETS + 3 * maxDomains(st)) + 4 * (4 + cap * (5 + C));
}

export function shardBuf(st: SchedState, buffer: ArrayBuffer | SharedArrayBuffer, cap: number): ShardBuf {
  const C = st.tables.maxSoftSpread;
  let off = 0;
  const f64 = (n: number): Float64Array => { const a = new Float64Array(buffer, off, n); off += 8 * n; return a; };
  const i32 = (n: number): Int32Array => { const a = new Int32Array(buffer, off, n); off += 4 * n; return a; };
  const recTotal = f64(cap);
  const stats = f64(ST_BUCKETS + 3 * maxDomains(st));
  return { cap, recTotal, stats, head: i32(4), node: i32(cap), pos: i32(cap), fit: i32(cap), ipa: i32(cap), spread: i32(cap * C), recEntry: i32(cap) };
}

export function globalBufLength(st: SchedState): number {
  return G_WEIGHTS + st.tables.maxSoftSpread;
}

/**
 * Filter + raw Score over positions [from, to) of the rotated order starting
 * at `start`, stopping once `numToFind` feasible nodes are found. One fused
 * pass: one entry per feasible node; reasons[p] for every examined position
 * when the shard finds fewer than numToFind (the only case anything reads
 * them: an unschedulable pod's diagnosis, explain), else only for the
 * positions of lone rejected nodes and those past the static filters — a run
 * of statically rejected nodes is skipped in one step (StaticEntry.nextPass)
 * and its reasons written afterwards only if wanted. Also accumulates the
 * shard's stats (as shardStats does over all entries), and, given a usable
 * `guess` of the normalisation, the totals' running-maximum records (as
 * scoreShard does). Sets the header. Allocates nothing.
 */
export function filterShard(ctx: ThreadCtx, c: Cycle, start: number, from: number, to: number, numToFind: number, b: ShardBuf, reasons: Int32Array, guess: Float64Array | null = null): void {
  const { st } = ctx;
  const { N } = st;
  const { cls } = c;
  const staticReason = c.stat.reason;
  const { taintCount, nodeAffinity, nextPass } = c.stat;
  const { allocCpu, allocMem, reqCpu, reqMem, nonZeroCpu, nonZeroMem } = ctx;
  const { allocPods, podCount, alloc, requested, nodeVersion } = st;
  const { version: fitVersion, code: fitCode } = c.fit;
  const extra = c.extra;
  const nExtra = extra.length;
  const ports = cls.ports.length > 0 ? st.tables.ports : null;
  const slots = st.tables.portSlots;
  const hard = c.spreadHard;
  const hasHard = hard.length > 0;
  const a = c.affinity;
  const hasAffinityFilter = a.filterActive;
  const soft = c.spreadSoft;
  const C = soft.length;
  const explicit = cls.spreadExplicit;
  const podCpu = cls.requests[0] as number;
  const podMem = cls.requests[1] as number;
  const nzCpu = cls.nonZeroCpu;
  const nzMem = cls.nonZeroMemory;
  const bestEffort = cls.bestEffort;
  const scoreIpa = a.scoreActive;
  const { node: eNode, pos: ePos, fit: eFit, ipa: eIpa, spread: eSpread, cap, stats, recEntry, recTotal } = b;
  // Stats (see shardStats).
  let maxTaint = 0;
  let maxAffinity = 0;
  let ipaMin = Infinity;
  let ipaMax = -Infinity;
  let counted = 0;
  const bucketed = C > 0 && c.bucketed;
  const zCol = c.z >= 0 ? (soft[c.z] as SpreadCycle).col : null;
  const hAt = c.h >= 0 ? c.h * cap : -1;
  const zAt = c.z >= 0 ? c.z * cap : -1;
  const hSoft = c.h >= 0 ? (soft[c.h] as SpreadCycle) : null;
  const hCol = hSoft === null ? null : hSoft.col;
  const hRow = hSoft !== null && hSoft.rows.length === 1 ? (hSoft.rows[0] as Int32Array) : null;
  const zDom = c.z >= 0 ? (soft[c.z] as SpreadCycle).domCount : null;
  const fast2 = C === 2 && hRow !== null && zDom !== null && zCol !== null;
  /** In fast2, whether the hostname constraint is soft[0] (entryTotal's c0). */
  const hFirst = c.h === 0;
  if (bucketed) resetBuckets(stats, c.buckets);
  // Speculative totals with the guessed normalisation (see scoreShard).
  const speculate = guess !== null && guessUsable(guess);
  const norm = speculate ? (c.spec ??= normalisation(c, guess)) : null;
  let records = 0;
  let best = -Infinity;
  let f = 0;
  let p = from;
  let skipped = false;
  for (; p < to; p++) {
    let node = start + p;
    if (node >= N) node -= N;
    let reason = staticReason[node] as number;
    if (reason === Fail.none) {
      if (ports !== null && !nodePortsFit(ports, st.portSlot, node * slots, st.portCount[node] as number, cls.ports)) reason = Fail.ports;
      else {
        const v = nodeVersion[node] as number;
        let fc: number;
        if (fitVersion[node] === v) fc = fitCode[node] as number;
        else {
          const aCpu = allocCpu[node] as number;
          const aMem = allocMem[node] as number;
          const rCpu = reqCpu[node] as number;
          const rMem = reqMem[node] as number;
          let bits = (podCount[node] as number) + 1 > (allocPods[node] as number) ? 1 : 0;
          if (podCpu > 0 && podCpu > aCpu - rCpu) bits |= 2;
          if (podMem > 0 && podMem > aMem - rMem) bits |= 4;
          for (let x = 0; x < nExtra; x++) {
            const r = extra[x] as number;
            if ((cls.requests[r] as number) > (alloc[r * N + node] as number) - (requested[r * N + node] as number)) bits |= 2 << r;
          }
          if (bits !== 0) fc = -bits;
          else {
            const least = leastAllocatedCpuMemory((nonZeroCpu[node] as number) + nzCpu, aCpu, (nonZeroMem[node] as number) + nzMem, aMem);
            const balanced = bestEffort ? 0 : balancedCpuMemory(rCpu + podCpu, aCpu, rMem + podMem, aMem);
            fc = least * 128 + balanced;
          }
          fitCode[node] = fc;
          fitVersion[node] = v;
        }
        if (fc < 0) reason = Fail.fit | (-fc << 4);
        else {
          let r = hasHard ? spreadFilter(hard, node) : 0;
          if (r !== 0) reason = Fail.spread | (r << 4);
          else {
            r = hasAffinityFilter ? affinityFilter(a, node) : 0;
            if (r !== 0) reason = Fail.interPod | (r << 4);
            else {
              // Feasible: the entry, its share of the stats, its speculative total.
              eNode[f] = node;
              ePos[f] = p;
              eFit[f] = fc;
              const ipaRaw = scoreIpa ? affinityRawScore(a, node) : 0;
              eIpa[f] = ipaRaw;
              const tc = taintCount[node] as number;
              if (tc > maxTaint) maxTaint = tc;
              const na = nodeAffinity[node] as number;
              if (na > maxAffinity) maxAffinity = na;
              if (ipaRaw < ipaMin) ipaMin = ipaRaw;
              if (ipaRaw > ipaMax) ipaMax = ipaRaw;
              if (fast2) {
                // spreadCount for one hostname constraint over a single label set and one domain
                // constraint, its stats and entryTotal's two-constraint case, inlined with the
                // counts in registers: the same values and the same arithmetic in the same order.
                const dh = (hCol as Int32Array)[node] as number;
                const ch = dh === 0 ? -1 : ((hRow as Int32Array)[node] as number);
                const dz = (zCol as Int32Array)[node] as number;
                const cz = dz === 0 ? -1 : ((zDom as Int32Array)[dz] as number);
                eSpread[hAt + f] = ch;
                eSpread[zAt + f] = cz;
                const ignored = explicit && (ch < 0 || cz < 0);
                if (!ignored) {
                  counted++;
                  if (bucketed) {
                    const o = ST_BUCKETS + 3 * dz;
                    stats[o] = 1;
                    if (ch < (stats[o + 1] as number)) stats[o + 1] = ch;
                    if (ch > (stats[o + 2] as number)) stats[o + 2] = ch;
                  }
                }
                if (norm !== null) {
                  const c0 = hFirst ? ch : cz;
                  const c1 = hFirst ? cz : ch;
                  let raw = -1;
                  if (!ignored) {
                    let score = 0;
                    if (c0 >= 0) score += c0 * norm.w0 + norm.k0;
                    if (c1 >= 0) score += c1 * norm.w1 + norm.k1;
                    raw = Math.round(score);
                  }
                  const spread = spreadNormalized(raw, norm.spreadMin, norm.spreadMax);
                  const ipa = scoreIpa ? affinityNormalized(ipaRaw, norm.ipaMin, norm.ipaMax) : 0;
                  const total = (norm.weighted[node] as number) + FIT_WEIGHT * (fc >> 7) + PTS_WEIGHT * spread + IPA_WEIGHT * ipa + BALANCED_WEIGHT * (fc & 127);
                  if (total >= best) {
                    best = total;
                    recEntry[records] = f;
                    recTotal[records] = total;
                    records++;
                  }
                }
              } else {
                if (C > 0) {
                  let ignored = false;
                  for (let k = 0; k < C; k++) {
                    const cnt = spreadCount(soft[k] as SpreadCycle, node);
                    eSpread[k * cap + f] = cnt;
                    if (cnt < 0 && explicit) ignored = true;
                  }
                  if (!ignored) {
                    counted++;
                    if (bucketed) {
                      const o = ST_BUCKETS + 3 * (zCol === null ? 0 : (zCol[node] as number));
                      const hv = hAt >= 0 ? (eSpread[hAt + f] as number) : 0;
                      stats[o] = 1;
                      if (hv < (stats[o + 1] as number)) stats[o + 1] = hv;
                      if (hv > (stats[o + 2] as number)) stats[o + 2] = hv;
                    }
                  }
                }
                if (norm !== null) {
                  const total = entryTotal(norm, node, fc, ipaRaw, eSpread, f, cap);
                  if (total >= best) {
                    best = total;
                    recEntry[records] = f;
                    recTotal[records] = total;
                    records++;
                  }
                }
              }
              f++;
            }
          }
        }
      }
    } else {
      // A run of statically rejected nodes (it ends at nextPass; node N is the wrap to node 0): one step.
      const run = (nextPass[node] as number) - node;
      if (run > 1) {
        const end = p + run;
        p = (end < to ? end : to) - 1;
        skipped = true;
        continue;
      }
    }
    reasons[p] = reason;
    if (f >= numToFind) { p++; break; }
  }
  if (skipped && f < numToFind) staticReasons(staticReason, start, from, p, reasons);
  b.head[H_EXAMINED] = p - from;
  b.head[H_FEASIBLE] = f;
  b.head[H_RECORDS] = records;
  stats[ST_MAX_TAINT] = maxTaint;
  stats[ST_MAX_AFFINITY] = maxAffinity;
  stats[ST_IPA_MIN] = ipaMin;
  stats[ST_IPA_MAX] = ipaMax;
  stats[ST_COUNTED] = counted;
}

/** evaluateNode's per-node columns (index = node id; spread[k * N + node]). */
export interface NodeColumns {
  reason: Int32Array;
  fit: Int32Array;
  ipa: Int32Array;
  spread: Int32Array;
}

export function nodeColumns(st: SchedState): NodeColumns {
  const { N } = st;
  return { reason: new Int32Array(N), fit: new Int32Array(N), ipa: new Int32Array(N), spread: new Int32Array(N * Math.max(1, st.tables.maxSoftSpread)) };
}

/**
 * filterShard's work for a cycle NodeAffinity's PreFilter narrowed to `nodes`
 * (PodClass.preFilter): those nodes in rotated order from `start`, modulo
 * their count as upstream indexes the narrowed list, until numToFind are
 * feasible, through evaluateNode. Positions are indices into that order.
 * Writes the entries, reasons and header as filterShard does, and the stats
 * over the entries (shardStats). Such pods are few (a DaemonSet's, one node
 * each), so this plain loop is their whole cost.
 */
export function filterListed(ctx: ThreadCtx, c: Cycle, nodes: Int32Array, start: number, numToFind: number, b: ShardBuf, reasons: Int32Array, cols: NodeColumns): void {
  const { N } = ctx.st;
  const m = nodes.length;
  const C = c.spreadSoft.length;
  const { node: eNode, pos: ePos, fit: eFit, ipa: eIpa, spread: eSpread, cap } = b;
  let f = 0;
  let p = 0;
  for (; p < m && f < numToFind; p++) {
    const node = nodes[(start + p) % m] as number;
    evaluateNode(ctx, c, node, cols.reason, cols.fit, cols.ipa, cols.spread);
    const code = cols.reason[node] as number;
    reasons[p] = code;
    if (code !== Fail.none) continue;
    eNode[f] = node;
    ePos[f] = p;
    eFit[f] = cols.fit[node] as number;
    eIpa[f] = cols.ipa[node] as number;
    for (let k = 0; k < C; k++) eSpread[k * cap + f] = cols.spread[k * N + node] as number;
    f++;
  }
  b.head[H_EXAMINED] = p;
  b.head[H_FEASIBLE] = f;
  b.head[H_RECORDS] = 0;
  shardStats(c, b, f);
}

/** reasons[q] for the statically rejected positions of [from, to): the ones filterShard skipped. */
function staticReasons(staticReason: Int32Array, start: number, from: number, to: number, reasons: Int32Array): void {
  const N = staticReason.length;
  for (let q = from; q < to; q++) {
    let node = start + q;
    if (node >= N) node -= N;
    const r = staticReason[node] as number;
    if (r !== Fail.none) reasons[q] = r;
  }
}

/** A shard's range of positions in the rotated order. */
export interface ShardRange {
  from: number;
  to: number;
}

/** The first numToFind feasible entries over the shards in order: how many of each, and how many positions that took. */
export function takeShards(bufs: ShardBuf[], ranges: ShardRange[], numToFind: number, takes: Int32Array): { count: number; processed: number } {
  let count = 0;
  let processed = 0;
  for (let w = 0; w < bufs.length; w++) {
    const b = bufs[w] as ShardBuf;
    const feasible = b.head[H_FEASIBLE] as number;
    const take = Math.min(feasible, numToFind - count);
    takes[w] = take;
    count += take;
    if (count >= numToFind && take > 0) {
      processed += (b.pos[take - 1] as number) - (ranges[w] as ShardRange).from + 1;
      for (let v = w + 1; v < bufs.length; v++) takes[v] = 0;
      break;
    }
    processed += b.head[H_EXAMINED] as number;
  }
  return { count, processed };
}

/** Empties the spread buckets of a shard's stats: nothing seen, min +∞, max -∞. */
function resetBuckets(stats: Float64Array, buckets: number): void {
  for (let k = 0; k < buckets; k++) {
    stats[ST_BUCKETS + 3 * k] = 0;
    stats[ST_BUCKETS + 3 * k + 1] = Infinity;
    stats[ST_BUCKETS + 3 * k + 2] = -Infinity;
  }
}

/**
 * The stats of a shard's first `take` entries: what filterShard accumulates
 * in its fused pass, recomputed for a prefix when fewer entries are taken than
 * a shard found.
 */
export function shardStats(c: Cycle, b: ShardBuf, take: number): void {
  const s = b.stats;
  const { taintCount, nodeAffinity } = c.stat;
  const soft = c.spreadSoft;
  const C = soft.length;
  const explicit = c.cls.spreadExplicit;
  const { cap, node: eNode, ipa: eIpa, spread: eSpread } = b;
  let maxTaint = 0;
  let maxAffinity = 0;
  let ipaMin = Infinity;
  let ipaMax = -Infinity;
  let counted = 0;
  const bucketed = C > 0 && c.bucketed;
  const zCol = c.z >= 0 ? (soft[c.z] as SpreadCycle).col : null;
  const hAt = c.h >= 0 ? c.h * cap : -1;
  if (bucketed) resetBuckets(s, c.buckets);
  for (let i = 0; i < take; i++) {
    const node = eNode[i] as number;
    const t = taintCount[node] as number;
    if (t > maxTaint) maxTaint = t;
    const na = nodeAffinity[node] as number;
    if (na > maxAffinity) maxAffinity = na;
    const v = eIpa[i] as number;
    if (v < ipaMin) ipaMin = v;
    if (v > ipaMax) ipaMax = v;
    if (C === 0) continue;
    if (explicit) {
      let ignored = false;
      for (let k = 0; k < C; k++) if ((eSpread[k * cap + i] as number) < 0) { ignored = true; break; }
      if (ignored) continue;
    }
    counted++;
    if (bucketed) {
      const o = ST_BUCKETS + 3 * (zCol === null ? 0 : (zCol[node] as number));
      const hv = hAt >= 0 ? (eSpread[hAt + i] as number) : 0;
      s[o] = 1;
      if (hv < (s[o + 1] as number)) s[o + 1] = hv;
      if (hv > (s[o + 2] as number)) s[o + 2] = hv;
    }
  }
  s[ST_MAX_TAINT] = maxTaint;
  s[ST_MAX_AFFINITY] = maxAffinity;
  s[ST_IPA_MIN] = ipaMin;
  s[ST_IPA_MAX] = ipaMax;
  s[ST_COUNTED] = counted;
}

function shift(h: Histogram, add: boolean, v: number): void {
  if (add) h.add(v);
  else h.remove(v);
}

/**
 * filterShard's stats over per-node columns (evaluateNode's) instead of a
 * shard's entries, kept up to date as nodes change: each node's share is
 * added (sign 1) after it is evaluated and removed (sign -1) before it is
 * evaluated again; `write` gives the stats a shard of every node would have.
 */
export class ColumnStats {
  feasible = 0;
  private counted = 0;
  private readonly taint = new Histogram();
  private readonly affinity = new Histogram();
  private readonly ipa = new Histogram();
  /** Per spread bucket: the hostname counts of its counted nodes. */
  private readonly buckets: Histogram[];

  constructor(private readonly c: Cycle, private readonly N: number) {
    this.buckets = Array.from({ length: c.spreadSoft.length > 0 && c.bucketed ? c.buckets : 0 }, () => new Histogram());
  }

  clear(): void {
    this.feasible = 0;
    this.counted = 0;
    for (const h of [this.taint, this.affinity, this.ipa, ...this.buckets]) h.clear();
  }

  /**
   * What a feasible node adds to PodTopologySpread's stats: -1 when it is not
   * counted (explicit constraints ignore it, or there are none), else its
   * hostname count in bucketed cycles, 0 otherwise.
   */
  share(node: number, spread: Int32Array): number {
    const { c, N } = this;
    const C = c.spreadSoft.length;
    if (C === 0) return -1;
    if (c.cls.spreadExplicit) for (let k = 0; k < C; k++) if ((spread[k * N + node] as number) < 0) return -1;
    return this.buckets.length > 0 && c.h >= 0 ? (spread[c.h * N + node] as number) : 0;
  }

  /** Adds a node's share, as its columns stand. */
  add(node: number, reason: Int32Array, ipa: Int32Array, spread: Int32Array): void {
    if (reason[node] === 0) this.shift(node, true, ipa[node] as number, this.share(node, spread));
  }

  /**
   * A node was evaluated again: before, it was feasible or not (`was`), with
   * InterPodAffinity raw `oldIpa` and spread share `oldShare`. Taint and node
   * affinity counts are static, so a node that stays feasible moves only what
   * changed.
   */
  replace(node: number, was: boolean, oldIpa: number, oldShare: number, reason: Int32Array, ipa: Int32Array, spread: Int32Array): void {
    const now = reason[node] === 0;
    if (!now) {
      if (was) this.shift(node, false, oldIpa, oldShare);
      return;
    }
    const newIpa = ipa[node] as number;
    const newShare = this.share(node, spread);
    if (!was) { this.shift(node, true, newIpa, newShare); return; }
    if (newIpa !== oldIpa) { this.ipa.remove(oldIpa); this.ipa.add(newIpa); }
    if (newShare !== oldShare) {
      this.spreadShift(node, false, oldShare);
      this.spreadShift(node, true, newShare);
    }
  }

  private shift(node: number, add: boolean, ipaRaw: number, share: number): void {
    const { c } = this;
    this.feasible += add ? 1 : -1;
    shift(this.taint, add, c.stat.taintCount[node] as number);
    shift(this.affinity, add, c.stat.nodeAffinity[node] as number);
    shift(this.ipa, add, ipaRaw);
    this.spreadShift(node, add, share);
  }

  private spreadShift(node: number, add: boolean, share: number): void {
    if (share < 0) return;
    this.counted += add ? 1 : -1;
    if (this.buckets.length === 0) return;
    const { c } = this;
    const bucket = c.z >= 0 ? ((c.spreadSoft[c.z] as SpreadCycle).col[node] as number) : 0;
    shift(this.buckets[bucket] as Histogram, add, share);
  }

  /** The stats into b.stats, as filterShard leaves them for a shard of every node. */
  write(b: ShardBuf): void {
    const s = b.stats;
    s[ST_MAX_TAINT] = Math.max(0, this.taint.max());
    s[ST_MAX_AFFINITY] = Math.max(0, this.affinity.max());
    s[ST_IPA_MIN] = this.ipa.min();
    s[ST_IPA_MAX] = this.ipa.max();
    s[ST_COUNTED] = this.counted;
    this.buckets.forEach((h, k) => {
      const o = ST_BUCKETS + 3 * k;
      s[o] = h.size > 0 ? 1 : 0;
      s[o + 1] = h.min();
      s[o + 2] = h.max();
    });
  }
}

/** Per-thread scratch for spread's raw score of one node given per-constraint counts. */
const countScratch = new Int32Array(64);
const weightScratch = new Float64Array(64);
const marksByState = new WeakMap<SchedState, Uint8Array>();

/** The raw spread score of a node in bucket `bucket` with hostname count hv (bucketed cycles). */
function bucketRaw(c: Cycle, weights: Float64Array, bucket: number, hv: number): number {
  const soft = c.spreadSoft;
  for (let k = 0; k < soft.length; k++) {
    if (k === c.h) countScratch[k] = hv;
    else countScratch[k] = bucket === 0 ? -1 : ((soft[k] as SpreadCycle).domCount as Int32Array)[bucket] as number;
  }
  return spreadRawScore(soft, c.cls.spreadExplicit, weights, countScratch, 0, 1);
}

/**
 * The shards' stats (over their taken entries) into the global normalisation
 * g: maxima for TaintToleration and NodeAffinity, InterPodAffinity's extremes,
 * PodTopologySpread's weights log(size + 2) and extremes. Deterministic: shards
 * are combined in order, and every value is an exact integer or computed by the
 * same expression the single pass uses.
 */
export function mergeStats(st: SchedState, c: Cycle, bufs: ShardBuf[], takes: Int32Array, g: Float64Array): void {
  let maxTaint = 0;
  let maxAffinity = 0;
  let ipaMin = Infinity;
  let ipaMax = -Infinity;
  let counted = 0;
  for (let w = 0; w < bufs.length; w++) {
    if ((takes[w] as number) === 0) continue;
    const s = (bufs[w] as ShardBuf).stats;
    maxTaint = Math.max(maxTaint, s[ST_MAX_TAINT] as number);
    maxAffinity = Math.max(maxAffinity, s[ST_MAX_AFFINITY] as number);
    ipaMin = Math.min(ipaMin, s[ST_IPA_MIN] as number);
    ipaMax = Math.max(ipaMax, s[ST_IPA_MAX] as number);
    counted += s[ST_COUNTED] as number;
  }
  g[G_MAX_TAINT] = maxTaint;
  g[G_MAX_AFFINITY] = maxAffinity;
  g[G_IPA_MIN] = ipaMin;
  g[G_IPA_MAX] = ipaMax;
  const soft = c.spreadSoft;
  const C = soft.length;
  g[G_SPREAD_MIN] = Number.MAX_SAFE_INTEGER;
  g[G_SPREAD_MAX] = 0;
  if (C === 0) return;
  const weights = weightScratch.subarray(0, C);
  if (c.bucketed) {
    let domains = 0;
    const seen = (k: number): boolean => {
      for (let w = 0; w < bufs.length; w++) if ((takes[w] as number) > 0 && (bufs[w] as ShardBuf).stats[ST_BUCKETS + 3 * k] === 1) return true;
      return false;
    };
    for (let k = 0; k < c.buckets; k++) if (seen(k)) domains++;
    for (let k = 0; k < C; k++) weights[k] = Math.log(((soft[k] as SpreadCycle).hostname ? counted : domains) + 2);
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (let k = 0; k < c.buckets; k++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let w = 0; w < bufs.length; w++) {
        if ((takes[w] as number) === 0) continue;
        const s = (bufs[w] as ShardBuf).stats;
        if (s[ST_BUCKETS + 3 * k] !== 1) continue;
        lo = Math.min(lo, s[ST_BUCKETS + 3 * k + 1] as number);
        hi = Math.max(hi, s[ST_BUCKETS + 3 * k + 2] as number);
      }
      if (lo === Infinity) continue;
      const rLo = bucketRaw(c, weights, k, lo);
      const rHi = bucketRaw(c, weights, k, hi);
      if (rLo < min) min = rLo;
      if (rHi > max) max = rHi;
    }
    g[G_SPREAD_MIN] = min;
    g[G_SPREAD_MAX] = max;
  } else {
    spreadExtremesByPass(st, c, bufs, takes, counted, weights, g);
  }
  for (let k = 0; k < C; k++) g[G_WEIGHTS + k] = weights[k] as number;
}

/** The general case: distinct domains per constraint and raw extremes by a pass over the taken entries. */
function spreadExtremesByPass(st: SchedState, c: Cycle, bufs: ShardBuf[], takes: Int32Array, counted: number, weights: Float64Array, g: Float64Array): void {
  const soft = c.spreadSoft;
  const C = soft.length;
  const explicit = c.cls.spreadExplicit;
  let marks = marksByState.get(st);
  if (!marks) { marks = new Uint8Array(maxDomains(st)); marksByState.set(st, marks); }
  const ignored = (b: ShardBuf, i: number): boolean => {
    if (!explicit) return false;
    for (let k = 0; k < C; k++) if ((b.spread[k * b.cap + i] as number) < 0) return true;
    return false;
  };
  for (let k = 0; k < C; k++) {
    const sc = soft[k] as SpreadCycle;
    if (sc.hostname) { weights[k] = Math.log(counted + 2); continue; }
    marks.fill(0);
    let size = 0;
    bufs.forEach((b, w) => {
      for (let i = 0; i < (takes[w] as number); i++) {
        if (ignored(b, i)) continue;
        const d = sc.col[b.node[i] as number] as number;
        if (marks[d] === 0) { marks[d] = 1; size++; }
      }
    });
    weights[k] = Math.log(size + 2);
  }
  let min = Number.MAX_SAFE_INTEGER;
  let max = 0;
  bufs.forEach((b, w) => {
    for (let i = 0; i < (takes[w] as number); i++) {
      const raw = spreadRawScore(soft, explicit, weights, b.spread, i, b.cap);
      if (raw < 0) continue;
      if (raw < min) min = raw;
      if (raw > max) max = raw;
    }
  });
  g[G_SPREAD_MIN] = min;
  g[G_SPREAD_MAX] = max;
}

/** Normalized 0-100 per score plugin, per entry: perPlugin[p * cap + i] in SCORE_PLUGINS order (explain, tests). */
export type PerPlugin = Int32Array;

/**
 * NormalizeScore + weights over a shard's first `take` entries, fused with
 * the first half of selectHost: the entries whose total is at least every
 * earlier total of the shard (the only ones a running maximum over the whole
 * rotated order can stop at) go to the records, in order.
 */
export function scoreShard(c: Cycle, b: ShardBuf, take: number, g: Float64Array, perPlugin: PerPlugin | null = null): void {
  if (perPlugin !== null) { scoreShardPerPlugin(c, b, take, g, perPlugin); return; }
  const norm = normalisation(c, g);
  const { cap, node: eNode, fit: eFit, ipa: eIpa, spread: eSpread, recEntry, recTotal } = b;
  let records = 0;
  let best = -Infinity;
  for (let i = 0; i < take; i++) {
    const total = entryTotal(norm, eNode[i] as number, eFit[i] as number, eIpa[i] as number, eSpread, i, cap);
    if (total >= best) {
      best = total;
      recEntry[records] = i;
      recTotal[records] = total;
      records++;
    }
  }
  b.head[H_RECORDS] = records;
}

/** What a cycle's totals need from a normalisation g, read out once per pass. */
export interface Normalisation {
  weighted: Int32Array;
  scoreIpa: boolean;
  ipaMin: number;
  ipaMax: number;
  soft: SpreadCycle[];
  C: number;
  explicit: boolean;
  spreadMin: number;
  spreadMax: number;
  weights: Float64Array;
  /** Two soft constraints (the system defaults): spreadRawScore unrolled. */
  two: boolean;
  w0: number;
  w1: number;
  k0: number;
  k1: number;
}

export function normalisation(c: Cycle, g: Float64Array): Normalisation {
  const soft = c.spreadSoft;
  const C = soft.length;
  const weights = g.subarray(G_WEIGHTS, G_WEIGHTS + C);
  const two = C === 2;
  return {
    weighted: weightedStatic(c.stat, g[G_MAX_TAINT] as number, g[G_MAX_AFFINITY] as number),
    scoreIpa: c.affinity.scoreActive, ipaMin: g[G_IPA_MIN] as number, ipaMax: g[G_IPA_MAX] as number,
    soft, C, explicit: c.cls.spreadExplicit, spreadMin: g[G_SPREAD_MIN] as number, spreadMax: g[G_SPREAD_MAX] as number, weights, two,
    w0: two ? (weights[0] as number) : 0, w1: two ? (weights[1] as number) : 0,
    k0: two ? (soft[0] as SpreadCycle).def.maxSkew - 1 : 0, k1: two ? (soft[1] as SpreadCycle).def.maxSkew - 1 : 0,
  };
}

/** Σ weight × normalised score of one entry (fc: FitCache code, ipaRaw: raw InterPodAffinity, spread counts at eSpread[k * cap + i]). */
export function entryTotal(n: Normalisation, node: number, fc: number, ipaRaw: number, eSpread: Int32Array, i: number, cap: number): number {
  return entryFixed(n, node, fc) + entryVarying(n, entrySpreadRaw(n, eSpread, i, cap), ipaRaw);
}

/**
 * The part of an entry's total that holds while only the spread and
 * InterPodAffinity extremes move: the static plugins (under maxTaint and
 * maxAffinity), LeastAllocated and BalancedAllocation. Every term is an
 * integer, so the sum is exact in any order.
 */
export function entryFixed(n: Normalisation, node: number, fc: number): number {
  return (n.weighted[node] as number) + FIT_WEIGHT * (fc >> 7) + BALANCED_WEIGHT * (fc & 127);
}

/** PodTopologySpread's raw score of an entry under the cycle's topology weights (-1: scores 0; unused when there is no soft constraint). */
export function entrySpreadRaw(n: Normalisation, eSpread: Int32Array, i: number, cap: number): number {
  if (n.two) {
    // spreadRawScore for two constraints, the same arithmetic in the same order.
    const c0 = eSpread[i] as number;
    const c1 = eSpread[cap + i] as number;
    if (n.explicit && (c0 < 0 || c1 < 0)) return -1;
    let score = 0;
    if (c0 >= 0) score += c0 * n.w0 + n.k0;
    if (c1 >= 0) score += c1 * n.w1 + n.k1;
    return Math.round(score);
  }
  return n.C > 0 ? spreadRawScore(n.soft, n.explicit, n.weights, eSpread, i, cap) : -1;
}

/** The weighted spread and InterPodAffinity scores of an entry from its raw ones, under the cycle's extremes. */
export function entryVarying(n: Normalisation, spreadRaw: number, ipaRaw: number): number {
  const spread = n.C > 0 ? spreadNormalized(spreadRaw, n.spreadMin, n.spreadMax) : 0;
  const ipa = n.scoreIpa ? affinityNormalized(ipaRaw, n.ipaMin, n.ipaMax) : 0;
  return PTS_WEIGHT * spread + IPA_WEIGHT * ipa;
}

/** Whether two normalisations differ only in the spread and InterPodAffinity extremes (entryFixed and entrySpreadRaw then hold). */
export function sameFixedParts(c: Cycle, a: Float64Array, b: Float64Array): boolean {
  if (a[G_MAX_TAINT] !== b[G_MAX_TAINT] || a[G_MAX_AFFINITY] !== b[G_MAX_AFFINITY]) return false;
  for (let k = G_WEIGHTS; k < G_WEIGHTS + c.spreadSoft.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** scoreShard keeping every plugin's normalised score (explain, tests): the plain, unfused form. */
function scoreShardPerPlugin(c: Cycle, b: ShardBuf, take: number, g: Float64Array, perPlugin: PerPlugin): void {
  const { taintCount, nodeAffinity, image } = c.stat;
  const soft = c.spreadSoft;
  const C = soft.length;
  const explicit = c.cls.spreadExplicit;
  const scoreIpa = c.affinity.scoreActive;
  const maxTaint = g[G_MAX_TAINT] as number;
  const maxAffinity = g[G_MAX_AFFINITY] as number;
  const weights = g.subarray(G_WEIGHTS, G_WEIGHTS + C);
  const { cap } = b;
  for (let i = 0; i < take; i++) {
    const node = b.node[i] as number;
    perPlugin[i] = maxTaint === 0 ? MAX_NODE_SCORE : MAX_NODE_SCORE - Math.trunc((MAX_NODE_SCORE * (taintCount[node] as number)) / maxTaint);
    perPlugin[cap + i] = maxAffinity === 0 ? 0 : Math.trunc((MAX_NODE_SCORE * (nodeAffinity[node] as number)) / maxAffinity);
    perPlugin[2 * cap + i] = (b.fit[i] as number) >> 7;
    perPlugin[3 * cap + i] = C === 0 ? 0 : spreadNormalized(spreadRawScore(soft, explicit, weights, b.spread, i, cap), g[G_SPREAD_MIN] as number, g[G_SPREAD_MAX] as number);
    perPlugin[4 * cap + i] = scoreIpa ? affinityNormalized(b.ipa[i] as number, g[G_IPA_MIN] as number, g[G_IPA_MAX] as number) : 0;
    perPlugin[5 * cap + i] = (b.fit[i] as number) & 127;
    perPlugin[6 * cap + i] = image[node] as number;
  }
}

/**
 * selectHost over the records of the shards in order: the highest total wins;
 * ties are broken by reservoir sampling in rotated node order with the run's
 * seeded RNG (upstream samples among the max-score nodes with math/rand, so its
 * pick is not reproducible). Entries that are not records can neither win nor
 * tie with the running maximum, so skipping them draws the very same random
 * numbers as a pass over every node. Returns the chosen node.
 */
export function reduceRecords(bufs: ShardBuf[], takes: Int32Array, rng: () => number): number {
  let best = -Infinity;
  let bestNode = -1;
  let ties = 0;
  for (let w = 0; w < bufs.length; w++) {
    if ((takes[w] as number) === 0) continue;
    const b = bufs[w] as ShardBuf;
    const n = b.head[H_RECORDS] as number;
    const take = takes[w] as number;
    for (let r = 0; r < n; r++) {
      // Records are in entry order; those of the first `take` entries are the records of that prefix.
      if ((b.recEntry[r] as number) >= take) break;
      const t = b.recTotal[r] as number;
      if (t > best) { best = t; bestNode = b.node[b.recEntry[r] as number] as number; ties = 1; }
      else if (t === best) {
        ties++;
        if (Math.floor(rng() * ties) === 0) bestNode = b.node[b.recEntry[r] as number] as number;
      }
    }
  }
  return bestNode;
}

/** Upstream's numFeasibleNodesToFind; percentage 0 = adaptive (50 - nodes/125, at least 5%), ≥ 100 = all. */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  const MIN_FEASIBLE_NODES = 100;
  const MIN_PERCENTAGE = 5;
  if (numAllNodes < MIN_FEASIBLE_NODES || percentage >= 100) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) {
    pct = 50 - Math.trunc(numAllNodes / 125);
    if (pct < MIN_PERCENTAGE) pct = MIN_PERCENTAGE;
  }
  const n = Math.trunc((numAllNodes * pct) / 100);
  return n < MIN_FEASIBLE_NODES ? MIN_FEASIBLE_NODES : n;
}

export interface Decision {
  /** Chosen node index, or -1 when no node fits. */
  node: number;
  /** Nodes examined in rotated order (upstream's processedNodes, which advances nextStartNodeIndex). */
  processed: number;
  feasible: number;
  /** For an unschedulable pod: reason → node count. */
  reasons: Map<string, number> | null;
  /**
   * When a PreFilter rejected the pod: its status, the whole of upstream's
   * FitError text after "0/N nodes are available:" (no per-node counts).
   */
  preFilterMessage?: string;
  /** The guessed normalisation was wrong, so the shards were scored a second time. */
  rescored: boolean;
}

/**
 * Per pod class, the normalisation its previous pod ended with: the guess
 * every thread scores its shard with right after filtering, so that when the
 * guess holds (the usual case: maxima and spread extremes move rarely) the
 * records are already there and no second pass or rendezvous is needed.
 * NaN until a class has had a pod.
 */
export class Guesses {
  readonly values: Float64Array;
  private readonly views: Float64Array[];
  constructor(st: SchedState, buffer?: ArrayBuffer | SharedArrayBuffer) {
    const L = globalBufLength(st);
    const n = st.tables.classes.length;
    this.values = new Float64Array(buffer ?? new ArrayBuffer(8 * L * Math.max(1, n)));
    if (buffer === undefined) this.values.fill(Number.NaN);
    this.views = Array.from({ length: n }, (_, k) => this.values.subarray(k * L, (k + 1) * L));
  }
  static bytes(st: SchedState): number {
    return 8 * globalBufLength(st) * Math.max(1, st.tables.classes.length);
  }
  for(c: Cycle): Float64Array {
    return this.views[c.classId] as Float64Array;
  }
}

/** The normalisation values a cycle's totals depend on are all equal (a NaN guess never is). */
export function sameNormalisation(c: Cycle, a: Float64Array, b: Float64Array): boolean {
  const L = G_WEIGHTS + c.spreadSoft.length;
  for (let k = 0; k < L; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Whether a guess can be scored with at all. */
export function guessUsable(guess: Float64Array): boolean {
  return !Number.isNaN(guess[0]);
}

/**
 * Everything after filterShard (+ shardStats and scoreShard with the guess,
 * when usable), for shards already filtered: take, stats where fewer entries
 * were taken than found, merge, score again only if the guess was wrong
 * (`scoreAll` scores every shard with a take), select, and remember the
 * normalisation as the next guess. `reasons[w]`: where shard w's reasons are.
 */
export function decide(
  st: SchedState, c: Cycle, bufs: ShardBuf[], ranges: ShardRange[], reasons: Int32Array[], numToFind: number, rng: () => number,
  takes: Int32Array, g: Float64Array, guess: Float64Array, scoreAll: () => void,
): Decision {
  const { count, processed } = takeShards(bufs, ranges, numToFind, takes);
  if (count === 0) return { node: -1, processed, feasible: 0, reasons: aggregateReasons(st, reasons, bufs, ranges), rescored: false };
  if (count === 1) {
    for (let w = 0; w < bufs.length; w++) if ((takes[w] as number) > 0) return { node: (bufs[w] as ShardBuf).node[0] as number, processed, feasible: 1, reasons: null, rescored: false };
  }
  // Each shard computed its stats over all its feasible entries; recompute where fewer were taken.
  for (let w = 0; w < bufs.length; w++) {
    const b = bufs[w] as ShardBuf;
    const take = takes[w] as number;
    if (take > 0 && take < (b.head[H_FEASIBLE] as number)) shardStats(c, b, take);
  }
  mergeStats(st, c, bufs, takes, g);
  const rescored = !sameNormalisation(c, g, guess);
  if (rescored) {
    scoreAll();
    guess.set(g);
  }
  return { node: reduceRecords(bufs, takes, rng), processed, feasible: count, reasons: null, rescored };
}

/**
 * A thread's whole FILTER step on its shard: Filter + raw Score, the shard's
 * stats, and the totals with the class's guessed normalisation.
 */
export function filterAndGuess(ctx: ThreadCtx, c: Cycle, start: number, range: ShardRange, numToFind: number, b: ShardBuf, reasons: Int32Array, guess: Float64Array): void {
  filterShard(ctx, c, start, range.from, range.to, numToFind, b, reasons, guess);
}


/** Empties a shard that this cycle did not filter (its buffer still holds an earlier cycle's entries). */
export function clearShard(b: ShardBuf): void {
  b.head[H_EXAMINED] = 0;
  b.head[H_FEASIBLE] = 0;
  b.head[H_RECORDS] = 0;
}

/** Feasible entries a shard found in its last filterShard. */
export function shardFeasibleCount(b: ShardBuf): number {
  return b.head[H_FEASIBLE] as number;
}

/** The upstream reason strings for a failure code. */
export function reasonStrings(st: SchedState, code: number): string[] {
  const detail = code >>> 4;
  switch (code & 15) {
    case Fail.unschedulable: return [REASON_UNSCHEDULABLE];
    case Fail.nodeName: return [REASON_NODE_NAME];
    case Fail.taint: {
      const s = st.tables.strings;
      return [untoleratedTaintReason({ key: s[st.taintKey[detail] as number] as string, value: s[st.taintVal[detail] as number] as string, effect: 'NoSchedule' })];
    }
    case Fail.nodeAffinity: return [REASON_NODE_AFFINITY];
    case Fail.ports: return [REASON_NODE_PORTS];
    case Fail.fit: {
      const out: string[] = [];
      if (detail & 1) out.push(REASON_TOO_MANY_PODS);
      st.tables.resources.forEach((r, i) => { if (detail & (2 << i)) out.push(insufficientReason(r)); });
      return out;
    }
    case Fail.spread: return [detail === 1 ? REASON_PTS_MISSING_LABEL : REASON_PTS_SKEW];
    case Fail.interPod: return [detail === 1 ? REASON_EXISTING_ANTI_AFFINITY : detail === 2 ? REASON_AFFINITY : REASON_ANTI_AFFINITY];
    default: return [];
  }
}

/** reasons[w]: the reasons array shard w's positions were written to (threads write their own). */
function aggregateReasons(st: SchedState, reasons: Int32Array[], bufs: ShardBuf[], ranges: ShardRange[]): Map<string, number> {
  // Count failure codes first, in runs: a handful of distinct codes stand for thousands of nodes.
  const codes = new Map<number, number>();
  bufs.forEach((b, w) => {
    const from = (ranges[w] as ShardRange).from;
    countCodeRuns(codes, reasons[w] as Int32Array, from, from + (b.head[H_EXAMINED] as number));
  });
  return reasonCounts(st, codes);
}

/** Adds the failure codes of reasons[from, to) to `codes` (code → node count), counted in runs. */
export function countCodeRuns(codes: Map<number, number>, reasons: Int32Array, from: number, to: number): void {
  let run = 0;
  let code = 0;
  for (let p = from; p < to; p++) {
    const x = reasons[p] as number;
    if (x === code) { run++; continue; }
    if (run > 0) codes.set(code, (codes.get(code) ?? 0) + run);
    code = x;
    run = 1;
  }
  if (run > 0) codes.set(code, (codes.get(code) ?? 0) + run);
}

/** Failure code → node count, as reason string → node count (a code may stand for several reasons). */
export function reasonCounts(st: SchedState, codes: Map<number, number>): Map<string, number> {
  const m = new Map<string, number>();
  for (const [code, n] of codes) for (const r of reasonStrings(st, code)) m.set(r, (m.get(r) ?? 0) + n);
  return m;
}

/** FitError's message: "0/N nodes are available: 3 Insufficient cpu, 2 node(s) ... ." (sorted as upstream). */
export function fitErrorMessage(numAllNodes: number, reasons: Map<string, number>, preFilterMessage?: string): string {
  if (preFilterMessage !== undefined) return `0/${numAllNodes} nodes are available: ${preFilterMessage}.`;
  const parts = [...reasons].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${numAllNodes} nodes are available: ${parts.join(', ')}.`;
}
