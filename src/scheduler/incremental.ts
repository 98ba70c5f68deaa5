// The incremental engine: the same cycle as the full pass (framework.ts) when
// every node is scored, with only the work whose inputs changed.
//
// Between two pods of one class (same spec), a node's Filter outcome and raw
// dynamic scores change only when
//   - a pod was committed to it (its resources, ports, per-node pod counts), or
//   - a per-domain count the class reads changed in the node's domain (a
//     matching pod landed in its zone: PodTopologySpread's domain counts,
//     InterPodAffinity's term and label-set counts), or
//   - a per-cycle scalar changed (a hard spread constraint's skew limit, which
//     moves with the global minimum; whether any pod matches the required
//     affinity; whether InterPodAffinity scores at all): then every node.
// So per class the engine keeps every node's outcome as columns (evaluateNode),
// its total, and a snapshot of the per-domain counts it last read. A cycle
// re-evaluates the nodes committed to since (the run's placements are the
// commit log), diffs the counts against the snapshot and re-evaluates the
// nodes of the domains that moved (for a soft spread count only the count and
// the total change, which is most of what a Deployment's pods do), recomputes
// the normalisation over the columns (columnStats + mergeStats, exactly the
// full pass's), and re-totals only those nodes when the normalisation held
// (every node otherwise, from cached fixed parts when only the spread and
// affinity extremes moved). The pick replays selectHost's seeded reservoir
// sampling over the totals in rotated order: the same node and the same random
// draws as the full pass, so placements are identical to the reference path's
// (a test compares them over every workload).
//
// It applies at 100%, and below 100% to the classes whose last cycle found
// fewer feasible nodes than the percentage asks for: such a cycle examines
// every node, which is exactly the 100% cycle (a Deployment pinned to a few
// nodes, or one that no longer fits anywhere, is most of an adaptive run's
// node visits). If such a class has numToFind feasible nodes again, the
// engine hands the cycle back before any draw, and takes the class's cycles
// again only after a full pass examined every node once more. (A
// window of the rotated order, which moves every pod, stays with the full
// pass: reading it from lazily updated columns measured slower than the
// fused pass, 35k against 46k pods/s at 5,000 nodes.) Spread extremes must
// come from buckets (mergeStats' fast case: at most one hostname and one
// other soft constraint; the system defaults are that); other cycles take
// the full pass.
// Class state is kept for at most MAX_CACHE_BYTES, least recently used first
// out: manifests may have one class per pod.
import type { ThreadCtx } from './context.js';
import { memoize } from './context.js';
import type { Cycle, Decision, ShardBuf } from './framework.js';
import { ColumnStats, countCodeRuns, entryFixed, entrySpreadRaw, entryVarying, evaluateNode, globalBufLength, mergeStats, normalisation, reasonCounts, sameFixedParts, sameNormalisation, shardBuf, shardBufBytes } from './framework.js';
import type { SpreadCycle } from './plugins/podtopologyspread.js';
import type { SchedState } from './state.js';
import { plainCycle } from './state.js';

/** Class state the engine keeps at most (each class: about 28 bytes per node). */
export const MAX_CACHE_BYTES = 256 * 1024 * 1024;
/** Past this many commits since a class's last cycle, re-evaluating every node is no dearer than tracking them. */
const FULL_REFRESH_FRACTION = 0.5;

/** Entries a ring of the latest commits needs for cycle() at N nodes: more than it ever reads back. */
export function ringEntries(N: number): number {
  return Math.floor(FULL_REFRESH_FRACTION * N) + 2;
}

/** A per-domain count array a cycle reads, with what a change in it invalidates. */
interface DomainInput {
  k: number;
  arr: Int32Array;
  /**
   * A filter reads only whether a domain's count is above this (the skew
   * limit of a hard spread constraint, 0 for InterPodAffinity's filters): only
   * a change of that verdict matters. null: the count itself is read.
   */
  above: number | null;
  /** Index of the soft spread constraint whose count it is (only the count and the total move), or -1 (the node's whole outcome). */
  soft: number;
}

