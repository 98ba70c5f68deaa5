// PodTopologySpread (filter + score, weight 2), with upstream's system default
// constraints (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway) for pods
// that carry none. Node inclusion policies are upstream's defaults:
// nodeAffinityPolicy Honor (only nodes matching the pod's required node
// affinity count), nodeTaintsPolicy Ignore.
//
// PreFilter/PreScore (prepareSpread) count matching pods per topology domain
// from the incrementally maintained per-label-set domain counts; when some
// nodes are not eligible (node affinity, missing keys) it sums eligible nodes
// one by one instead, so the counts are exactly upstream's.
import type { ThreadCtx } from '../context.js';
import { allNodeLabels, domainCounts, matchingLabelSets, memoClass, memoize, scratchCounts } from '../context.js';
import { matchLabelSelector, matchRequiredNodeAffinity, signature } from '../labels.js';
import type { PodClass, SchedState, SpreadDef } from '../state.js';
import { LABEL_HOSTNAME } from '../types.js';
import { MAX_NODE_SCORE } from './helper.js';

export const PTS_WEIGHT = 2;
export const REASON_PTS_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";
export const REASON_PTS_SKEW = "node(s) didn't match pod topology spread constraints";

export interface SpreadCycle {
  def: SpreadDef;
  sets: Int32Array;
  hostname: boolean;
  /** The constraint key's topology column: domain id per node (0 = label absent). */
  col: Int32Array;
  /** Matching pods per domain over eligible nodes; null for a soft hostname constraint (counted per node). */
  domCount: Int32Array | null;
  /** For a soft hostname constraint: the per-node pod count rows of the matching label sets. */
  rows: Int32Array[];
  minMatch: number;
  selfMatch: number;
  /** Filter: a domain with more than this many matching pods would exceed maxSkew (maxSkew + min - self). */
  limit: number;
}

interface Eligibility {
  /** null: every node is eligible. */
  nodes: Int32Array | null;
  /** Per constraint (same order as given): domain ids present among eligible nodes. */
  present: Int32Array[];
}

function eligibility(ctx: ThreadCtx, cls: PodClass, defs: SpreadDef[], requireAll: boolean): Eligibility {
  const keys = defs.map((d) => d.topoKey);
  // Shared by every class with the same node affinity and keys (computed once per thread).
  return memoize(ctx, `pts-elig:${signature({ s: cls.nodeSelector, r: cls.requiredNodeAffinity, keys, requireAll })}`, () => {
    const { st } = ctx;
    const { N } = st;
    const labels = allNodeLabels(ctx);
    const list: number[] = [];
    for (let n = 0; n < N; n++) {
      if (!matchRequiredNodeAffinity(cls.nodeSelector, cls.requiredNodeAffinity, labels[n] as Record<string, string>, st.tables.nodeNames[n] as string)) continue;
      if (requireAll && keys.some((k) => st.topo[k * N + n] === 0)) continue;
      list.push(n);
    }
    const present = keys.map((k) => {
      const seen = new Uint8Array(st.tables.topoDomains[k] as number);
      for (const n of list) seen[st.topo[k * N + n] as number] = 1;
      const out: number[] = [];
      seen.forEach((v, d) => { if (v && (d !== 0 || !requireAll)) out.push(d); });
      return Int32Array.from(out);
    });
    return { nodes: list.length === N ? null : Int32Array.from(list), present };
  });
}

/** Matching pods per domain over the eligible nodes, in the (kind, index) scratch array unless a shared view serves (domainCounts). */
function countOverEligible(ctx: ThreadCtx, k: number, sets: Int32Array, elig: Eligibility, kind: string, index: number): Int32Array {
  if (elig.nodes === null) return domainCounts(ctx, k, sets, kind, index);
  const { st } = ctx;
  const { N } = st;
  const out = scratchCounts(ctx, kind, index, st.tables.topoDomains[k] as number).fill(0);
  for (const n of elig.nodes) {
    let c = 0;
    for (const ls of sets) c += st.lsNode[ls * N + n] as number;
    const d = st.topo[k * N + n] as number;
    out[d] = (out[d] as number) + c;
  }
  return out;
}

interface SpreadPlan {
  elig: Eligibility;
  sets: Int32Array[];
}

