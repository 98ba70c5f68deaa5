// One scheduling cycle, split the way the pool runs it:
//   prepareCycle (PreFilter/PreScore; every thread computes it from the same shared state)
//   evaluateRange (Filter + Score over a range of nodes in the cycle's rotated order; parallel)
//   decide (take the first K feasible in rotated order, NormalizeScore, weights, select; main thread)
// The single-threaded reference path runs evaluateRange once over every node;
// the pool runs it over contiguous shards and concatenates the shards in order,
// so both see exactly the same nodes in the same order.
//
// Plugins whose inputs are static (NodeUnschedulable, NodeName, TaintToleration,
// NodeAffinity, ImageLocality) are evaluated once per distinct pod spec and
// node and memoized: node labels, taints and images never change during a run.
import type { ThreadCtx } from './context.js';
import { allNodeLabels, allNodeTaints, memoize } from './context.js';
import type { PodClass, SchedState } from './state.js';
import { MAX_NODE_SCORE } from './plugins/helper.js';
import { imageLocalityPriority, scaledImageScore, IMAGE_LOCALITY_WEIGHT } from './plugins/imagelocality.js';
import type { AffinityCycle } from './plugins/interpodaffinity.js';
import { affinityFilter, affinityNormalize, affinityRawScore, prepareAffinity, IPA_WEIGHT, REASON_AFFINITY, REASON_ANTI_AFFINITY, REASON_EXISTING_ANTI_AFFINITY } from './plugins/interpodaffinity.js';
import { nodeAffinityFits, preferredNodeAffinityScore, NODE_AFFINITY_WEIGHT, REASON_NODE_AFFINITY } from './plugins/nodeaffinity.js';
import { nodeNameFits, REASON_NODE_NAME } from './plugins/nodename.js';
import { nodePortsFit, REASON_NODE_PORTS } from './plugins/nodeports.js';
import { balancedCpuMemory, insufficientReason, leastAllocatedCpuMemory, BALANCED_WEIGHT, FIT_WEIGHT, REASON_TOO_MANY_PODS } from './plugins/noderesources.js';
import { nodeUnschedulableFits, REASON_UNSCHEDULABLE } from './plugins/nodeunschedulable.js';
import type { SpreadCycle } from './plugins/podtopologyspread.js';
import { prepareSpreadFilter, prepareSpreadScore, spreadCount, spreadFilter, spreadScores, PTS_WEIGHT, REASON_PTS_MISSING_LABEL, REASON_PTS_SKEW } from './plugins/podtopologyspread.js';
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

// Per-node result entry layout in the shared result buffer. Static scores
// Result layout. Every examined node's filter outcome goes to reasons[position]
// (position in the cycle's rotated order, so shards never overlap); each
// feasible node also gets an entry out[base + f * stride] with its raw dynamic
// scores. Static scores (TaintToleration count, NodeAffinity sum,
// ImageLocality) are not copied: decide reads them from its own static cache.
export const E_NODE = 0;
export const E_POS = 1;
export const E_FIT = 2;
export const E_BALANCED = 3;
export const E_IPA = 4;
export const E_SPREAD = 5;

export function entryStride(st: SchedState): number {
  return E_SPREAD + st.tables.maxSoftSpread;
}

/** Static per pod spec × node: a failure code (0 = passes the static filters) and static scores. */
interface StaticEntry {
  reason: Int32Array;
  taintCount: Int32Array;
  nodeAffinity: Int32Array;
  image: Int32Array;
}

function staticEntry(ctx: ThreadCtx, cls: PodClass): StaticEntry {
  return memoize(ctx, `static:${cls.staticKey}`, () => {
    const { st } = ctx;
    const { N } = st;
    const labels = allNodeLabels(ctx);
    const taints = allNodeTaints(ctx);
    const e: StaticEntry = { reason: new Int32Array(N), taintCount: new Int32Array(N), nodeAffinity: new Int32Array(N), image: new Int32Array(N) };
    const imageIds = cls.images.map((img) => st.tables.images.indexOf(img));
    const numContainers = cls.images.length;
    for (let n = 0; n < N; n++) {
      const name = st.tables.nodeNames[n] as string;
      const l = labels[n] as Record<string, string>;
      const t = taints[n] as ReturnType<typeof allNodeTaints>[number];
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
        if (has) sum += scaledImageScore(st.imageSize[id] as number, st.imageNumNodes[id] as number, N);
      }
      e.image[n] = imageLocalityPriority(sum, numContainers);
    }
    return e;
  });
}

