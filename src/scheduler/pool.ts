// The parallel path: `workers` threads filter and score one pod at a time over
// the cycle's rotated node order, cut into fixed chunks (CHUNK_NODES positions
// each) that the threads claim one by one from a shared counter (work
// stealing). The main thread and `workers - 1` persistent worker threads share
// the cluster state (SharedArrayBuffers, never copied) and a control block, and
// meet through Atomics, not messages:
//
//   main: writes the phase (pod, start, numToFind, chunk count), opens the claim
//         word, wakes the helpers (epoch + Atomics.notify), runs PreFilter/PreScore
//   every thread: claims the next chunk, filterShard on it (Filter + raw Score,
//         the chunk's stats and totals with the guessed normalisation) into its
//         own buffers, records itself as the chunk's finisher and adds its
//         feasible nodes to FOUND; stops when no chunk is left or the finished
//         chunks hold numToFind feasible nodes
//   main: closes the claim word; walks the claimed chunks in node order, taking
//         each finisher's buffers, until they hold numToFind feasible nodes; then
//         decide(): takeShards + mergeStats + reduceRecords over the chunks in
//         node order, exactly as over one shard (the reference path), re-scoring
//         the taken chunks itself when the guessed normalisation was wrong; commits
//
// A descheduled thread never holds up a cycle: a chunk it has not claimed goes
// to another thread, and a chunk it claimed but has not finished RESCUE_AFTER_MS
// after the main thread needs it, the main thread filters itself (into its own
// buffers; whichever thread records the chunk first is its result, and both
// computed the same thing). A thread that falls behind writes only into its
// own buffers and, past the phase, can neither claim nor record a chunk.
// Which thread filtered which chunk never changes a result: chunks are merged
// in node order, never in the order they finished, and the chunks taken always
// form a prefix of the order.
//
// Going parallel, per cycle (a choice that changes who computes, never what):
// with every node to score (numToFind ≥ nodes) the helpers are woken at once.
// Below that (the adaptive percentage: at 5,000 nodes, 500 to find in about
// 550 examined) a cycle runs on the main thread alone over one shard of every
// node, exactly the reference path's cycle (SingleShard): on the 2-vCPU VMs
// measured, any rendezvous cost more than it shared. Waking the helpers for
// the pods few nodes fit (after 1,024 positions examined alone) ran the
// mixed workload at 0.64–0.86× one worker (a script driving this pool with
// soloNodes 1024, which was the default), as the futex wake-ups and the
// spinning helper took the main thread's time; one shard alone instead runs
// at one worker's speed. With `soloNodes` given, the pool still does that:
// the main thread filters chunks alone, and wakes the helpers once it has
// examined soloNodes positions without finding numToFind feasible nodes.
//
// The batched optimistic mode (ScheduleOptions.batch > 1, batch.ts) uses the
// same claim words differently: a BATCH phase's items are whole pods of the
// batch, each run by whichever thread claims it against the snapshot into
// that thread's own result slots, recorded as a chunk is (finishChunk); the
// main thread then commits them in order. A pod a helper claimed but has not
// finished in time, the main thread runs itself, as it rescues a chunk.
//
// Helpers wait for the next phase spinning, then asleep in Atomics.wait; the
// spin budget adapts (worker.ts SpinBudget): with a core per thread they never
// sleep, when other load takes the cores they stop spinning and hand the core
// over. Spinning is off when threads outnumber cores. The main thread never
// sleeps inside a cycle. Worker threads are started through piscina: each runs
// one long-lived `serve` task (piscina lets a task run as long as it likes),
// which returns when the main thread sets STOP. With one worker there are no
// helper threads and the pool runs one chunk over every node, as the reference path.
import { LoopClock, yieldToEventLoop } from './scheduler.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { InputError } from '../errors.js';
import type { Cycle, ShardBuf, ShardRange } from './framework.js';
import { clearShard, decide, globalBufLength, Guesses, numFeasibleNodesToFind, prepareCycle, scoreShard, shardBuf, shardBufBytes, shardFeasibleCount } from './framework.js';
import { IncrementalEngine, MAX_CACHE_BYTES, ringEntries, SparseClasses } from './incremental.js';
import { CycleRecorder, SingleShard } from './scheduler.js';
import type { Decision } from './framework.js';
import type { Batch, Rerun } from './batch.js';
import { aloneCycle, batchStats, commitBatch, ConflictCheck, MAX_BATCH, newBatch, planBatch, podRng, snapshotCycle } from './batch.js';
import type { ScheduleOptions, ScheduleResult } from './scheduler.js';
import type { PodClass, SchedState } from './state.js';
import { plainCycle } from './state.js';
import {
  C_CHUNKS, C_EPOCH, C_FAILED, C_NUM_TO_FIND, CLAIM_BYTES, C_POD, C_READY, C_SLEEP_EPOCH, C_START, C_STOP, CONTROL_SLOTS, MAX_CHUNKS, MAX_THREADS,
  chunkWorker, claimChunk, closePhase, filterChunk, filterChunks, finishChunk, finisherOf, foundIn, openPhase, spinBudget, wake, BATCH_RESULT_SLOTS, C_BATCH_FIRST, C_ENGINE, C_MODE, C_PERCENTAGE, C_RUN, C_SEED, MODE_BATCH, MODE_FILTER,
} from './worker.js';
import type { ChunkWorker, ServeTask, WorkerInit } from './worker.js';

