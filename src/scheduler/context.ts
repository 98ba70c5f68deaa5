// Per-thread memo over one SchedState: everything that depends only on static
// node data or on the (fixed) label-set table, computed once per thread and
// reused across scheduling cycles. Each worker builds its own from the same
// shared memory, so every thread derives identical values.
import { matchLabelSelector, signature } from './labels.js';
import type { SchedState } from './state.js';
import { nodeLabels, nodeTaints } from './state.js';
import type { LabelSelector, Taint } from './types.js';

export interface ThreadCtx {
  st: SchedState;
  labels: Record<string, string>[] | null;
  taints: Taint[][] | null;
  memo: Map<string, unknown>;
  /** Per-class memo (memoClass): arrays indexed by class id, one per kind, so a cycle's lookups allocate nothing. */
  classMemo: Map<string, unknown[]>;
  /** Per-cycle working arrays (scratchCounts), reused by the next cycle on this thread. */
  scratch: Map<string, Int32Array[]>;
  /** Resource columns as their own views (state.ts keeps them column-major): cpu and memory. */
  allocCpu: Float64Array;
  allocMem: Float64Array;
  reqCpu: Float64Array;
  reqMem: Float64Array;
  nonZeroCpu: Float64Array;
  nonZeroMem: Float64Array;
  /** Per topology key: the column topo[k * N ... (k + 1) * N) as its own view. */
  topoCols: Int32Array[];
  /** Per label set: the row lsNode[ls * N ... (ls + 1) * N). */
  lsRows: Int32Array[];
  /**
   * The run's percentageOfNodesToScore (0: adaptive), set by whoever runs its
   * cycles on this thread: a cycle NodeAffinity's PreFilter narrowed finds its
   * share of its own nodes, not of all of them. NaN until set, so a cycle that
   * needs it on a thread no run configured fails instead of guessing.
   */
  percentage: number;
}

export function createThreadCtx(st: SchedState): ThreadCtx {
  const { N } = st;
  return {
    st, labels: null, taints: null, memo: new Map(), classMemo: new Map(), scratch: new Map(),
    allocCpu: st.alloc.subarray(0, N), allocMem: st.alloc.subarray(N, 2 * N),
    reqCpu: st.requested.subarray(0, N), reqMem: st.requested.subarray(N, 2 * N),
    nonZeroCpu: st.nonZero.subarray(0, N), nonZeroMem: st.nonZero.subarray(N, 2 * N),
    topoCols: st.tables.topoKeys.map((_, k) => st.topo.subarray(k * N, (k + 1) * N)),
    lsRows: st.tables.labelSets.map((_, ls) => st.lsNode.subarray(ls * N, (ls + 1) * N)),
    percentage: Number.NaN,
  };
}

export function allNodeLabels(ctx: ThreadCtx): Record<string, string>[] {
  ctx.labels ??= Array.from({ length: ctx.st.N }, (_, i) => nodeLabels(ctx.st, i));
  return ctx.labels;
}

export function allNodeTaints(ctx: ThreadCtx): Taint[][] {
  ctx.taints ??= Array.from({ length: ctx.st.N }, (_, i) => nodeTaints(ctx.st, i));
  return ctx.taints;
}

/**
 * memoize with at most `capacity` values of one kind, least recently used out:
 * for values made per distinct input that a run may bring without bound.
 * `kind` names the cache in ctx.memo (every cycle looks it up: no key built).
 */
export function memoizeBounded<T>(ctx: ThreadCtx, kind: string, key: string, capacity: number, make: () => T): T {
  const cache = memoize(ctx, kind, () => new Map<string, T>());
  let v = cache.get(key);
  if (v !== undefined) {
    // Most recently used last.
    cache.delete(key);
    cache.set(key, v);
    return v;
  }
  v = make();
  while (cache.size >= capacity) cache.delete(cache.keys().next().value as string);
  cache.set(key, v);
  return v;
}

export function memoize<T>(ctx: ThreadCtx, key: string, make: () => T): T {
  let v = ctx.memo.get(key) as T | undefined;
  if (v === undefined) {
    v = make();
    ctx.memo.set(key, v);
  }
  return v;
}

/** memoize keyed by (kind, class id): kind is a constant string, so the lookup is two array reads. */
export function memoClass<T>(ctx: ThreadCtx, kind: string, classId: number, make: () => T): T {
  let byClass = ctx.classMemo.get(kind);
  if (byClass === undefined) { byClass = []; ctx.classMemo.set(kind, byClass); }
  let v = byClass[classId] as T | undefined;
  if (v === undefined) {
    v = make();
    byClass[classId] = v;
  }
  return v;
}

/**
 * A working array of `length` for this cycle, keyed by (kind, index): the same
 * array every cycle on this thread, contents left from the last one. A thread
 * runs one cycle at a time and nothing keeps a cycle's arrays past it, so
 * reuse is safe; it saves allocating per pod what a hostname key makes
 * O(nodes) long (an allocation of that size measured slower than the sums).
 */
export function scratchCounts(ctx: ThreadCtx, kind: string, index: number, length: number): Int32Array {
  let byIndex = ctx.scratch.get(kind);
  if (byIndex === undefined) { byIndex = []; ctx.scratch.set(kind, byIndex); }
  let a = byIndex[index];
  if (a === undefined || a.length !== length) { a = new Int32Array(length); byIndex[index] = a; }
  return a;
}

/** Label sets (namespace + labels of placed pods) that a term's namespaces and selector select. */
export function matchingLabelSets(ctx: ThreadCtx, namespaces: string[], selector: LabelSelector | null): Int32Array {
  return memoize(ctx, `ls:${signature({ namespaces, selector })}`, () => {
    const out: number[] = [];
    ctx.st.tables.labelSets.forEach((ls, i) => {
      if (namespaces.includes(ls.namespace) && matchLabelSelector(selector, ls.labels)) out.push(i);
    });
    return Int32Array.from(out);
  });
}

/**
 * Σ over label sets of placed pods per domain of topology key k: out[d]. With
 * a single label set this is a view into the shared counts (no copy, and it
 * must never be written), otherwise the (kind, index) scratch array (see
 * scratchCounts); callers treat domain 0 ("label absent") themselves.
 */
export function domainCounts(ctx: ThreadCtx, k: number, sets: Int32Array, kind: string, index: number): Int32Array {
  const { st } = ctx;
  const D = st.tables.topoDomains[k] as number;
  const base = st.lsDomOff[k] as number;
  if (sets.length === 1) {
    const o = base + (sets[0] as number) * D;
    return st.lsDom.subarray(o, o + D);
  }
  const out = scratchCounts(ctx, kind, index, D).fill(0);
  for (const ls of sets) {
    const o = base + ls * D;
    for (let d = 0; d < D; d++) out[d] = (out[d] as number) + (st.lsDom[o + d] as number);
  }
  return out;
}
