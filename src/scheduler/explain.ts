// `--explain`: every node's filter outcome and every score plugin's normalized
// score for one pod against the current state, all nodes scored (100%).
import { createThreadCtx } from './context.js';
import type { ScorePluginName } from './framework.js';
import { SCORE_PLUGINS, filterShard, globalBufLength, mergeStats, prepareCycle, reasonStrings, scoreShard, shardBuf, shardBufBytes, shardStats, takeShards } from './framework.js';
import { REASON_PREFILTER_SKIPPED, REASON_TERMS_CONFLICT } from './plugins/nodeaffinity.js';
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
  const N = st.N;
  const buf = shardBuf(st, new ArrayBuffer(shardBufBytes(st, N)), N);
  const takes = new Int32Array(1);
  const g = new Float64Array(globalBufLength(st));
  const reasons = new Int32Array(N);
  const c = prepareCycle(ctx, pod);
  filterShard(ctx, c, 0, 0, N, N, buf, reasons);
  const { count } = takeShards([buf], [{ from: 0, to: N }], N, takes);
  const perPlugin = new Int32Array(SCORE_PLUGINS.length * N);
  if (count > 0) {
    shardStats(c, buf, count);
    mergeStats(st, c, [buf], takes, g);
    scoreShard(c, buf, count, g, perPlugin);
  }
  const result: NodeExplanation[] = st.tables.nodeNames.map((name, n) => ({ name, feasible: reasons[n] === 0, reasons: reasonStrings(st, reasons[n] as number), scores: {}, total: null }));
  // The nodes NodeAffinity's PreFilter leaves out are never filtered: say so, as the scheduler's message does.
  const pf = c.cls.preFilter;
  if (pf !== null) {
    const listed = new Set(pf.nodes);
    result.forEach((e, n) => { if (pf.conflict || !listed.has(n)) e.reasons = [pf.conflict ? REASON_TERMS_CONFLICT : REASON_PREFILTER_SKIPPED]; });
  }
  for (let i = 0; i < count; i++) {
    const e = result[buf.node[i] as number] as NodeExplanation;
    let total = 0;
    SCORE_PLUGINS.forEach(([plugin, weight], p) => {
      const v = perPlugin[p * N + i] as number;
      e.scores[plugin] = v;
      total += weight * v;
    });
    e.total = total;
  }
  return result;
}