function domainInputs(c: Cycle): DomainInput[] {
  const out: DomainInput[] = [];
  for (const h of c.spreadHard) out.push({ k: h.def.topoKey, arr: h.domCount as Int32Array, above: h.limit, soft: -1 });
  c.spreadSoft.forEach((s: SpreadCycle, i) => { if (s.domCount !== null) out.push({ k: s.def.topoKey, arr: s.domCount, above: null, soft: i }); });
  const a = c.affinity;
  for (const list of [a.existingAnti, a.affinity, a.anti]) for (const e of list) out.push({ k: e.k, arr: e.arr, above: 0, soft: -1 });
  for (const e of a.score) out.push({ k: e.k, arr: e.arr, above: null, soft: -1 });
  return out;
}

/** What a domain's count means to the nodes that read it (see DomainInput.above). */
function seen(x: DomainInput, v: number): number {
  return x.above === null ? v : v > x.above ? 1 : 0;
}

/** The per-cycle values every node's outcome depends on, and the inputs' shape. */
function scalars(ctx: ThreadCtx, c: Cycle, inputs: DomainInput[]): number[] {
  const a = c.affinity;
  return [
    // Per-node domains are not diffed (see diff): a limit of theirs that moves changes nodes no commit touched.
    ...c.spreadHard.map((h) => (domainNodes(ctx, h.def.topoKey).unique ? h.limit : 0)),
    a.affinityAnyExists ? 1 : 0, a.scoreActive ? 1 : 0,
    a.existingAnti.length, a.affinity.length, a.anti.length, a.score.length, ...inputs.map((x) => x.k),
  ];
}

/** Nodes per domain of one topology key (CSR), and whether no two nodes share a domain. */
interface DomainNodes {
  start: Int32Array;
  nodes: Int32Array;
  /** Every domain holds at most one node (hostname): its counts move only with commits to that node. */
  unique: boolean;
}

function domainNodes(ctx: ThreadCtx, k: number): DomainNodes {
  return memoize(ctx, `domain-nodes:${k}`, () => {
    const { st } = ctx;
    const { N } = st;
    const D = st.tables.topoDomains[k] as number;
    const col = ctx.topoCols[k] as Int32Array;
    const start = new Int32Array(D + 1);
    for (let n = 0; n < N; n++) { const i = (col[n] as number) + 1; start[i] = (start[i] as number) + 1; }
    let unique = true;
    for (let d = 1; d <= D; d++) {
      if (d >= 2 && (start[d] as number) > 1) unique = false;
      start[d] = (start[d] as number) + (start[d - 1] as number);
    }
    const fill = start.slice(0, D);
    const nodes = new Int32Array(N);
    for (let n = 0; n < N; n++) {
      const d = col[n] as number;
      nodes[fill[d] as number] = n;
      fill[d] = (fill[d] as number) + 1;
    }
    return { start, nodes, unique };
  });
}

/** One class's columns over every node, as of its last cycle. */
interface ClassState {
  /** Commits (entries of the run's placements) already folded in. */
  logPos: number;
  reason: Int32Array;
  fit: Int32Array;
  ipa: Int32Array;
  spread: Int32Array;
  /** Σ weight × normalised score per node, under `g`; NaN for an infeasible node. */
  total: Float64Array;
  /** The total's parts that hold while only the spread and affinity extremes move (entryFixed, entrySpreadRaw). */
  fixed: Float64Array;
  spreadRaw: Float64Array;
  /** Per block of nodes (by node id), the highest total and how many hold it: what pick may skip. */
  blocks: BlockMaxima;
  stats: ColumnStats;
  /** The normalisation the totals were computed under (NaN: none valid). */
  g: Float64Array;
  snapshot: Int32Array[];
  scalars: number[];
}

