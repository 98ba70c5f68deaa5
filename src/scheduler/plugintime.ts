// Per-plugin time share, sampled the way kube-scheduler samples its
// plugin_execution_duration_seconds metric (a fraction of cycles, not all):
// in one cycle of every `every`, before the real (fused) pass, an instrumented
// pass runs each Filter plugin and then each Score plugin (with its
// NormalizeScore) as its own timed loop over the same nodes the cycle examines,
// in upstream's plugin order, chunk by chunk until numToFind feasible nodes are
// found. The fused pass interleaves the plugins per node, so it cannot be timed
// per plugin without slowing it down. The separate loops cost a few cycles'
// worth per sample; the loops run them before the cycle's parallel part (no
// worker computes meanwhile) and leave their time out of the run's elapsed
// time and the cycle's latency (ScheduleResult.samplingMs says how much).
//
// What is timed is what this implementation spends per cycle: the plugins
// whose inputs never change (NodeUnschedulable, NodeName, TaintToleration,
// NodeAffinity filters; TaintToleration, NodeAffinity, ImageLocality scores)
// read a column memoized per pod spec, so their share is small by design;
// NodeResourcesFit goes through the per-node-version fit cache as the real pass
// does. The sampled pass writes nothing but that cache (the same values the
// real pass would write), so placements are the same with sampling on or off.
import { performance } from 'node:perf_hooks';
import type { ThreadCtx } from './context.js';
import type { Cycle } from './framework.js';
import { Fail, fitCodeFor, SCORE_PLUGINS } from './framework.js';
import type { SchedState } from './state.js';
import { MAX_NODE_SCORE } from './plugins/helper.js';
import { affinityFilter, affinityNormalized, affinityRawScore } from './plugins/interpodaffinity.js';
import { nodePortsFit } from './plugins/nodeports.js';
import type { SpreadCycle } from './plugins/podtopologyspread.js';
import { spreadCount, spreadFilter, spreadNormalized, spreadRawScore } from './plugins/podtopologyspread.js';

/** The default profile's Filter plugins, in upstream's order. */
export const FILTER_PLUGINS = ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity'] as const;

/** One cycle in this many is sampled by default. */
export const PLUGIN_SAMPLE_EVERY = 128;

export interface PluginTimeShare {
  sampledCycles: number;
  /** One cycle in `every` was sampled. */
  every: number;
  /** Milliseconds per extension point and plugin over the sampled cycles: "Filter/NodePorts", "Score/ImageLocality". */
  ms: Record<string, number>;
  /** ms as fractions of their sum. */
  share: Record<string, number>;
}

/** The static filters share one memoized failure code; each owns one value of its low bits. */
const STATIC_CODES = [Fail.unschedulable, Fail.nodeName, Fail.taint, Fail.nodeAffinity];
const SAMPLE_CHUNK = 256;

export class PluginTimer {
  sampled = 0;
  private readonly filterMs = new Float64Array(FILTER_PLUGINS.length);
  private readonly scoreMs = new Float64Array(SCORE_PLUGINS.length);
  private readonly alive: Int32Array;
  private readonly aliveFit: Int32Array;
  private readonly feasible: Int32Array;
  private readonly feasibleFit: Int32Array;
  private readonly scores: Int32Array;
  private readonly counts: Int32Array;
  private readonly marks: Uint8Array;

  constructor(st: SchedState, readonly every: number) {
    const { N } = st;
    this.alive = new Int32Array(N);
    this.aliveFit = new Int32Array(N);
    this.feasible = new Int32Array(N);
    this.feasibleFit = new Int32Array(N);
    this.scores = new Int32Array(N);
    this.counts = new Int32Array(N * Math.max(1, st.tables.maxSoftSpread));
    this.marks = new Uint8Array(Math.max(1, ...st.tables.topoDomains));
  }

  /** Whether the i-th cycle of the run is sampled (a fixed pattern, so runs sample the same pods). */
  wants(i: number): boolean {
    return this.every > 0 && i % this.every === 0;
  }

  /** The instrumented pass for one cycle (before its real pass). */
  sample(ctx: ThreadCtx, c: Cycle, start: number, numToFind: number): void {
    const { st } = ctx;
    const { N } = st;
    const { alive, aliveFit, feasible, feasibleFit, filterMs } = this;
    const reason = c.stat.reason;
    const ports = c.cls.ports.length > 0 ? st.tables.ports : null;
    let found = 0;
    for (let from = 0; from < N && found < numToFind; from += SAMPLE_CHUNK) {
      const to = Math.min(N, from + SAMPLE_CHUNK);
      let n = 0;
      for (let p = from; p < to; p++) {
        let node = start + p;
        if (node >= N) node -= N;
        alive[n++] = node;
      }
      for (let k = 0; k < STATIC_CODES.length; k++) {
        const code = STATIC_CODES[k] as number;
        const t0 = performance.now();
        let m = 0;
        for (let i = 0; i < n; i++) {
          const node = alive[i] as number;
          if (((reason[node] as number) & 15) !== code) alive[m++] = node;
        }
        n = m;
        filterMs[k] = (filterMs[k] as number) + (performance.now() - t0);
      }
      let t0 = performance.now();
      if (ports !== null) {
        let m = 0;
        for (let i = 0; i < n; i++) {
          const node = alive[i] as number;
          if (nodePortsFit(ports, st.portSlot, node * st.tables.portSlots, st.portCount[node] as number, c.cls.ports)) alive[m++] = node;
        }
        n = m;
      }
      let t1 = performance.now();
      filterMs[4] = (filterMs[4] as number) + (t1 - t0);
      let m = 0;
      for (let i = 0; i < n; i++) {
        const node = alive[i] as number;
        const fc = fitCodeFor(ctx, c, node);
        if (fc >= 0) { alive[m] = node; aliveFit[m] = fc; m++; }
      }
      n = m;
      t0 = performance.now();
      filterMs[5] = (filterMs[5] as number) + (t0 - t1);
      if (c.spreadHard.length > 0) {
        m = 0;
        for (let i = 0; i < n; i++) {
          const node = alive[i] as number;
          if (spreadFilter(c.spreadHard, node) === 0) { alive[m] = node; aliveFit[m] = aliveFit[i] as number; m++; }
        }
        n = m;
      }
      t1 = performance.now();
      filterMs[6] = (filterMs[6] as number) + (t1 - t0);
      if (c.affinity.filterActive) {
        m = 0;
        for (let i = 0; i < n; i++) {
          const node = alive[i] as number;
          if (affinityFilter(c.affinity, node) === 0) { alive[m] = node; aliveFit[m] = aliveFit[i] as number; m++; }
        }
        n = m;
      }
      filterMs[7] = (filterMs[7] as number) + (performance.now() - t1);
      for (let i = 0; i < n && found < numToFind; i++) {
        feasible[found] = alive[i] as number;
        feasibleFit[found] = aliveFit[i] as number;
        found++;
      }
    }
    if (found > 0) this.score(c, found);
    this.sampled++;
  }

