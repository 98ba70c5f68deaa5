// InterPodAffinity (filter + score, weight 2).
// Filter, in upstream's order: (1) placed pods' required anti-affinity terms
// that select the incoming pod; (2) the incoming pod's required affinity (every
// term needs a matching pod in the node's domain, except for the first pod of
// a group that matches its own terms); (3) the incoming pod's required
// anti-affinity.
// Score: Σ per topology key of the domain's weight: the incoming pod's preferred
// (anti-)affinity against placed pods, plus placed pods' required affinity
// (hardPodAffinityWeight 1) and preferred (anti-)affinity against the incoming
// pod; normalized by (s - min) / (max - min) over the scored nodes' own extremes.
import type { ThreadCtx } from '../context.js';
import { domainCounts, matchingLabelSets, memoClass, scratchCounts } from '../context.js';
import { matchLabelSelector } from '../labels.js';
import type { IncomingTerm, PodClass, SchedState, TermDef } from '../state.js';
import { TermKind } from '../state.js';
import { MAX_NODE_SCORE } from './helper.js';

export const IPA_WEIGHT = 2;
export const HARD_POD_AFFINITY_WEIGHT = 1;
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";

/**
 * Per topology key, a value per domain; `col` is the key's topology column
 * (domain id per node). Domain 0 ("label absent") never counts: readers skip
 * it, because `arr` may be a read-only view into the shared counts.
 */
export interface KeyedDomains {
  k: number;
  col: Int32Array;
  arr: Int32Array;
  /** arr is this cycle's own copy (may be summed into), not a shared view. */
  owned: boolean;
}

export interface AffinityCycle {
  existingAnti: KeyedDomains[];
  affinity: KeyedDomains[];
  /** Some placed pod matches all required affinity terms (upstream: affinityCounts not empty). */
  affinityAnyExists: boolean;
  selfMatchesAll: boolean;
  anti: KeyedDomains[];
  score: KeyedDomains[];
  scoreActive: boolean;
  /** Any of the three filter lists is non-empty. */
  filterActive: boolean;
}

interface ExistingTerms {
  requiredAnti: number[];
  scoring: { t: number; mult: number }[];
}

function termSelects(term: { namespaces: string[]; selector: TermDef['selector'] }, cls: PodClass): boolean {
  return term.namespaces.includes(cls.namespace) && matchLabelSelector(term.selector, cls.labels);
}

/** Placed-pod terms that select pods of this label set, grouped by what they do. */
function existingTermsFor(ctx: ThreadCtx, cls: PodClass): ExistingTerms {
  return memoClass(ctx, 'ipa-existing', cls.labelSet, () => {
    const out: ExistingTerms = { requiredAnti: [], scoring: [] };
    ctx.st.tables.terms.forEach((t, i) => {
      if (!termSelects(t, cls)) return;
      if (t.kind === TermKind.requiredAntiAffinity) out.requiredAnti.push(i);
      else if (t.kind === TermKind.requiredAffinity) out.scoring.push({ t: i, mult: HARD_POD_AFFINITY_WEIGHT });
      else if (t.kind === TermKind.preferredAffinity) out.scoring.push({ t: i, mult: t.weight });
      else out.scoring.push({ t: i, mult: -t.weight });
    });
    return out;
  });
}

/**
 * Whether any commit can change this class's InterPodAffinity filter verdict
 * on a node that no pod was committed to: its own required terms, or a placed
 * pod's required anti-affinity term that selects it (the terms are a fixed
 * table; commits move only their domain counts).
 */
export function affinityFilterCanMove(ctx: ThreadCtx, cls: PodClass): boolean {
  return cls.affinityRequired.length > 0 || cls.antiAffinityRequired.length > 0 || existingTermsFor(ctx, cls).requiredAnti.length > 0;
}

function termDomains(st: SchedState, t: number): Int32Array {
  const off = st.termDomOff[t] as number;
  return st.termDom.subarray(off, st.termDomOff[t + 1] as number);
}

/**
 * Adds mult × src into the list's entry for key k; a lone term with mult 1
 * keeps a view of src (no copy). An entry's own sums live in the (kind, k)
 * scratch array (scratchCounts): every cycle rewrites it before reading.
 */
function accumulate(ctx: ThreadCtx, kind: string, list: KeyedDomains[], k: number, src: Int32Array, mult: number): void {
  const e = list.find((x) => x.k === k);
  if (!e) {
    if (mult === 1) { list.push({ k, col: ctx.topoCols[k] as Int32Array, arr: src, owned: false }); return; }
    const arr = scratchCounts(ctx, kind, k, src.length);
    arr[0] = 0;
    for (let d = 1; d < arr.length; d++) arr[d] = mult * (src[d] as number);
    list.push({ k, col: ctx.topoCols[k] as Int32Array, arr, owned: true });
    return;
  }
  if (!e.owned) {
    const arr = scratchCounts(ctx, kind, k, e.arr.length);
    arr.set(e.arr);
    e.arr = arr;
    e.owned = true;
  }
  for (let d = 1; d < e.arr.length; d++) e.arr[d] = (e.arr[d] as number) + mult * (src[d] as number);
}