/** A class handed back this many times waits for 2^this sparse full passes in a row before the engine takes it again. */
const MAX_BACKOFF_SHIFT = 6;
/** Nodes per block of ClassState.blockMax. */
const BLOCK_SHIFT = 6;
const MARK_ENTRY = 2;
const MARK_TOTAL = 1;

/**
 * Below 100%, which classes few enough nodes fit that their cycle examines
 * every node (and so is the 100% cycle): a class whose full pass found fewer
 * than numToFind feasible nodes is sparse from its next pod on, until a cycle
 * finds numToFind again (a hand-back). A class handed back h times must come
 * out sparse 2^h times in a row (at most 64) first: a hard spread
 * constraint's feasible domains come and go with its minimum, and each
 * hand-back costs a refresh on top of the full pass. A pure function of the
 * decisions it is shown, so the batched mode's loops (batch.ts) can keep the
 * same one with or without the engine.
 */
export class SparseClasses {
  private readonly sparse = new Set<number>();
  /** Per class: full-pass cycles in a row that examined every node, and hand-backs so far. */
  private readonly streak = new Map<number, number>();
  private readonly handBacks = new Map<number, number>();

  has(classId: number): boolean {
    return this.sparse.has(classId);
  }

  /** After a cycle below 100% of a class not (yet) sparse. */
  observe(classId: number, numToFind: number, d: Decision): void {
    if (d.feasible >= numToFind) { this.streak.delete(classId); return; }
    const run = (this.streak.get(classId) ?? 0) + 1;
    this.streak.set(classId, run);
    if (run >= 1 << Math.min(this.handBacks.get(classId) ?? 0, MAX_BACKOFF_SHIFT)) this.sparse.add(classId);
  }

  /** A sparse class's cycle found numToFind feasible nodes: not sparse until observe says so again. */
  handBack(classId: number): void {
    this.sparse.delete(classId);
    this.streak.delete(classId);
    this.handBacks.set(classId, (this.handBacks.get(classId) ?? 0) + 1);
  }
}

export class IncrementalEngine {
  private readonly classes = new Map<number, ClassState>();
  private readonly capacity: number;
  private readonly statsBuf: ShardBuf;
  private readonly one = Int32Array.of(1);
  private readonly g: Float64Array;
  private readonly mark: Uint8Array;
  private readonly dirty: Int32Array;
  private dirtyCount = 0;
  /** Cycles answered, and those that re-evaluated every node (handed-back cycles included). */
  cycles = 0;
  fullRefreshes = 0;
  /** Classes whose state was dropped to stay within the budget. */
  evictions = 0;

  constructor(private readonly st: SchedState, cacheBytes = MAX_CACHE_BYTES) {
    const { N } = st;
    this.statsBuf = shardBuf(st, new ArrayBuffer(shardBufBytes(st, 1)), 1);
    this.g = new Float64Array(globalBufLength(st));
    this.mark = new Uint8Array(N);
    this.dirty = new Int32Array(N);
    const perClass = N * (4 * 3 + 4 * Math.max(1, st.tables.maxSoftSpread) + 3 * 8) + 8 * globalBufLength(st);
    this.capacity = Math.max(1, Math.floor(cacheBytes / perClass));
  }

  /** Below 100%: the classes whose last full pass examined every node (see SparseClasses). */
  readonly sparse = new SparseClasses();
  /** Cycles handed back below 100%: the class had numToFind feasible nodes again. */
  handedBack = 0;

  /** Whether a cycle can run here: every node scored or a sparse class, spread extremes from buckets, and a plain cycle (state.ts plainCycle). */
  applies(c: Cycle, numToFind: number): boolean {
    return (numToFind >= this.st.N || this.sparse.has(c.classId)) && (c.spreadSoft.length === 0 || c.bucketed) && plainCycle(c.cls);
  }

  /** After a full-pass cycle below 100% (see SparseClasses.observe). */
  adopt(c: Cycle, numToFind: number, d: Decision): void {
    this.sparse.observe(c.classId, numToFind, d);
  }

