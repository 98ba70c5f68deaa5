// The scheduling loop: one pod at a time, as kube-scheduler's scheduleOne,
// with upstream's rotating start index (nextStartNodeIndex) and
// percentageOfNodesToScore. `scheduleReference` is the single-threaded path;
// pool.ts runs the same cycle with Filter + Score sharded over worker threads.
import { performance } from 'node:perf_hooks';
import { mulberry32 } from '../stats/summary.js';
import { createThreadCtx } from './context.js';
import type { ThreadCtx } from './context.js';
import type { Cycle, Decision, NodeColumns, ShardBuf, ShardRange } from './framework.js';
import { decide, evaluateNode, filterAndGuess, filterListed, fitErrorMessage, globalBufLength, Guesses, nodeColumns, numFeasibleNodesToFind, prepareCycle, reasonStrings, scoreShard, shardBuf, shardBufBytes } from './framework.js';
import { REASON_PREFILTER_SKIPPED, REASON_TERMS_CONFLICT } from './plugins/nodeaffinity.js';
import { PLUGIN_SAMPLE_EVERY, PluginTimer } from './plugintime.js';
import type { PluginTimeShare } from './plugintime.js';
import type { PodClass, SchedState } from './state.js';
import { commitPod, plainCycle } from './state.js';
import type { BatchStats, Rerun } from './batch.js';
import { aloneCycle, batchStats, commitBatch, ConflictCheck, newBatch, planBatch, podRng, runCycle } from './batch.js';
import { SparseClasses } from './incremental.js';

export const ENGINES = ['incremental', 'full'] as const;
export type Engine = (typeof ENGINES)[number];

export interface ScheduleOptions {
  /** 0 = upstream's adaptive percentage; 100 = score every feasible node. */
  percentageOfNodesToScore: number;
  /** Seeds tie-breaking among equal best scores. */
  seed: number;
  /** Stop after this much wall time (the rest stay pending; `scheduled` says how many ran). */
  maxMs?: number;
  /**
   * 'incremental' (pool only): cycles that score every node re-evaluate only the
   * nodes whose inputs changed since their class's last pod (incremental.ts),
   * with the same placements; 'full' (default): every cycle filters and scores
   * every node, as kube-scheduler does.
   */
  engine?: Engine;
  /** Time each plugin in one cycle of this many (plugintime.ts); 0 = never. Default PLUGIN_SAMPLE_EVERY. */
  pluginSampleEvery?: number;
  /**
   * Pods per batch of the batched optimistic mode (batch.ts): B pods scored
   * against one snapshot, re-checked before commit. 1 (default): one pod at a
   * time, as kube-scheduler. Above 1 every cycle is the full pass.
   */
  batch?: number;
  /**
   * Told how many of the pending pods have gone through a cycle, at the points where the
   * loop lets the event loop in (every YIELD_EVERY_MS): a progress display.
   */
  onProgress?: (scheduled: number, pending: number) => void;
  /**
   * Stop after the first pod no node fits (it counts as scheduled; the pods
   * after it stay pending). For copies of one pod (kscale schedule
   * --capacity) every later copy would fail the same way: an unschedulable
   * cycle commits nothing. The batched loops stop after that pod's batch.
   */
  stopAtUnschedulable?: boolean;
}

export interface Unschedulable {
  pod: number;
  message: string;
}

export interface ScheduleResult {
  /** Pods that went through a cycle (all of them unless maxMs cut the run short). */
  scheduled: number;
  /** Per pending pod (in queue order): chosen node index, or -1. */
  placements: Int32Array;
  /** Per pending pod: wall time of its cycle (filter, score, select, commit), ms. */
  latenciesMs: Float64Array;
  elapsedMs: number;
  unschedulable: Unschedulable[];
  /** Σ over unschedulable pods: reason → node count. */
  reasonTotals: Map<string, number>;
  /** Cycles whose guessed normalisation was wrong (scored twice). */
  rescored: number;
  /** Sampled per-plugin time share; null when sampling was off. */
  pluginTimes: PluginTimeShare | null;
  /** Time the plugin-time sampler took, ms: instrumentation, kept out of elapsedMs and the latencies. */
  samplingMs: number;
  /** Process CPU time (user + system, every thread: spinning helpers count) over the loop, ms. */
  cpuMs: number;
  /** The batched mode's counts; null when pods went one at a time. */
  batch: BatchStats | null;
}