function anyPositive(arr: Int32Array): boolean {
  for (let d = 1; d < arr.length; d++) if ((arr[d] as number) > 0) return true;
  return false;
}

function anyNonZero(arr: Int32Array): boolean {
  for (let d = 1; d < arr.length; d++) if (arr[d] !== 0) return true;
  return false;
}

function intersect(a: Int32Array, b: Int32Array): Int32Array {
  const s = new Set(b);
  return a.filter((x) => s.has(x));
}

interface AffinityPlan {
  /** Label sets matching every required affinity term at once (upstream counts pods that match all terms). */
  affinityAll: Int32Array;
  selfMatchesAll: boolean;
  anti: Int32Array[];
  preferred: Int32Array[];
  antiPreferred: Int32Array[];
}

function plan(ctx: ThreadCtx, classId: number, cls: PodClass): AffinityPlan {
  return memoClass(ctx, 'ipa-plan', classId, () => {
    const sets = (t: IncomingTerm): Int32Array => matchingLabelSets(ctx, t.namespaces, t.selector);
    let all: Int32Array | null = null;
    for (const t of cls.affinityRequired) all = all === null ? sets(t) : intersect(all, sets(t));
    return {
      affinityAll: all ?? new Int32Array(0), selfMatchesAll: cls.affinityRequired.every((t) => termSelects(t, cls)),
      anti: cls.antiAffinityRequired.map(sets), preferred: cls.affinityPreferred.map(sets), antiPreferred: cls.antiAffinityPreferred.map(sets),
    };
  });
}

/** PreFilter + PreScore for one pod. */
export function prepareAffinity(ctx: ThreadCtx, classId: number, cls: PodClass): AffinityCycle {
  const { st } = ctx;
  const existing = existingTermsFor(ctx, cls);
  const p = plan(ctx, classId, cls);
  const c: AffinityCycle = { existingAnti: [], affinity: [], affinityAnyExists: false, selfMatchesAll: p.selfMatchesAll, anti: [], score: [], scoreActive: false, filterActive: false };
  for (const t of existing.requiredAnti) accumulate(ctx, 'ipa-existing-anti', c.existingAnti, (st.tables.terms[t] as TermDef).topoKey, termDomains(st, t), 1);
  for (const [i, t] of cls.affinityRequired.entries()) {
    const arr = domainCounts(ctx, t.topoKey, p.affinityAll, 'ipa-affinity', i);
    if (anyPositive(arr)) c.affinityAnyExists = true;
    c.affinity.push({ k: t.topoKey, col: ctx.topoCols[t.topoKey] as Int32Array, arr, owned: false });
  }
  cls.antiAffinityRequired.forEach((t, i) => {
    c.anti.push({ k: t.topoKey, col: ctx.topoCols[t.topoKey] as Int32Array, arr: domainCounts(ctx, t.topoKey, p.anti[i] as Int32Array, 'ipa-anti', i), owned: false });
  });
  cls.affinityPreferred.forEach((t, i) => accumulate(ctx, 'ipa-score', c.score, t.topoKey, domainCounts(ctx, t.topoKey, p.preferred[i] as Int32Array, 'ipa-preferred', i), t.weight));
  cls.antiAffinityPreferred.forEach((t, i) => accumulate(ctx, 'ipa-score', c.score, t.topoKey, domainCounts(ctx, t.topoKey, p.antiPreferred[i] as Int32Array, 'ipa-anti-preferred', i), -t.weight));
  for (const { t, mult } of existing.scoring) accumulate(ctx, 'ipa-score', c.score, (st.tables.terms[t] as TermDef).topoKey, termDomains(st, t), mult);
  c.scoreActive = c.score.some((e) => anyNonZero(e.arr));
  c.filterActive = c.existingAnti.length + c.affinity.length + c.anti.length > 0;
  return c;
}

/** Filter: 0 fits, 1 existing pods' anti-affinity, 2 affinity, 3 anti-affinity. */
export function affinityFilter(c: AffinityCycle, node: number): number {
  for (const e of c.existingAnti) {
    const d = e.col[node] as number;
    if (d !== 0 && (e.arr[d] as number) > 0) return 1;
  }
  if (c.affinity.length > 0) {
    let podsExist = true;
    for (const e of c.affinity) {
      const d = e.col[node] as number;
      if (d === 0) return 2;
      if ((e.arr[d] as number) <= 0) podsExist = false;
    }
    if (!podsExist && !(!c.affinityAnyExists && c.selfMatchesAll)) return 2;
  }
  for (const e of c.anti) {
    const d = e.col[node] as number;
    if (d !== 0 && (e.arr[d] as number) > 0) return 3;
  }
  return 0;
}

/** Score (raw) for one node. */
export function affinityRawScore(c: AffinityCycle, node: number): number {
  let s = 0;
  for (const e of c.score) {
    const d = e.col[node] as number;
    if (d !== 0) s += e.arr[d] as number;
  }
  return s;
}

/**
 * NormalizeScore for one raw score, given the extremes over the scored nodes:
 * their own lowest and highest raw scores (scoring.go since v1.21, #98096;
 * before, the range was widened to hold 0). All scores alike give 0.
 */
export function affinityNormalized(raw: number, min: number, max: number): number {
  const diff = max - min;
  return diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((raw - min) / diff)) : 0;
}