/** dist/…/worker.js when running the built CLI; the .ts bootstrap when running from sources (vitest). */
function workerFile(): string {
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(js)) return js;
  return fileURLToPath(new URL('./worker-ts.mjs', import.meta.url));
}

/** Spin this long before sleeping: longer than a chunk's filter pass, so a busy cycle never sleeps. */
const SPIN_MS = 0.3;
/**
 * Positions per chunk: small enough that a descheduled thread holds up little
 * and the threads finish together, large enough that claiming and per-chunk
 * setup stay a few percent of the work (measured: see bench/suites/scheduler.ts).
 */
export const CHUNK_NODES = 256;
/**
 * How long the main thread waits for a chunk another thread claimed before it
 * filters the chunk itself: several times a chunk's pass (a few µs at 256
 * nodes), far less than the scheduler time slice a descheduled thread loses.
 */
export const RESCUE_AFTER_MS = 0.04;

export interface PoolOptions {
  /** Positions per chunk (default CHUNK_NODES). */
  chunkNodes?: number;
  /**
   * Below 100%: the main thread filters chunks alone and wakes the helpers
   * after this many positions. Unset: such cycles run over one shard on the
   * main thread and never wake the helpers (see the header).
   */
  soloNodes?: number;
  /** How long to wait for a claimed chunk before filtering it on the main thread (default RESCUE_AFTER_MS). */
  rescueAfterMs?: number;
  /** The incremental engine's class-state budget (default MAX_CACHE_BYTES). */
  incrementalCacheBytes?: number;
}

/** What the pool's threads did over its runs (who filtered which chunk changes no result; this says how it went). */
export interface PoolStats {
  cycles: number;
  /** Cycles whose FILTER phase woke the helpers. */
  parallelCycles: number;
  /** Chunks taken into decisions, and how many of them the main thread filtered (claimed or rescued). */
  chunks: number;
  chunksByMain: number;
  /** Chunks another thread had claimed but not finished in time, filtered by the main thread. */
  rescued: number;
  /** Cycles the incremental engine ran, and those of them that re-evaluated every node (a new class, a moved limit, many commits). */
  incrementalCycles: number;
  incrementalFullRefreshes: number;
  /** Class states the last run's engine dropped to stay within its budget. */
  incrementalEvictions: number;
  /** Below 100%: cycles of a class few nodes fitted that the engine handed back, as it fits numToFind again. */
  incrementalHandedBack: number;
}