  /**
   * One cycle. `log` holds the node every earlier pod of the run was
   * committed to (-1: none), `logLen` of them: the run's placements, or a
   * ring of more than FULL_REFRESH_FRACTION × N of the latest (pod i at
   * i % length: no longer stretch is ever read, see RING_ENTRIES). Below
   * 100% (numToFind < N), null when the class has numToFind feasible nodes:
   * the cycle is then the full pass's, and nothing was drawn from rng.
   */
  cycle(ctx: ThreadCtx, c: Cycle, start: number, numToFind: number, rng: () => number, log: Int32Array, logLen: number): Decision | null {
    const { st } = this;
    const { N } = st;
    const inputs = domainInputs(c);
    const now = scalars(ctx, c, inputs);
    let s = this.classes.get(c.classId);
    if (s !== undefined) {
      // Most recently used last.
      this.classes.delete(c.classId);
      this.classes.set(c.classId, s);
    }
    const full = s === undefined || logLen - s.logPos > FULL_REFRESH_FRACTION * N || !sameNumbers(s.scalars, now);
    if (s === undefined) s = this.create(c, inputs, now);
    if (full) {
      this.fullRefreshes++;
      s.stats.clear();
      for (let n = 0; n < N; n++) {
        evaluateNode(ctx, c, n, s.reason, s.fit, s.ipa, s.spread);
        s.stats.add(n, s.reason, s.ipa, s.spread);
      }
      inputs.forEach((x, i) => { const snap = s.snapshot[i] as Int32Array; for (let d = 0; d < snap.length; d++) snap[d] = seen(x, x.arr[d] as number); });
      s.scalars = now;
      s.g.fill(Number.NaN);
    } else {
      for (let p = s.logPos; p < logLen; p++) {
        const n = log[p % log.length] as number;
        if (n >= 0) this.touch(n, MARK_ENTRY);
      }
      inputs.forEach((x, i) => this.diff(ctx, s, x, s.snapshot[i] as Int32Array));
      for (let j = 0; j < this.dirtyCount; j++) {
        const n = this.dirty[j] as number;
        if (((this.mark[n] as number) & MARK_ENTRY) === 0) continue;
        const was = s.reason[n] === 0;
        const oldIpa = s.ipa[n] as number;
        const oldShare = was ? s.stats.share(n, s.spread) : -1;
        evaluateNode(ctx, c, n, s.reason, s.fit, s.ipa, s.spread);
        s.stats.replace(n, was, oldIpa, oldShare, s.reason, s.ipa, s.spread);
      }
    }
    s.logPos = logLen;
    const handBack = numToFind < N && s.stats.feasible >= numToFind;
    const d = handBack ? null : this.decide(c, s, full, start, rng);
    for (let j = 0; j < this.dirtyCount; j++) this.mark[this.dirty[j] as number] = 0;
    this.dirtyCount = 0;
    if (!handBack) this.cycles++;
    else {
      // The columns stay (the next adoption refreshes them from here); the totals were not brought up to date.
      this.handedBack++;
      this.sparse.handBack(c.classId);
      s.g.fill(Number.NaN);
    }
    return d;
  }

  private create(c: Cycle, inputs: DomainInput[], now: number[]): ClassState {
    const { N } = this.st;
    if (this.classes.size >= this.capacity) {
      const oldest = this.classes.keys().next().value as number;
      this.classes.delete(oldest);
      this.evictions++;
    }
    const s: ClassState = {
      logPos: 0, reason: new Int32Array(N), fit: new Int32Array(N), ipa: new Int32Array(N), spread: new Int32Array(N * Math.max(1, c.spreadSoft.length)),
      total: new Float64Array(N), fixed: new Float64Array(N), spreadRaw: new Float64Array(N), blocks: new BlockMaxima(N), stats: new ColumnStats(c, N), g: new Float64Array(globalBufLength(this.st)).fill(Number.NaN), snapshot: inputs.map((x) => new Int32Array(x.arr.length)), scalars: now,
    };
    this.classes.set(c.classId, s);
    return s;
  }