export interface Cycle {
  pod: number;
  cls: PodClass;
  stat: StaticEntry;
  spreadHard: SpreadCycle[];
  spreadSoft: SpreadCycle[];
  affinity: AffinityCycle;
}

/** PreFilter + PreScore: a pure function of the shared state at the start of the cycle. */
export function prepareCycle(ctx: ThreadCtx, pod: number): Cycle {
  const classId = ctx.st.podClass[pod] as number;
  const cls = ctx.st.tables.classes[classId] as PodClass;
  return {
    pod, cls, stat: memoize(ctx, `static:${classId}`, () => staticEntry(ctx, cls)),
    spreadHard: prepareSpreadFilter(ctx, classId, cls), spreadSoft: prepareSpreadScore(ctx, classId, cls), affinity: prepareAffinity(ctx, classId, cls),
  };
}

/** NodeResourcesFit filter: 0 fits, else bit 0 = too many pods, bit 1+r = insufficient resource r. */
function fitFilter(st: SchedState, cls: PodClass, extra: number[], node: number): number {
  const o = node * st.R;
  let bits = 0;
  if ((st.podCount[node] as number) + 1 > (st.allocPods[node] as number)) bits |= 1;
  const cpu = cls.requests[0] as number;
  const mem = cls.requests[1] as number;
  if (cpu > 0 && cpu > (st.alloc[o] as number) - (st.requested[o] as number)) bits |= 2;
  if (mem > 0 && mem > (st.alloc[o + 1] as number) - (st.requested[o + 1] as number)) bits |= 4;
  for (const r of extra) if ((cls.requests[r] as number) > (st.alloc[o + r] as number) - (st.requested[o + r] as number)) bits |= 2 << r;
  return bits;
}

/**
 * Filter + Score over positions [from, to) of the rotated order starting at
 * `start`, stopping once `numToFind` feasible nodes are found. Writes
 * reasons[p] for every examined position and an entry per feasible node at
 * out[base + f * stride]; returns [examined, feasible].
 */
