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
}

export function createThreadCtx(st: SchedState): ThreadCtx {
  return { st, labels: null, taints: null, memo: new Map() };
}

export function allNodeLabels(ctx: ThreadCtx): Record<string, string>[] {
  ctx.labels ??= Array.from({ length: ctx.st.N }, (_, i) => nodeLabels(ctx.st, i));
  return ctx.labels;
}

export function allNodeTaints(ctx: ThreadCtx): Taint[][] {
  ctx.taints ??= Array.from({ length: ctx.st.N }, (_, i) => nodeTaints(ctx.st, i));
  return ctx.taints;
}

export function memoize<T>(ctx: ThreadCtx, key: string, make: () => T): T {
  let v = ctx.memo.get(key) as T | undefined;
  if (v === undefined) {
    v = make();
    ctx.memo.set(key, v);
  }
  return v;
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

/** Σ over label sets of placed pods per domain of topology key k: out[d]. */
export function domainCounts(st: SchedState, k: number, sets: Int32Array): Int32Array {
  const D = st.tables.topoDomains[k] as number;
  const out = new Int32Array(D);
  const base = st.lsDomOff[k] as number;
  for (const ls of sets) {
    const o = base + ls * D;
    for (let d = 0; d < D; d++) out[d] = (out[d] as number) + (st.lsDom[o + d] as number);
  }
  return out;
}