/** Everything after Filter/Score: decide, commit, advance the start index, record. */
export class CycleRecorder {
  readonly placements: Int32Array;
  readonly latenciesMs: Float64Array;
  readonly unschedulable: Unschedulable[] = [];
  readonly reasonTotals = new Map<string, number>();
  nextStart = 0;
  scheduled = 0;
  /** A pod was unschedulable and the options say to stop there (stopAtUnschedulable). */
  halted = false;
  /** Set by a batched loop (batch.ts). */
  batch: BatchStats | null = null;
  rescored = 0;
  readonly rng: () => number;
  /** Samples per-plugin times in some cycles (null when off). */
  readonly timer: PluginTimer | null;
  private readonly cpu0 = process.cpuUsage();

  private readonly stopAtUnschedulable: boolean;

  constructor(private readonly st: SchedState, count: number, opts: ScheduleOptions) {
    this.stopAtUnschedulable = opts.stopAtUnschedulable === true;
    this.placements = new Int32Array(count);
    this.latenciesMs = new Float64Array(count);
    this.rng = mulberry32(opts.seed);
    const every = opts.pluginSampleEvery ?? PLUGIN_SAMPLE_EVERY;
    this.timer = every > 0 ? new PluginTimer(st, every) : null;
  }

  /** Sampler time over the run, and within the current cycle. */
  private samplingMs = 0;
  private cycleSamplingMs = 0;

  /**
   * Runs the plugin-time sampler if cycle i is one it samples. Callers run it
   * outside the cycle's parallel part, so nothing else computes meanwhile, and
   * its time is taken out of the cycle's latency and the run's elapsed time:
   * it measures the plugins, it is not part of scheduling.
   */
  sample(i: number, ctx: ThreadCtx, c: Cycle, start: number, numToFind: number): void {
    // The sampler times the plain pass over every node; other cycles would skew the shares.
    if (this.timer === null || !this.timer.wants(i) || !plainCycle(c.cls)) return;
    const s0 = performance.now();
    this.timer.sample(ctx, c, start, numToFind);
    const ms = performance.now() - s0;
    this.samplingMs += ms;
    this.cycleSamplingMs += ms;
  }

  /** Commits a decision, advances the start index and records the cycle. */
  finish(i: number, pod: number, d: Decision, t0: number): void {
    if (d.node >= 0) commitPod(this.st, pod, d.node);
    else if (this.stopAtUnschedulable) this.halted = true;
    if (d.node < 0 && d.reasons) {
      this.unschedulable.push({ pod, message: fitErrorMessage(this.st.N, d.reasons, d.preFilterMessage) });
      for (const [r, n] of d.reasons) this.reasonTotals.set(r, (this.reasonTotals.get(r) ?? 0) + n);
    }
    if (d.rescored) this.rescored++;
    this.nextStart = (this.nextStart + d.processed) % this.st.N;
    this.placements[i] = d.node;
    this.latenciesMs[i] = performance.now() - t0 - this.cycleSamplingMs;
    this.cycleSamplingMs = 0;
    this.scheduled = i + 1;
  }

  /** The run's result; `wallMs` is the loop's wall time, sampler included (it is taken out here). */
  result(wallMs: number): ScheduleResult {
    const n = this.scheduled;
    return {
      scheduled: n, placements: this.placements.subarray(0, n), latenciesMs: this.latenciesMs.subarray(0, n), elapsedMs: wallMs - this.samplingMs,
      unschedulable: this.unschedulable, reasonTotals: this.reasonTotals, rescored: this.rescored, pluginTimes: this.timer?.result() ?? null,
      samplingMs: this.samplingMs, cpuMs: cpuMsSince(this.cpu0), batch: this.batch,
    };
  }
}

function cpuMsSince(c0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1000;
}

/** How long a scheduling loop runs before it lets the event loop in (signals, Ctrl-C cleanup). */
export const YIELD_EVERY_MS = 50;

/**
 * A scheduling loop's time keeping: when it began, its time budget's
 * deadline, and when to let the event loop in (telling onProgress how far it
 * got). Each loop, before pod i at `now`: stop if expired(now); if due(i, now),
 * let the event loop in, then resumed().
 */
export class LoopClock {
  readonly began = performance.now();
  private sliceStart = this.began;
  private readonly deadline: number;

  constructor(private readonly opts: ScheduleOptions, private readonly pending: number) {
    this.deadline = this.began + (opts.maxMs ?? Number.POSITIVE_INFINITY);
  }

  /** Past the time budget: pod i and the ones after it stay pending. */
  expired(now: number): boolean {
    return now > this.deadline;
  }

  /** Whether to let the event loop in before pod i (it has had none for YIELD_EVERY_MS); reports progress when so. */
  due(i: number, now: number): boolean {
    if (now - this.sliceStart <= YIELD_EVERY_MS) return false;
    this.opts.onProgress?.(i, this.pending);
    return true;
  }

  /** Back from the event loop: a new slice starts now (returned). */
  resumed(): number {
    this.sliceStart = performance.now();
    return this.sliceStart;
  }