export class SchedulerPool {
  readonly workers: number;
  /** Chunks of the node order (1 with one worker). */
  readonly chunks: number;
  readonly stats: PoolStats = { cycles: 0, parallelCycles: 0, chunks: 0, chunksByMain: 0, rescued: 0, incrementalCycles: 0, incrementalFullRefreshes: 0, incrementalEvictions: 0, incrementalHandedBack: 0 };
  private readonly helpers: number;
  private readonly soloNodes: number;
  /** The main thread's one shard for cycles below 100% with soloNodes unset; null when chunks are used. */
  private readonly single: SingleShard | null;
  /** Without `single`: the shard for the pods whose cycle is not the plain one (SingleShard.cycle), made on first use. */
  private aloneShard: SingleShard | null = null;
  private readonly rescueAfterMs: number;
  private readonly pool: Piscina | null;
  /** The main thread's own views (thread 0). */
  private readonly w: ChunkWorker;
  /** Every thread's ShardBufs and reasons, readable by the main thread: [thread][chunk]. */
  private readonly bufsOf: ShardBuf[][];
  private readonly reasonsOf: Int32Array[];
  /** Per chunk, this cycle's result: the finisher's ShardBuf and reasons (an empty shard past the taken prefix). */
  private readonly chosen: ShardBuf[];
  private readonly chosenReasons: Int32Array[];
  private readonly empty: ShardBuf;
  private readonly takes: Int32Array;
  private readonly g: Float64Array;
  private readonly spinMs: number;
  private phaseId = 0n;
  private serving: Promise<unknown>[] | null = null;
  private readonly incrementalCacheBytes: number;
  /** Batched mode's shared blocks (see WorkerInit). */
  private readonly batchIo: Int32Array;
  private readonly batchDone: BigInt64Array;
  private readonly batchResults: Int32Array[];
  private readonly commitRing: Int32Array;
  /** schedule() calls so far (C_RUN). */
  private runs = 0;

  constructor(private readonly st: SchedState, workers: number, options: PoolOptions = {}) {
    const most = Math.min(MAX_THREADS, Math.max(64, availableParallelism()));
    if (!Number.isInteger(workers) || workers < 1 || workers > most) {
      throw new InputError('--workers', `must be an integer from 1 to ${most}, got ${workers}`);
    }
    this.workers = workers;
    this.helpers = workers - 1;
    this.soloNodes = options.soloNodes ?? Number.POSITIVE_INFINITY;
    this.single = options.soloNodes === undefined && workers > 1 ? new SingleShard(st) : null;
    this.rescueAfterMs = options.rescueAfterMs ?? RESCUE_AFTER_MS;
    this.incrementalCacheBytes = options.incrementalCacheBytes ?? MAX_CACHE_BYTES;
    // Where the chunks split does not change any result (they are merged in order).
    const chunkNodes = workers === 1 ? st.N : Math.max(1, Math.ceil(Math.max(options.chunkNodes ?? CHUNK_NODES, st.N / MAX_CHUNKS)));
    const ranges: ShardRange[] = [];
    for (let from = 0; from < st.N; from += chunkNodes) ranges.push({ from, to: Math.min(st.N, from + chunkNodes) });
    this.chunks = ranges.length;
    const chunkBuffers = Array.from({ length: workers }, () => ranges.map(() => new SharedArrayBuffer(shardBufBytes(st, chunkNodes))));
    const reasonBuffers = Array.from({ length: workers }, () => new SharedArrayBuffer(4 * st.N));
    const init: WorkerInit = {
      tables: st.tables, buffers: st.buffers, control: new SharedArrayBuffer(4 * CONTROL_SLOTS), claim: new SharedArrayBuffer(CLAIM_BYTES),
      done: new SharedArrayBuffer(8 * this.chunks), guesses: new SharedArrayBuffer(Guesses.bytes(st)), chunks: chunkBuffers, reasons: reasonBuffers,
      ranges, cap: chunkNodes, spinMs: 0,
      batchIo: new SharedArrayBuffer(8 * MAX_BATCH), batchDone: new SharedArrayBuffer(8 * MAX_BATCH),
      batchResults: Array.from({ length: workers }, () => new SharedArrayBuffer(4 * BATCH_RESULT_SLOTS * MAX_BATCH)),
      commitRing: new SharedArrayBuffer(4 * ringEntries(st.N)),
    };
    this.commitRing = new Int32Array(init.commitRing);
    this.batchIo = new Int32Array(init.batchIo);
    this.batchDone = new BigInt64Array(init.batchDone);
    this.batchResults = init.batchResults.map((b) => new Int32Array(b));
    this.w = chunkWorker(init, st, 0);
    this.w.guesses.values.fill(Number.NaN);
    // Closed until the first phase opens.
    openPhase(this.w.claim, 0n);
    closePhase(this.w.claim);
    this.bufsOf = chunkBuffers.map((list) => list.map((b) => shardBuf(st, b, chunkNodes)));
    this.reasonsOf = reasonBuffers.map((b) => new Int32Array(b));
    this.empty = shardBuf(st, new ArrayBuffer(shardBufBytes(st, 1)), 1);
    clearShard(this.empty);
    this.chosen = ranges.map(() => this.empty);
    this.chosenReasons = ranges.map(() => this.w.reasons);
    this.takes = new Int32Array(this.chunks);
    this.g = new Float64Array(globalBufLength(st));
    this.spinMs = workers <= availableParallelism() ? SPIN_MS : 0;
    init.spinMs = this.spinMs;
    this.pool = this.helpers > 0
      ? new Piscina({ filename: workerFile(), minThreads: this.helpers, maxThreads: this.helpers, idleTimeout: 60_000, workerData: init })
      : null;
  }

