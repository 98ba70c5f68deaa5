// InterPodAffinity (filter + score, weight 2).
// Filter, in upstream's order: (1) placed pods' required anti-affinity terms
// that select the incoming pod; (2) the incoming pod's required affinity (every
// term needs a matching pod in the node's domain, except for the first pod of
// a group that matches its own terms); (3) the incoming pod's required
// anti-affinity.
// Score: Σ per topology key of the domain's weight: the incoming pod's preferred
// (anti-)affinity against placed pods, plus placed pods' required affinity
// (hardPodAffinityWeight 1) and preferred (anti-)affinity against the incoming
// pod; normalized by (s - min) / (max - min) with min ≤ 0 ≤ max.
import type { ThreadCtx } from '../context.js';
import { domainCounts, matchingLabelSets, memoize } from '../context.js';
import { matchLabelSelector } from '../labels.js';
import type { IncomingTerm, PodClass, SchedState, TermDef } from '../state.js';
import { TermKind } from '../state.js';
import { MAX_NODE_SCORE } from './helper.js';

export const IPA_WEIGHT = 2;
export const HARD_POD_AFFINITY_WEIGHT = 1;
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";

/** Per topology key, a value per domain (domain 0, "label absent", never counts). */
export interface KeyedDomains {
  k: number;
  arr: Int32Array;
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
  return memoize(ctx, `ipa-existing:${cls.labelSet}`, () => {
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

function termDomains(st: SchedState, t: number): Int32Array {
  const off = st.termDomOff[t] as number;
  return st.termDom.subarray(off, st.termDomOff[t + 1] as number);
}

function accumulate(list: KeyedDomains[], st: SchedState, k: number, src: ArrayLike<number>, mult: number): void {
  let e = list.find((x) => x.k === k);
  if (!e) {
    e = { k, arr: new Int32Array(st.tables.topoDomains[k] as number) };
    list.push(e);
  }
  for (let d = 1; d < e.arr.length; d++) e.arr[d] = (e.arr[d] as number) + mult * (src[d] as number);
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
  return memoize(ctx, `ipa-plan:${classId}`, () => {
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
  const c: AffinityCycle = { existingAnti: [], affinity: [], affinityAnyExists: false, selfMatchesAll: p.selfMatchesAll, anti: [], score: [], scoreActive: false };
  for (const t of existing.requiredAnti) accumulate(c.existingAnti, st, (st.tables.terms[t] as TermDef).topoKey, termDomains(st, t), 1);
  for (const t of cls.affinityRequired) {
    const arr = domainCounts(st, t.topoKey, p.affinityAll);
    arr[0] = 0;
    if (arr.some((v) => v > 0)) c.affinityAnyExists = true;
    c.affinity.push({ k: t.topoKey, arr });
  }
  cls.antiAffinityRequired.forEach((t, i) => {
    const arr = domainCounts(st, t.topoKey, p.anti[i] as Int32Array);
    arr[0] = 0;
    c.anti.push({ k: t.topoKey, arr });
  });
  cls.affinityPreferred.forEach((t, i) => accumulate(c.score, st, t.topoKey, domainCounts(st, t.topoKey, p.preferred[i] as Int32Array), t.weight));
  cls.antiAffinityPreferred.forEach((t, i) => accumulate(c.score, st, t.topoKey, domainCounts(st, t.topoKey, p.antiPreferred[i] as Int32Array), -t.weight));
  for (const { t, mult } of existing.scoring) accumulate(c.score, st, (st.tables.terms[t] as TermDef).topoKey, termDomains(st, t), mult);
  c.scoreActive = c.score.some((e) => e.arr.some((v) => v !== 0));
  return c;
}

/** Filter: 0 fits, 1 existing pods' anti-affinity, 2 affinity, 3 anti-affinity. */
export function affinityFilter(st: SchedState, c: AffinityCycle, node: number): number {
  const { N } = st;
  for (const e of c.existingAnti) if ((e.arr[st.topo[e.k * N + node] as number] as number) > 0) return 1;
  if (c.affinity.length > 0) {
    let podsExist = true;
    for (const e of c.affinity) {
      const d = st.topo[e.k * N + node] as number;
      if (d === 0) return 2;
      if ((e.arr[d] as number) <= 0) podsExist = false;
    }
    if (!podsExist && !(!c.affinityAnyExists && c.selfMatchesAll)) return 2;
  }
  for (const e of c.anti) if ((e.arr[st.topo[e.k * N + node] as number] as number) > 0) return 3;
  return 0;
}

/** Score (raw) for one node. */
export function affinityRawScore(st: SchedState, c: AffinityCycle, node: number): number {
  const { N } = st;
  let s = 0;
  for (const e of c.score) s += e.arr[st.topo[e.k * N + node] as number] as number;
  return s;
}

/** NormalizeScore in place. */
export function affinityNormalize(scores: Int32Array, count: number): void {
  let max = 0;
  let min = 0;
  for (let i = 0; i < count; i++) {
    const s = scores[i] as number;
    if (s > max) max = s;
    if (s < min) min = s;
  }
  const diff = max - min;
  for (let i = 0; i < count; i++) scores[i] = diff > 0 ? Math.trunc(MAX_NODE_SCORE * (((scores[i] as number) - min) / diff)) : 0;
}