/** What a class's constraints select: fixed for the run, so computed once per class and thread. */
function plan(ctx: ThreadCtx, classId: number, cls: PodClass, hard: boolean): SpreadPlan {
  return memoClass(ctx, hard ? 'pts-plan-hard' : 'pts-plan-soft', classId, () => {
    const defs = hard ? cls.spreadHard : cls.spreadSoft;
    return { elig: eligibility(ctx, cls, defs, hard || cls.spreadExplicit), sets: defs.map((d) => matchingLabelSets(ctx, [cls.namespace], d.selector)) };
  });
}

/** PreFilter (hard constraints) for one pod. */
export function prepareSpreadFilter(ctx: ThreadCtx, classId: number, cls: PodClass): SpreadCycle[] {
  if (cls.spreadHard.length === 0) return [];
  const { elig, sets: allSets } = plan(ctx, classId, cls, true);
  return cls.spreadHard.map((def, i) => {
    const sets = allSets[i] as Int32Array;
    const domCount = countOverEligible(ctx, def.topoKey, sets, elig, 'pts-hard', i);
    const present = elig.present[i] as Int32Array;
    let min = Number.MAX_SAFE_INTEGER;
    for (const d of present) if ((domCount[d] as number) < min) min = domCount[d] as number;
    if (present.length < def.minDomains) min = 0;
    const selfMatch = matchLabelSelector(def.selector, cls.labels) ? 1 : 0;
    return {
      def, sets, hostname: ctx.st.tables.topoKeys[def.topoKey] === LABEL_HOSTNAME, col: ctx.topoCols[def.topoKey] as Int32Array,
      domCount, rows: [], minMatch: min, selfMatch, limit: def.maxSkew + min - selfMatch,
    };
  });
}

/** PreScore (soft constraints, or the system defaults) for one pod. */
export function prepareSpreadScore(ctx: ThreadCtx, classId: number, cls: PodClass): SpreadCycle[] {
  if (cls.spreadSoft.length === 0) return [];
  const { elig, sets: allSets } = plan(ctx, classId, cls, false);
  return cls.spreadSoft.map((def, i) => {
    const sets = allSets[i] as Int32Array;
    const hostname = ctx.st.tables.topoKeys[def.topoKey] === LABEL_HOSTNAME;
    return {
      def, sets, hostname, col: ctx.topoCols[def.topoKey] as Int32Array,
      domCount: hostname ? null : countOverEligible(ctx, def.topoKey, sets, elig, 'pts-soft', i),
      rows: hostname ? Array.from(sets, (ls) => ctx.lsRows[ls] as Int32Array) : [], minMatch: 0, selfMatch: 0, limit: 0,
    };
  });
}

/** Filter: 0 fits, 1 missing topology label, 2 skew exceeded. */
export function spreadFilter(hard: SpreadCycle[], node: number): number {
  for (const c of hard) {
    const d = c.col[node] as number;
    if (d === 0) return 1;
    if (((c.domCount as Int32Array)[d] as number) > c.limit) return 2;
  }
  return 0;
}

/** Score's count for one soft constraint on node; -1 when the node lacks the key. */
export function spreadCount(c: SpreadCycle, node: number): number {
  const d = c.col[node] as number;
  if (d === 0) return -1;
  if (c.domCount !== null) return c.domCount[d] as number;
  let n = 0;
  for (const row of c.rows) n += row[node] as number;
  return n;
}

/**
 * The raw score of one node from its per-constraint counts (counts[c * stride]),
 * given each constraint's weight log(size + 2); -1 marks a node that explicit
 * constraints ignore (it lacks one of their keys).
 */
export function spreadRawScore(soft: SpreadCycle[], explicit: boolean, weights: Float64Array, counts: Int32Array, at: number, stride: number): number {
  let score = 0;
  for (let c = 0; c < soft.length; c++) {
    const cnt = counts[at + c * stride] as number;
    if (cnt < 0) {
      if (explicit) return -1;
      continue;
    }
    score += cnt * (weights[c] as number) + ((soft[c] as SpreadCycle).def.maxSkew - 1);
  }
  return Math.round(score);
}

/** NormalizeScore for one raw score (-1 = ignored → 0), given the extremes over the non-ignored scored nodes. */
export function spreadNormalized(raw: number, min: number, max: number): number {
  if (raw < 0) return 0;
  if (max === 0) return MAX_NODE_SCORE;
  return Math.trunc((MAX_NODE_SCORE * (max + min - raw)) / max);
}