  /** Starts every helper's serve loop and waits until each has attached, so no start-up lands in a measurement. */
  async ready(): Promise<void> {
    if (this.serving !== null || this.pool === null) return;
    const pool = this.pool;
    this.serving = Array.from({ length: this.helpers }, (_, i) => pool.run({ index: i + 1 } satisfies ServeTask));
    // A helper that fails rejects its task; surface that instead of waiting forever.
    const failed = Promise.race(this.serving.map((p) => p.then(() => { throw new Error('scheduler worker exited early'); })));
    failed.catch(() => undefined);
    while (Atomics.load(this.w.ctl, C_READY) < this.helpers) await Promise.race([sleep(1), failed]);
  }

  /** Writes a FILTER phase's fields, then opens its claim word (in that order: see worker.ts claimChunk). */
  private open(pod: number, start: number, numToFind: number): bigint {
    const { ctl, claim } = this.w;
    Atomics.store(ctl, C_POD, pod);
    Atomics.store(ctl, C_START, start);
    Atomics.store(ctl, C_NUM_TO_FIND, numToFind);
    Atomics.store(ctl, C_CHUNKS, this.chunks);
    Atomics.store(ctl, C_MODE, MODE_FILTER);
    this.phaseId++;
    openPhase(claim, this.phaseId);
    return this.phaseId;
  }

  /** Wakes the helpers to join the open phase. */
  private wakeHelpers(): void {
    const { ctl } = this.w;
    Atomics.add(ctl, C_EPOCH, 1);
    wake(ctl, C_EPOCH, C_SLEEP_EPOCH);
  }

  /**
   * Closes the phase and fills `chosen` with the claimed chunks' results in
   * node order until they hold numToFind feasible nodes, filtering on this
   * thread any chunk whose claimer is late; the rest are empty.
   */
  private collect(c: Cycle, phase: bigint, start: number, numToFind: number): void {
    const { w, chosen, chosenReasons } = this;
    const claimed = closePhase(w.claim);
    let found = 0;
    let k = 0;
    for (; k < claimed && found < numToFind; k++) {
      let t = finisherOf(w.done, k, phase);
      if (t < 0) {
        const until = performance.now() + this.rescueAfterMs;
        do {
          for (let spin = 0; spin < 64 && t < 0; spin++) t = finisherOf(w.done, k, phase);
        } while (t < 0 && performance.now() < until);
        if (t < 0) {
          filterChunk(w, c, phase, k, start, numToFind);
          t = finisherOf(w.done, k, phase);
          this.stats.rescued++;
        }
      }
      if (t === 0) this.stats.chunksByMain++;
      const b = (this.bufsOf[t] as ShardBuf[])[k] as ShardBuf;
      chosen[k] = b;
      chosenReasons[k] = this.reasonsOf[t] as Int32Array;
      found += shardFeasibleCount(b);
    }
    this.stats.chunks += k;
    for (; k < this.chunks; k++) chosen[k] = this.empty;
    if (Atomics.load(w.ctl, C_FAILED) !== 0) throw new Error('a scheduler worker failed; its error is in the worker task');
  }