export function evaluateRange(ctx: ThreadCtx, c: Cycle, start: number, from: number, to: number, numToFind: number, out: Int32Array, base: number, reasons: Int32Array): [number, number] {
  const { st } = ctx;
  const { N, R } = st;
  const S = entryStride(st);
  const { cls, stat } = c;
  const staticReason = stat.reason;
  const { alloc, requested, nonZero } = st;
  const extra: number[] = [];
  for (let r = 2; r < R; r++) if ((cls.requests[r] as number) > 0) extra.push(r);
  const ports = cls.ports.length > 0 ? st.tables.ports : null;
  const slots = st.tables.portSlots;
  const hasHard = c.spreadHard.length > 0;
  const a = c.affinity;
  const hasAffinityFilter = a.existingAnti.length + a.affinity.length + a.anti.length > 0;
  const soft = c.spreadSoft;
  const C = soft.length;
  const podCpu = cls.requests[0] as number;
  const podMem = cls.requests[1] as number;
  const nzCpu = cls.nonZeroCpu;
  const nzMem = cls.nonZeroMemory;
  const bestEffort = cls.bestEffort;
  const scoreIpa = a.scoreActive;
  let feasible = 0;
  let p = from;
  for (; p < to; p++) {
    let node = start + p;
    if (node >= N) node -= N;
    let reason = staticReason[node] as number;
    if (reason === Fail.none && ports !== null && !nodePortsFit(ports, st.portSlot.subarray(node * slots, node * slots + slots), st.portCount[node] as number, cls.ports)) reason = Fail.ports;
    if (reason === Fail.none) {
      const bits = fitFilter(st, cls, extra, node);
      if (bits !== 0) reason = Fail.fit | (bits << 4);
    }
    if (reason === Fail.none && hasHard) {
      const r = spreadFilter(st, c.spreadHard, node);
      if (r !== 0) reason = Fail.spread | (r << 4);
    }
    if (reason === Fail.none && hasAffinityFilter) {
      const r = affinityFilter(st, a, node);
      if (r !== 0) reason = Fail.interPod | (r << 4);
    }
    reasons[p] = reason;
    if (reason !== Fail.none) continue;
    // Score (raw; normalization happens in decide, over the chosen nodes).
    const e = base + feasible * S;
    out[e + E_NODE] = node;
    out[e + E_POS] = p;
    const o = node * R;
    const allocCpu = alloc[o] as number;
    const allocMem = alloc[o + 1] as number;
    out[e + E_FIT] = leastAllocatedCpuMemory((nonZero[node * 2] as number) + nzCpu, allocCpu, (nonZero[node * 2 + 1] as number) + nzMem, allocMem);
    out[e + E_BALANCED] = bestEffort ? 0 : balancedCpuMemory((requested[o] as number) + podCpu, allocCpu, (requested[o + 1] as number) + podMem, allocMem);
    out[e + E_IPA] = scoreIpa ? affinityRawScore(st, a, node) : 0;
    for (let i = 0; i < C; i++) out[e + E_SPREAD + i] = spreadCount(st, soft[i] as SpreadCycle, node);
    feasible++;
    if (feasible >= numToFind) { p++; break; }
  }
  return [p - from, feasible];
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

/** One shard: positions [from, from + examined) examined, `feasible` entries from out[base]. */
export interface RangeResult {
  from: number;
  base: number;
  examined: number;
  feasible: number;
}

export interface Scored {
  count: number;
  /** Node index per chosen feasible node, in rotated order. */
  nodes: Int32Array;
  /** With `perPlugin` requested: normalized 0-100 score per plugin (before weight), per chosen node. */
  perPlugin: Record<ScorePluginName, Int32Array>;
  total: Float64Array;
}

interface Scratch {
  nodes: Int32Array;
  perPlugin: Record<ScorePluginName, Int32Array>;
  total: Float64Array;
  spread: Int32Array;
  ipa: Int32Array;
  spreadCounts: Int32Array;
  marks: Int32Array;
}
const scratchByState = new WeakMap<SchedState, Scratch>();

/** Reused per thread: a cycle allocates nothing proportional to the node count. */
function scratchFor(st: SchedState): Scratch {
  let s = scratchByState.get(st);
  if (!s) {
    const n = (): Int32Array => new Int32Array(st.N);
    const perPlugin = Object.fromEntries(SCORE_PLUGINS.map(([name]) => [name, n()])) as Record<ScorePluginName, Int32Array>;
    s = {
      nodes: n(), perPlugin, total: new Float64Array(st.N), spread: n(), ipa: n(),
      spreadCounts: new Int32Array(st.N * st.tables.maxSoftSpread), marks: new Int32Array(Math.max(...st.tables.topoDomains)),
    };
    scratchByState.set(st, s);
  }
  return s;
}

/**
 * NormalizeScore + weights over the chosen feasible nodes (entries at out[at[i]]),
 * fused into two passes. The returned arrays are per-thread scratch, valid until
 * the next call; perPlugin is filled only when asked for (explain, tests).
 */
export function scoreChosen(st: SchedState, c: Cycle, out: Int32Array, at: Int32Array, count: number, perPluginWanted = false): Scored {
  const sc = scratchFor(st);
  const { nodes, total, spread, ipa } = sc;
  const { taintCount, nodeAffinity, image } = c.stat;
  const C = c.spreadSoft.length;
  const counts = sc.spreadCounts;
  let maxTaint = 0;
  let maxAffinity = 0;
  for (let i = 0; i < count; i++) {
    const pos = at[i] as number;
    const node = out[pos + E_NODE] as number;
    nodes[i] = node;
    const t = taintCount[node] as number;
    if (t > maxTaint) maxTaint = t;
    const na = nodeAffinity[node] as number;
    if (na > maxAffinity) maxAffinity = na;
    ipa[i] = out[pos + E_IPA] as number;
    for (let k = 0; k < C; k++) counts[i * C + k] = out[pos + E_SPREAD + k] as number;
  }
  if (C > 0) spreadScores(st, c.spreadSoft, c.cls.spreadExplicit, nodes, count, counts, C, spread, sc.marks);
  else spread.fill(0, 0, count);
  if (c.affinity.scoreActive) affinityNormalize(ipa, count);
  else ipa.fill(0, 0, count);
  const pp = sc.perPlugin;
  for (let i = 0; i < count; i++) {
    const pos = at[i] as number;
    const node = nodes[i] as number;
    // helper.DefaultNormalizeScore: reversed for TaintToleration, plain for NodeAffinity.
    const taint = maxTaint === 0 ? MAX_NODE_SCORE : MAX_NODE_SCORE - Math.trunc((MAX_NODE_SCORE * (taintCount[node] as number)) / maxTaint);
    const affinity = maxAffinity === 0 ? 0 : Math.trunc((MAX_NODE_SCORE * (nodeAffinity[node] as number)) / maxAffinity);
    const fit = out[pos + E_FIT] as number;
    const balanced = out[pos + E_BALANCED] as number;
    const img = image[node] as number;
    total[i] = TAINT_TOLERATION_WEIGHT * taint + NODE_AFFINITY_WEIGHT * affinity + FIT_WEIGHT * fit + PTS_WEIGHT * (spread[i] as number)
      + IPA_WEIGHT * (ipa[i] as number) + BALANCED_WEIGHT * balanced + IMAGE_LOCALITY_WEIGHT * img;
    if (perPluginWanted) {
      pp.TaintToleration[i] = taint;
      pp.NodeAffinity[i] = affinity;
      pp.NodeResourcesFit[i] = fit;
      pp.PodTopologySpread[i] = spread[i] as number;
      pp.InterPodAffinity[i] = ipa[i] as number;
      pp.NodeResourcesBalancedAllocation[i] = balanced;
      pp.ImageLocality[i] = img;
    }
  }
  return { count, nodes, perPlugin: pp, total };
}

/**
 * selectHost: the highest total wins; ties are broken by reservoir sampling in
 * rotated node order with the run's seeded RNG (upstream samples among the
 * max-score nodes with math/rand, so its pick is not reproducible).
 */
export function selectHost(total: Float64Array, count: number, rng: () => number): number {
  let best = 0;
  let ties = 1;
  for (let i = 1; i < count; i++) {
    const t = total[i] as number;
    if (t > (total[best] as number)) { best = i; ties = 1; }
    else if (t === total[best]) {
      ties++;
      if (Math.floor(rng() * ties) === 0) best = i;
    }
  }
  return best;
}

export interface Decision {
  /** Chosen node index, or -1 when no node fits. */
  node: number;
  /** Nodes examined in rotated order (upstream's processedNodes, which advances nextStartNodeIndex). */
  processed: number;
  feasible: number;
  /** For an unschedulable pod: reason → node count. */
  reasons: Map<string, number> | null;
}

/** The first numToFind feasible entries over the shards in order, and how many positions that took. */
export function chooseFeasible(st: SchedState, out: Int32Array, shards: RangeResult[], numToFind: number): { at: Int32Array; count: number; processed: number } {
  const S = entryStride(st);
  let total = 0;
  for (const sh of shards) total += sh.feasible;
  const at = new Int32Array(Math.min(total, numToFind));
  let count = 0;
  let processed = 0;
  for (const sh of shards) {
    const take = Math.min(sh.feasible, numToFind - count);
    for (let f = 0; f < take; f++) at[count++] = sh.base + f * S;
    if (count >= numToFind) {
      processed += (out[(at[count - 1] as number) + E_POS] as number) - sh.from + 1;
      break;
    }
    processed += sh.examined;
  }
  return { at, count, processed };
}

/** Keeps the first numToFind feasible nodes in rotated order, scores them and picks one. */
export function decide(st: SchedState, c: Cycle, out: Int32Array, reasons: Int32Array, shards: RangeResult[], numToFind: number, rng: () => number): Decision {
  const { at, count, processed } = chooseFeasible(st, out, shards, numToFind);
  if (count === 0) return { node: -1, processed, feasible: 0, reasons: aggregateReasons(st, reasons, shards) };
  if (count === 1) return { node: out[(at[0] as number) + E_NODE] as number, processed, feasible: 1, reasons: null };
  const scored = scoreChosen(st, c, out, at, count);
  return { node: scored.nodes[selectHost(scored.total, count, rng)] as number, processed, feasible: count, reasons: null };
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

function aggregateReasons(st: SchedState, reasons: Int32Array, shards: RangeResult[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const sh of shards) {
    for (let p = sh.from; p < sh.from + sh.examined; p++) {
      for (const r of reasonStrings(st, reasons[p] as number)) m.set(r, (m.get(r) ?? 0) + 1);
    }
  }
  return m;
}

/** FitError's message: "0/N nodes are available: 3 Insufficient cpu, 2 node(s) ... ." (sorted as upstream). */
export function fitErrorMessage(numAllNodes: number, reasons: Map<string, number>): string {
  const parts = [...reasons].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${numAllNodes} nodes are available: ${parts.join(', ')}.`;
}