  /** Each Score plugin with its NormalizeScore over the feasible nodes, in SCORE_PLUGINS order. */
  private score(c: Cycle, found: number): void {
    const { feasible, feasibleFit, scores, scoreMs } = this;
    const { taintCount, nodeAffinity, image } = c.stat;
    // TaintToleration and NodeAffinity: raw from the memoized columns, DefaultNormalizeScore (reversed for taints).
    for (const [k, col, reverse] of [[0, taintCount, true], [1, nodeAffinity, false]] as const) {
      const t0 = performance.now();
      let max = 0;
      for (let i = 0; i < found; i++) { const v = col[feasible[i] as number] as number; if (v > max) max = v; }
      for (let i = 0; i < found; i++) {
        const v = col[feasible[i] as number] as number;
        const s = max === 0 ? 0 : Math.trunc((MAX_NODE_SCORE * v) / max);
        scores[i] = reverse ? MAX_NODE_SCORE - s : s;
      }
      scoreMs[k] = (scoreMs[k] as number) + (performance.now() - t0);
    }
    let t0 = performance.now();
    for (let i = 0; i < found; i++) scores[i] = (feasibleFit[i] as number) >> 7;
    let t1 = performance.now();
    scoreMs[2] = (scoreMs[2] as number) + (t1 - t0);
    this.spreadScore(c, found);
    t0 = performance.now();
    scoreMs[3] = (scoreMs[3] as number) + (t0 - t1);
    const a = c.affinity;
    if (a.scoreActive) {
      let min = 0;
      let max = 0;
      for (let i = 0; i < found; i++) {
        const raw = affinityRawScore(a, feasible[i] as number);
        scores[i] = raw;
        if (raw < min) min = raw;
        if (raw > max) max = raw;
      }
      for (let i = 0; i < found; i++) scores[i] = affinityNormalized(scores[i] as number, min, max);
    }
    t1 = performance.now();
    scoreMs[4] = (scoreMs[4] as number) + (t1 - t0);
    for (let i = 0; i < found; i++) scores[i] = (feasibleFit[i] as number) & 127;
    t0 = performance.now();
    scoreMs[5] = (scoreMs[5] as number) + (t0 - t1);
    for (let i = 0; i < found; i++) scores[i] = image[feasible[i] as number] as number;
    scoreMs[6] = (scoreMs[6] as number) + (performance.now() - t0);
  }

  /** PodTopologySpread's PreScore-side counts, weights log(size + 2), raw scores and NormalizeScore. */
  private spreadScore(c: Cycle, found: number): void {
    const soft = c.spreadSoft;
    const C = soft.length;
    if (C === 0) return;
    const { feasible, scores, counts, marks } = this;
    const explicit = c.cls.spreadExplicit;
    let counted = 0;
    for (let i = 0; i < found; i++) {
      let ignored = false;
      for (let k = 0; k < C; k++) {
        const cnt = spreadCount(soft[k] as SpreadCycle, feasible[i] as number);
        counts[k * found + i] = cnt;
        if (cnt < 0 && explicit) ignored = true;
      }
      if (!ignored) counted++;
    }
    const weights = new Float64Array(C);
    for (let k = 0; k < C; k++) {
      const sc = soft[k] as SpreadCycle;
      if (sc.hostname) { weights[k] = Math.log(counted + 2); continue; }
      marks.fill(0);
      let size = 0;
      for (let i = 0; i < found; i++) {
        const d = sc.col[feasible[i] as number] as number;
        if (marks[d] === 0) { marks[d] = 1; size++; }
      }
      weights[k] = Math.log(size + 2);
    }
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (let i = 0; i < found; i++) {
      const raw = spreadRawScore(soft, explicit, weights, counts, i, found);
      scores[i] = raw;
      if (raw < 0) continue;
      if (raw < min) min = raw;
      if (raw > max) max = raw;
    }
    for (let i = 0; i < found; i++) scores[i] = spreadNormalized(scores[i] as number, min, max);
  }

  result(): PluginTimeShare {
    const ms: Record<string, number> = {};
    FILTER_PLUGINS.forEach((p, k) => { ms[`Filter/${p}`] = this.filterMs[k] as number; });
    SCORE_PLUGINS.forEach(([p], k) => { ms[`Score/${p}`] = this.scoreMs[k] as number; });
    const total = Object.values(ms).reduce((s, v) => s + v, 0);
    const share = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, total > 0 ? v / total : 0]));
    return { sampledCycles: this.sampled, every: this.every, ms, share };
  }
}