  private touch(n: number, m: number): void {
    const had = this.mark[n] as number;
    if (had === 0) this.dirty[this.dirtyCount++] = n;
    this.mark[n] = had | m;
  }

  /** Marks the nodes of every domain whose count moved since the snapshot, and takes the new counts. */
  private diff(ctx: ThreadCtx, s: ClassState, x: DomainInput, snap: Int32Array): void {
    const dn = domainNodes(ctx, x.k);
    // Per-node domains move only with commits to their node, which are marked already.
    if (dn.unique) return;
    const { N } = this.st;
    const { arr } = x;
    for (let d = 1; d < arr.length; d++) {
      const v = seen(x, arr[d] as number);
      if (v === snap[d]) continue;
      snap[d] = v;
      for (let j = dn.start[d] as number; j < (dn.start[d + 1] as number); j++) {
        const n = dn.nodes[j] as number;
        if (x.soft >= 0) {
          // A soft spread count alone: the node's filter outcome and other scores stand.
          s.spread[x.soft * N + n] = v;
          this.touch(n, MARK_TOTAL);
        } else this.touch(n, MARK_ENTRY);
      }
    }
  }

  /** Normalisation over the columns, totals where needed, and selectHost's pick (decide()'s work for one shard of every node). */
  private decide(c: Cycle, s: ClassState, full: boolean, start: number, rng: () => number): Decision {
    const { st, g } = this;
    const { N } = st;
    const feasible = s.stats.feasible;
    if (feasible <= 1) {
      // No totals this cycle: the next one computes them all.
      s.g.fill(Number.NaN);
      if (feasible === 0) return { node: -1, processed: N, feasible: 0, reasons: this.reasons(s.reason), rescored: false };
      return { node: s.reason.indexOf(0), processed: N, feasible: 1, reasons: null, rescored: false };
    }
    s.stats.write(this.statsBuf);
    mergeStats(st, c, [this.statsBuf], this.one, g);
    const held = sameNormalisation(c, g, s.g);
    const norm = normalisation(c, g);
    const { reason, fit, ipa, spread, total, fixed, spreadRaw } = s;
    const retotal = (n: number): void => {
      if (reason[n] !== 0) { total[n] = Number.NaN; return; }
      const f = entryFixed(norm, n, fit[n] as number);
      const r = entrySpreadRaw(norm, spread, n, N);
      fixed[n] = f;
      spreadRaw[n] = r;
      total[n] = f + entryVarying(norm, r, ipa[n] as number);
    };
    const { blocks } = s;
    if (held) {
      for (let j = 0; j < this.dirtyCount; j++) {
        const n = this.dirty[j] as number;
        const old = total[n] as number;
        retotal(n);
        blocks.moved(n, old, total[n] as number);
      }
    } else {
      // Only the spread or affinity extremes moved (most changes): the other parts stand for every clean node.
      if (!full && sameFixedParts(c, g, s.g)) {
        for (let j = 0; j < this.dirtyCount; j++) retotal(this.dirty[j] as number);
        for (let n = 0; n < N; n++) {
          if (reason[n] === 0 && this.mark[n] === 0) total[n] = (fixed[n] as number) + entryVarying(norm, spreadRaw[n] as number, ipa[n] as number);
        }
      } else for (let n = 0; n < N; n++) retotal(n);
      blocks.refreshAll(total);
      s.g.set(g);
    }
    const picked = pick(total, blocks, start, rng);
    return { node: picked, processed: N, feasible, reasons: null, rescored: !held && !full };
  }

  private reasons(reason: Int32Array): Map<string, number> {
    const codes = new Map<number, number>();
    countCodeRuns(codes, reason, 0, reason.length);
    return reasonCounts(this.st, codes);
  }

}