  /** The loop's wall time so far. */
  wallMs(): number {
    return performance.now() - this.began;
  }
}

/** Resolve on the event loop's next turn: pending signal handlers and timers run first. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Single-threaded reference: Filter + Score over all nodes as one shard on the calling thread. */
export function scheduleReference(st: SchedState, pending: number[], opts: ScheduleOptions): ScheduleResult {
  const steps = referenceSteps(st, pending, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The reference path for long runs: the same loop, same placements, but every
 * YIELD_EVERY_MS it lets the event loop in, so Ctrl-C is handled within
 * milliseconds instead of when the whole run ends.
 */
export async function scheduleReferenceAsync(st: SchedState, pending: number[], opts: ScheduleOptions): Promise<ScheduleResult> {
  const steps = referenceSteps(st, pending, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await yieldToEventLoop();
  }
}

/**
 * One shard over every node on one thread: the reference path's working
 * memory, and the pool's for the cycles it runs on its main thread alone.
 */
export class SingleShard {
  private readonly buf: ShardBuf;
  private readonly bufs: ShardBuf[];
  private readonly ranges: ShardRange[];
  private readonly takes = new Int32Array(1);
  private readonly g: Float64Array;
  private readonly reasons: Int32Array[];
  /** For listed(): evaluateNode's columns (made on first use) and a guess that never holds. */
  private cols: NodeColumns | null = null;
  private readonly noGuess: Float64Array;

  constructor(private readonly st: SchedState) {
    this.buf = shardBuf(st, new ArrayBuffer(shardBufBytes(st, st.N)), st.N);
    this.bufs = [this.buf];
    this.ranges = [{ from: 0, to: st.N }];
    this.g = new Float64Array(globalBufLength(st));
    this.noGuess = new Float64Array(globalBufLength(st));
    this.reasons = [new Int32Array(st.N)];
  }

  /** Filter + Score over the rotated order from `start` in one fused pass, then the decision (guess: the class's guessed normalisation). */
  cycle(ctx: ThreadCtx, c: Cycle, start: number, numToFind: number, rng: () => number, guess: Float64Array): Decision {
    const nominated = c.cls.nominated;
    let nominatedCode = 0;
    if (nominated >= 0 && c.cls.preFilter?.conflict !== true) {
      // evaluateNominatedNode (after PreFilter, which a conflict fails first): the node a preemption
      // nominated, alone; if it fits it is the pick, unscored, and the start index stays where it was.
      const cols = (this.cols ??= nodeColumns(this.st));
      evaluateNode(ctx, c, nominated, cols.reason, cols.fit, cols.ipa, cols.spread);
      nominatedCode = cols.reason[nominated] as number;
      if (nominatedCode === 0) return { node: nominated, processed: 0, feasible: 1, reasons: null, rescored: false };
    }
    const d = c.cls.preFilter !== null ? this.listed(ctx, c, c.cls.preFilter, start, rng) : this.plain(ctx, c, start, numToFind, rng, guess);
    return nominatedCode !== 0 ? this.withNominated(c, start, d, nominated, nominatedCode) : d;
  }

  private plain(ctx: ThreadCtx, c: Cycle, start: number, numToFind: number, rng: () => number, guess: Float64Array): Decision {
    const { buf, takes, g } = this;
    filterAndGuess(ctx, c, start, this.ranges[0] as ShardRange, numToFind, buf, this.reasons[0] as Int32Array, guess);
    return decide(this.st, c, this.bufs, this.ranges, this.reasons, numToFind, rng, takes, g, guess, () => scoreShard(c, buf, takes[0] as number, g));
  }

  /**
   * A cycle after its nominated node failed: that node's status stays in the
   * diagnosis, so when the pass did not examine it, it counts once more among
   * the nodes processed (and so in the start index), and in an unschedulable
   * pod's reasons instead of as a node the PreFilter left out.
   */
  private withNominated(c: Cycle, start: number, d: Decision, nominated: number, code: number): Decision {
    const { N } = this.st;
    const pf = c.cls.preFilter;
    let examined: boolean;
    if (pf === null) examined = (nominated - start + N) % N < d.processed;
    else {
      const m = pf.nodes.length;
      const at = pf.nodes.indexOf(nominated);
      examined = at >= 0 && (at - (start % m) + m) % m < d.processed;
    }
    if (examined) return d;
    if (d.reasons !== null) {
      if (pf !== null) {
        const skipped = (d.reasons.get(REASON_PREFILTER_SKIPPED) ?? 0) - 1;
        if (skipped > 0) d.reasons.set(REASON_PREFILTER_SKIPPED, skipped);
        else d.reasons.delete(REASON_PREFILTER_SKIPPED);
      }
      for (const r of reasonStrings(this.st, code)) d.reasons.set(r, (d.reasons.get(r) ?? 0) + 1);
    }
    return { ...d, processed: d.processed + 1 };
  }

  /**
   * A cycle NodeAffinity's PreFilter narrowed (PodClass.preFilter), as
   * findNodesThatFitPod runs it: only the named nodes, numToFind of the
   * run's percentage of them, the others reported as the PreFilter left them
   * out, and nextStartNodeIndex advanced by the nodes examined. Conflicting
   * names reject the pod before any node is examined.
   */
  private listed(ctx: ThreadCtx, c: Cycle, pf: NonNullable<PodClass['preFilter']>, start: number, rng: () => number): Decision {
    const { st, buf, takes, g } = this;
    if (pf.conflict) return { node: -1, processed: 0, feasible: 0, reasons: new Map([[REASON_TERMS_CONFLICT, st.N]]), rescored: false, preFilterMessage: REASON_TERMS_CONFLICT };
    if (Number.isNaN(ctx.percentage)) throw new Error('ThreadCtx.percentage is not set: the run that schedules on this thread must set it');
    const numToFind = numFeasibleNodesToFind(ctx.percentage, pf.nodes.length);
    this.cols ??= nodeColumns(st);
    filterListed(ctx, c, pf.nodes, start, numToFind, buf, this.reasons[0] as Int32Array, this.cols);
    // No guess: its normalisation is this cycle's own, scored once.
    this.noGuess.fill(Number.NaN);
    const d = decide(st, c, this.bufs, [{ from: 0, to: pf.nodes.length }], this.reasons, numToFind, rng, takes, g, this.noGuess, () => scoreShard(c, buf, takes[0] as number, g));
    const skipped = st.N - d.processed;
    if (d.reasons !== null && skipped > 0) d.reasons.set(REASON_PREFILTER_SKIPPED, (d.reasons.get(REASON_PREFILTER_SKIPPED) ?? 0) + skipped);
    return { ...d, rescored: false };
  }
}

/** The reference loop; it yields (without a value) every YIELD_EVERY_MS so a caller may let the event loop in. */
function* referenceSteps(st: SchedState, pending: number[], opts: ScheduleOptions): Generator<void, ScheduleResult, void> {
  const ctx = createThreadCtx(st);
  ctx.percentage = opts.percentageOfNodesToScore;
  const shard = new SingleShard(st);
  const guesses = new Guesses(st);
  const rec = new CycleRecorder(st, pending.length, opts);
  const numToFind = numFeasibleNodesToFind(opts.percentageOfNodesToScore, st.N);
  const clock = new LoopClock(opts, pending.length);
  if ((opts.batch ?? 1) > 1) {
    // Batched optimistic mode (batch.ts): each batch's cycles on the snapshot one after another, then the commits.
    const B = opts.batch as number;
    const b = newBatch();
    const check = new ConflictCheck(st);
    const stats = (rec.batch = batchStats());
    const sparse = numToFind < st.N ? new SparseClasses() : null;
    const rerun: Rerun = (pod, _i, start, rng) => runCycle(ctx, shard, guesses, pod, start, numToFind, rng);
    for (let i = 0; i < pending.length; i += Math.max(1, b.size)) {
      const t0 = performance.now();
      if (clock.expired(t0) || rec.halted) break;
      if (clock.due(i, t0)) {
        yield;
        clock.resumed();
      }
      planBatch(b, pending, i, B, rec.nextStart, st, sparse);
      if (b.size === 0) {
        const pod = pending[i] as number;
        const c = prepareCycle(ctx, pod);
        stats.alone++;
        rec.sample(i, ctx, c, rec.nextStart, numToFind);
        rec.finish(i, pod, aloneCycle(ctx, c, rec.nextStart, numToFind, podRng(opts.seed, i), shard, guesses, sparse as SparseClasses, null, rec.placements, i), t0);
        continue;
      }
      for (let t = 0; t < b.size; t++) b.decisions[t] = runCycle(ctx, shard, guesses, b.pods[t] as number, b.starts[t] as number, numToFind, podRng(opts.seed, i + t));
      commitBatch(ctx, rec, b, check, rerun, numToFind, opts.seed, stats, sparse, t0);
    }
    return rec.result(clock.wallMs());
  }
  for (let i = 0; i < pending.length; i++) {
    const pod = pending[i] as number;
    const t0 = performance.now();
    if (clock.expired(t0) || rec.halted) break;
    if (clock.due(i, t0)) {
      yield;
      clock.resumed();
    }
    const c = prepareCycle(ctx, pod);
    rec.sample(i, ctx, c, rec.nextStart, numToFind);
    rec.finish(i, pod, shard.cycle(ctx, c, rec.nextStart, numToFind, rec.rng, guesses.for(c)), t0);
  }
  return rec.result(clock.wallMs());
}