  /** Writes a batch phase's fields and pods, then opens its claim word (as open()). */
  private openBatch(b: Batch, seed: number, numToFind: number, engines: boolean): bigint {
    const { ctl, claim } = this.w;
    for (let t = 0; t < b.size; t++) {
      this.batchIo[t] = b.pods[t] as number;
      this.batchIo[MAX_BATCH + t] = b.starts[t] as number;
    }
    Atomics.store(ctl, C_CHUNKS, b.size);
    Atomics.store(ctl, C_BATCH_FIRST, b.first);
    Atomics.store(ctl, C_SEED, seed | 0);
    Atomics.store(ctl, C_NUM_TO_FIND, numToFind);
    Atomics.store(ctl, C_ENGINE, engines ? 1 : 0);
    Atomics.store(ctl, C_PERCENTAGE, this.w.ctx.percentage);
    Atomics.store(ctl, C_RUN, this.runs);
    Atomics.store(ctl, C_MODE, MODE_BATCH);
    this.phaseId++;
    openPhase(claim, this.phaseId);
    return this.phaseId;
  }

  /**
   * The batched optimistic mode (batch.ts): every thread claims pods of the
   * batch and runs their whole cycles on the snapshot; the main thread then
   * commits them in order. An item a helper claimed but has not finished
   * RESCUE_AFTER_MS after the main thread needs it, the main thread runs
   * itself (the same decision: it depends only on the snapshot and the pod).
   */
  private async scheduleBatched(pending: number[], opts: ScheduleOptions, rec: CycleRecorder, numToFind: number): Promise<ScheduleResult> {
    const { st, w } = this;
    const B = opts.batch as number;
    const b = newBatch();
    const check = new ConflictCheck(st);
    const shard = this.single ?? new SingleShard(st);
    const stats = (rec.batch = batchStats());
    // With the incremental engine: at 100% every thread's own engine runs the batch's pods, below 100% the
    // main thread's the pods of sparse classes, which run alone (batch.ts).
    const engine = (opts.engine ?? 'full') === 'incremental' ? new IncrementalEngine(st, this.incrementalCacheBytes) : null;
    const sparse = numToFind < st.N ? (engine?.sparse ?? new SparseClasses()) : null;
    const engines = engine !== null && numToFind >= st.N;
    this.runs++;
    const ring = this.commitRing;
    const commits = { log: rec.placements, len: 0 };
    const clock = new LoopClock(opts, pending.length);
    // A pod run again (batch.ts) sees the commits before it, through the main thread's engine at 100%.
    const rerun: Rerun = (pod, i, start, rng) => snapshotCycle(w.ctx, shard, w.guesses, engines ? engine : null, { log: rec.placements, len: i }, pod, start, numToFind, rng);
    const run = (t: number): Decision => snapshotCycle(w.ctx, shard, w.guesses, engines ? engine : null, commits, b.pods[t] as number, b.starts[t] as number, numToFind, podRng(opts.seed, b.first + t));
    for (let i = 0; i < pending.length; i += Math.max(1, b.size)) {
      let t0 = performance.now();
      if (clock.expired(t0) || rec.halted) break;
      if (clock.due(i, t0)) {
        await yieldToEventLoop();
        t0 = clock.resumed();
      }
      planBatch(b, pending, i, B, rec.nextStart, st, sparse);
      if (b.size === 0) {
        const pod = pending[i] as number;
        const c = prepareCycle(w.ctx, pod);
        stats.alone++;
        this.stats.cycles++;
        rec.sample(i, w.ctx, c, rec.nextStart, numToFind);
        rec.finish(i, pod, aloneCycle(w.ctx, c, rec.nextStart, numToFind, podRng(opts.seed, i), shard, w.guesses, sparse as SparseClasses, engine, rec.placements, i), t0);
        ring[i % ring.length] = rec.placements[i] as number;
        continue;
      }
      commits.len = i;
      if (this.helpers > 0 && b.size > 1) {
        const phase = this.openBatch(b, opts.seed, numToFind, engines);
        this.wakeHelpers();
        for (;;) {
          const t = claimChunk(w.claim, phase, b.size);
          if (t < 0) break;
          b.decisions[t] = run(t);
        }
        closePhase(w.claim);
        for (let t = 0; t < b.size; t++) {
          if (b.decisions[t] !== null) continue;
          let k = finisherOf(this.batchDone, t, phase);
          const until = performance.now() + this.rescueAfterMs;
          while (k < 0 && performance.now() < until) for (let spin = 0; spin < 64 && k < 0; spin++) k = finisherOf(this.batchDone, t, phase);
          // Rescue: record this thread as the pod's finisher first, so the late helper learns it was late (and,
          // having read a state this thread then changed, drops its engine); if the helper got there first, use its.
          if (k < 0 && finishChunk(this.batchDone, t, phase, 0)) {
            b.decisions[t] = run(t);
            this.stats.rescued++;
            continue;
          }
          if (k < 0) k = finisherOf(this.batchDone, t, phase);
          const r = this.batchResults[k] as Int32Array;
          const o = BATCH_RESULT_SLOTS * t;
          b.decisions[t] = { node: r[o] as number, processed: r[o + 1] as number, feasible: r[o + 2] as number, reasons: null, rescored: false };
        }
        this.stats.parallelCycles += b.size;
      } else for (let t = 0; t < b.size; t++) b.decisions[t] = run(t);
      if (Atomics.load(w.ctl, C_FAILED) !== 0) throw new Error('a scheduler worker failed; its error is in the worker task');
      this.stats.cycles += b.size;
      commitBatch(w.ctx, rec, b, check, rerun, numToFind, opts.seed, stats, sparse, t0);
      // The helpers' engines read the commits from the ring (written here, read only in the next batch phase).
      for (let t = 0; t < b.size; t++) ring[(i + t) % ring.length] = rec.placements[i + t] as number;
    }
    if (engine !== null) {
      this.stats.incrementalCycles += engine.cycles;
      this.stats.incrementalFullRefreshes += engine.fullRefreshes;
      this.stats.incrementalEvictions = engine.evictions;
      this.stats.incrementalHandedBack += engine.handedBack;
    }
    return rec.result(clock.wallMs());
  }