/**
 * Per block of 2^BLOCK_SHIFT nodes (by node id): the highest total (NaN:
 * stale, recomputed when read) and how many of the block's nodes hold it.
 * Kept up to date as single totals move, so pick reads a block's best, and
 * how many tie with it, without walking the block.
 */
export class BlockMaxima {
  readonly max: Float64Array;
  readonly count: Int32Array;

  constructor(readonly N: number) {
    const blocks = (N >> BLOCK_SHIFT) + 1;
    this.max = new Float64Array(blocks).fill(Number.NaN);
    this.count = new Int32Array(blocks);
  }

  /** Block b's maximum, recomputed first when stale. */
  of(total: Float64Array, b: number): number {
    const m = this.max[b] as number;
    return Number.isNaN(m) ? this.refresh(total, b) : m;
  }

  /** Recomputes block b from the totals: the highest (NaN totals, infeasible, ignored; -∞ when none) and its count. */
  refresh(total: Float64Array, b: number): number {
    const from = b << BLOCK_SHIFT;
    const to = Math.min(this.N, from + (1 << BLOCK_SHIFT));
    let m = -Infinity;
    let k = 0;
    for (let n = from; n < to; n++) {
      const t = total[n] as number;
      if (t > m) { m = t; k = 1; } else if (t === m) k++;
    }
    this.max[b] = m;
    this.count[b] = k;
    return m;
  }

  refreshAll(total: Float64Array): void {
    for (let b = 0; b < this.max.length; b++) this.refresh(total, b);
  }

  /** Node n's total moved from `old` to `now`: a new best or tie is counted in; the block goes stale once a holder fell. */
  moved(n: number, old: number, now: number): void {
    const b = n >> BLOCK_SHIFT;
    const m = this.max[b] as number;
    if (now > m) { this.max[b] = now; this.count[b] = 1; }
    else if (now === m) { if (old !== m) this.count[b] = (this.count[b] as number) + 1; }
    else if (old === m) this.max[b] = Number.NaN;
  }
}

/**
 * selectHost over every node in rotated order from `start`: the highest total
 * wins, ties by reservoir sampling with one draw per tie with the running
 * maximum, as reduceRecords does over the full pass's records. NaN totals
 * (infeasible nodes) neither win nor tie. A block whose best is below the
 * running maximum holds no record and no tie, and is skipped; a whole block
 * whose best equals it holds exactly `count` ties and nothing higher, so its
 * draws are made without walking it, and it is walked only to find the tie
 * that won a draw, if one did: the same draws, in the same order, the same pick.
 */
function pick(total: Float64Array, blocks: BlockMaxima, start: number, rng: () => number): number {
  const N = total.length;
  let best = -Infinity;
  let bestNode = -1;
  let ties = 0;
  // Rotated order: [start, N), then [0, start).
  for (const [lo, hi] of [[start, N], [0, start]] as const) {
    let n = lo;
    while (n < hi) {
      const b = n >> BLOCK_SHIFT;
      const blockStart = b << BLOCK_SHIFT;
      const blockEnd = Math.min(N, blockStart + (1 << BLOCK_SHIFT));
      const end = Math.min(hi, blockEnd);
      const m = blocks.of(total, b);
      if (m === best && n === blockStart && end === blockEnd) {
        let won = 0;
        const k = blocks.count[b] as number;
        for (let j = 1; j <= k; j++) {
          ties++;
          if (Math.floor(rng() * ties) === 0) won = j;
        }
        for (; won > 0 && n < end; n++) if (total[n] === best && --won === 0) bestNode = n;
      } else if (m >= best) {
        for (; n < end; n++) {
          const t = total[n] as number;
          if (t > best) { best = t; bestNode = n; ties = 1; }
          else if (t === best) {
            ties++;
            if (Math.floor(rng() * ties) === 0) bestNode = n;
          }
        }
      }
      n = end;
    }
  }
  return bestNode;
}

function sameNumbers(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
