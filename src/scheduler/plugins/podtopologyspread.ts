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
import { allNodeLabels, domainCounts, matchingLabelSets, memoize } from '../context.js';
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
  /** Matching pods per domain over eligible nodes; null for a soft hostname constraint (counted per node). */
  domCount: Int32Array | null;
  minMatch: number;
  selfMatch: number;
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

function countOverEligible(st: SchedState, k: number, sets: Int32Array, elig: Eligibility): Int32Array {
  if (elig.nodes === null) return domainCounts(st, k, sets);
  const { N } = st;
  const out = new Int32Array(st.tables.topoDomains[k] as number);
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
  return memoize(ctx, `pts-plan:${hard ? 'h' : 's'}:${classId}`, () => {
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
    const domCount = countOverEligible(ctx.st, def.topoKey, sets, elig);
    const present = elig.present[i] as Int32Array;
    let min = Number.MAX_SAFE_INTEGER;
    for (const d of present) if ((domCount[d] as number) < min) min = domCount[d] as number;
    if (present.length < def.minDomains) min = 0;
    const selfMatch = matchLabelSelector(def.selector, cls.labels) ? 1 : 0;
    return { def, sets, hostname: ctx.st.tables.topoKeys[def.topoKey] === LABEL_HOSTNAME, domCount, minMatch: min, selfMatch };
  });
}

/** PreScore (soft constraints, or the system defaults) for one pod. */
export function prepareSpreadScore(ctx: ThreadCtx, classId: number, cls: PodClass): SpreadCycle[] {
  if (cls.spreadSoft.length === 0) return [];
  const { elig, sets: allSets } = plan(ctx, classId, cls, false);
  return cls.spreadSoft.map((def, i) => {
    const sets = allSets[i] as Int32Array;
    const hostname = ctx.st.tables.topoKeys[def.topoKey] === LABEL_HOSTNAME;
    return { def, sets, hostname, domCount: hostname ? null : countOverEligible(ctx.st, def.topoKey, sets, elig), minMatch: 0, selfMatch: 0 };
  });
}

/** Filter: 0 fits, 1 missing topology label, 2 skew exceeded. */
export function spreadFilter(st: SchedState, hard: SpreadCycle[], node: number): number {
  const { N } = st;
  for (const c of hard) {
    const d = st.topo[c.def.topoKey * N + node] as number;
    if (d === 0) return 1;
    if ((c.domCount as Int32Array)[d]! + c.selfMatch - c.minMatch > c.def.maxSkew) return 2;
  }
  return 0;
}

/** Score's count for one soft constraint on node; -1 when the node lacks the key. */
export function spreadCount(st: SchedState, c: SpreadCycle, node: number): number {
  const { N } = st;
  const d = st.topo[c.def.topoKey * N + node] as number;
  if (d === 0) return -1;
  if (c.domCount !== null) return c.domCount[d] as number;
  let n = 0;
  for (const ls of c.sets) n += st.lsNode[ls * N + node] as number;
  return n;
}

/**
 * Score + NormalizeScore over the scored nodes. counts[i * C + c] is
 * spreadCount for node nodes[i] and soft constraint c. Writes 0-100 into out.
 * `marks` is scratch of at least max(topoDomains) entries.
 */
export function spreadScores(st: SchedState, soft: SpreadCycle[], explicit: boolean, nodes: ArrayLike<number>, count: number, counts: ArrayLike<number>, C: number, out: Int32Array, marks: Int32Array): void {
  const { N } = st;
  const IGNORED = -1;
  let ignoredCount = 0;
  if (explicit) {
    for (let i = 0; i < count; i++) {
      for (let c = 0; c < soft.length; c++) if ((counts[i * C + c] as number) < 0) { out[i] = IGNORED; ignoredCount++; break; }
    }
  }
  const weights = soft.map((c) => {
    let size = 0;
    if (c.hostname) size = count - ignoredCount;
    else {
      // Distinct domains among the scored nodes (domain 0, "label absent", counts too when keys are not required, as upstream's "" value).
      const k = c.def.topoKey;
      marks.fill(0, 0, st.tables.topoDomains[k] as number);
      for (let i = 0; i < count; i++) {
        if (explicit && out[i] === IGNORED) continue;
        const d = st.topo[k * N + (nodes[i] as number)] as number;
        if (marks[d] === 0) { marks[d] = 1; size++; }
      }
    }
    return Math.log(size + 2);
  });
  let min = Number.MAX_SAFE_INTEGER;
  let max = 0;
  for (let i = 0; i < count; i++) {
    if (explicit && out[i] === IGNORED) continue;
    let score = 0;
    for (let c = 0; c < soft.length; c++) {
      const cnt = counts[i * C + c] as number;
      if (cnt < 0) continue;
      score += cnt * (weights[c] as number) + ((soft[c] as SpreadCycle).def.maxSkew - 1);
    }
    const s = Math.round(score);
    out[i] = s;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  for (let i = 0; i < count; i++) {
    if (explicit && out[i] === IGNORED) out[i] = 0;
    else if (max === 0) out[i] = MAX_NODE_SCORE;
    else out[i] = Math.trunc((MAX_NODE_SCORE * (max + min - (out[i] as number))) / max);
  }
}
