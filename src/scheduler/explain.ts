// `--explain`: every node's filter outcome and every score plugin's normalized
// score for one pod against the current state, all nodes scored (100%).
import { createThreadCtx } from './context.js';
import type { ScorePluginName } from './framework.js';
import { SCORE_PLUGINS, entryStride, evaluateRange, prepareCycle, reasonStrings, scoreChosen } from './framework.js';
import type { SchedState } from './state.js';

export interface NodeExplanation {
  name: string;
  feasible: boolean;
  reasons: string[];
  /** Normalized 0-100 per score plugin, before weight; empty for an infeasible node. */
  scores: Partial<Record<ScorePluginName, number>>;
  /** Σ weight × score; null for an infeasible node. */
  total: number | null;
}

export function explainPod(st: SchedState, pod: number): NodeExplanation[] {
  const ctx = createThreadCtx(st);
  const out = new Int32Array(st.N * entryStride(st));
  const reasons = new Int32Array(st.N);
  const c = prepareCycle(ctx, pod);
  const [, feasible] = evaluateRange(ctx, c, 0, 0, st.N, st.N, out, 0, reasons);
  const S = entryStride(st);
  const at = Int32Array.from({ length: feasible }, (_, i) => i * S);
  const scored = scoreChosen(st, c, out, at, feasible, true);
  const result: NodeExplanation[] = st.tables.nodeNames.map((name, n) => ({ name, feasible: reasons[n] === 0, reasons: reasonStrings(st, reasons[n] as number), scores: {}, total: null }));
  for (let i = 0; i < scored.count; i++) {
    const e = result[scored.nodes[i] as number] as NodeExplanation;
    for (const [plugin] of SCORE_PLUGINS) e.scores[plugin] = scored.perPlugin[plugin][i] as number;
    e.total = scored.total[i] as number;
  }
  return result;
}