  async schedule(pending: number[], opts: ScheduleOptions): Promise<ScheduleResult> {
    await this.ready();
    const { st, takes, w, chosen, chosenReasons, g } = this;
    const { ctl, ranges } = w;
    const rec = new CycleRecorder(st, pending.length, opts);
    const numToFind = numFeasibleNodesToFind(opts.percentageOfNodesToScore, st.N);
    w.ctx.percentage = opts.percentageOfNodesToScore;
    if ((opts.batch ?? 1) > 1) return this.scheduleBatched(pending, opts, rec, numToFind);
    const eager = this.helpers > 0 && numToFind >= st.N;
    // The incremental engine takes the cycles it applies to (every node scored, or a class few nodes fit); the rest run here in full.
    const incremental = (opts.engine ?? 'full') === 'incremental' ? new IncrementalEngine(st, this.incrementalCacheBytes) : null;
    const adopting = incremental !== null && numToFind < st.N ? incremental : null;
    const clock = new LoopClock(opts, pending.length);
    // Re-scoring (a wrong guess, about one cycle in ten) stays on this thread: a light pass over the taken entries.
    const scoreAll = (c: Cycle): void => {
      for (let k = 0; k < this.chunks; k++) if ((takes[k] as number) > 0) scoreShard(c, chosen[k] as ShardBuf, takes[k] as number, g);
    };
    for (let i = 0; i < pending.length; i++) {
      const pod = pending[i] as number;
      let t0 = performance.now();
      if (clock.expired(t0) || rec.halted) break;
      if (clock.due(i, t0)) {
        // Between pods the helpers are parked on the epoch: let signals and timers in.
        await yieldToEventLoop();
        t0 = clock.resumed();
      }
      const start = rec.nextStart;
      let prepared: Cycle | null = null;
      if (incremental !== null) {
        prepared = prepareCycle(w.ctx, pod);
        const d = incremental.applies(prepared, numToFind) ? incremental.cycle(w.ctx, prepared, start, numToFind, rec.rng, rec.placements, i) : null;
        if (d !== null) {
          rec.sample(i, w.ctx, prepared, start, numToFind);
          this.stats.cycles++;
          rec.finish(i, pod, d, t0);
          continue;
        }
      }
      // Below 100%, and for a pod whose cycle is not the plain one (state.ts plainCycle): the reference cycle, on this thread alone (see the header).
      const plain = plainCycle(st.tables.classes[st.podClass[pod] as number] as PodClass);
      const alone = !plain ? (this.single ?? (this.aloneShard ??= new SingleShard(st))) : eager ? null : this.single;
      if (alone !== null) {
        const c = prepared ?? prepareCycle(w.ctx, pod);
        rec.sample(i, w.ctx, c, start, numToFind);
        this.stats.cycles++;
        const d = alone.cycle(w.ctx, c, start, numToFind, rec.rng, w.guesses.for(c));
        adopting?.adopt(c, numToFind, d);
        rec.finish(i, pod, d, t0);
        continue;
      }
      // A sampled cycle times its plugins before the phase opens, the helpers idle: the sampler's time is taken out of the run.
      const sampled = rec.timer?.wants(i) ?? false;
      const early = sampled ? (prepared ?? prepareCycle(w.ctx, pod)) : null;
      if (early !== null) rec.sample(i, w.ctx, early, start, numToFind);
      const phase = this.open(pod, start, numToFind);
      let woken = eager;
      if (woken) this.wakeHelpers();
      // PreFilter/PreScore here overlaps with the woken helpers' own.
      const c = early ?? prepared ?? prepareCycle(w.ctx, pod);
      if (!woken && this.helpers > 0) {
        // Alone first; the helpers join once the work is worth sharing (see the header).
        const examined = filterChunks(w, c, phase, start, numToFind, this.chunks, this.soloNodes, true);
        if (examined >= this.soloNodes && foundIn(w.claim, phase) < numToFind) {
          woken = true;
          this.wakeHelpers();
        }
      }
      // Until no chunk is left or the finished ones hold numToFind feasible nodes: the claimed chunks then suffice.
      filterChunks(w, c, phase, start, numToFind, this.chunks);
      this.collect(c, phase, start, numToFind);
      this.stats.cycles++;
      if (woken) this.stats.parallelCycles++;
      const d = decide(st, c, chosen, ranges, chosenReasons, numToFind, rec.rng, takes, g, w.guesses.for(c), () => scoreAll(c));
      adopting?.adopt(c, numToFind, d);
      rec.finish(i, pod, d, t0);
    }
    const wallMs = clock.wallMs();
    if (incremental !== null) {
      this.stats.incrementalCycles += incremental.cycles;
      this.stats.incrementalFullRefreshes += incremental.fullRefreshes;
      this.stats.incrementalEvictions = incremental.evictions;
      this.stats.incrementalHandedBack += incremental.handedBack;
    }
    return rec.result(wallMs);
  }

  async close(): Promise<void> {
    if (this.serving !== null) {
      Atomics.store(this.w.ctl, C_STOP, 1);
      this.wakeHelpers();
      await Promise.allSettled(this.serving);
      this.serving = null;
    }
    await this.pool?.destroy();
  }
}
