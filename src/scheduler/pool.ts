// The parallel path: `workers` threads filter and score one pod at a time over
// contiguous shards of the rotated node order, as kube-scheduler's parallelizer
// does. The main thread takes shard 0 itself and `workers - 1` persistent
// worker threads take the others; they share the cluster state
// (SharedArrayBuffers, never copied) and meet per pod at an epoch counter in a
// shared Int32 control block, not through messages:
//
//   main: writes pod/start/numToFind, bumps the epoch (FILTER), Atomics.notify,
//         then runs PreFilter/PreScore and filters its own shard
//   every thread: filterShard + shardStats into its ShardBuf; helpers count DONE
//   main: waits for DONE, takeShards + mergeStats (a few dozen numbers into the
//         shared global block), bumps the epoch (SCORE), scores its own shard
//   every thread: scoreShard (totals and running-maximum records); helpers count DONE
//   main: reduceRecords in shard order (selectHost's exact draw), commits
//
// Below 100% of nodes to score, the main thread filters its shard first while
// that has been enough (it usually is: numToFind is a tenth of the nodes) and
// wakes the helpers only when it falls short.
//
// Waiting spins, then sleeps in Atomics.wait; the spin budget adapts (worker.ts
// SpinBudget): with a core per thread a cycle never sleeps, when other load
// takes the cores the threads stop spinning and hand the core over. Spinning
// is off when threads outnumber cores. Worker threads are started through piscina: each runs one
// long-lived `serve` task (piscina lets a task run as long as it likes), which
// returns when the main thread posts STOP. With one worker there are no helper
// threads and the pool runs the same shard code as the reference path.
import { YIELD_EVERY_MS, yieldToEventLoop } from './scheduler.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { InputError } from '../errors.js';
import { createThreadCtx } from './context.js';
import type { Cycle, ShardBuf, ShardRange } from './framework.js';
import { decide, filterAndGuess, globalBufLength, Guesses, numFeasibleNodesToFind, prepareCycle, scoreShard, shardBuf, shardBufBytes, shardFeasibleCount } from './framework.js';
import { CycleRecorder } from './scheduler.js';
import type { ScheduleOptions, ScheduleResult } from './scheduler.js';
import type { SchedState } from './state.js';
import { C_CMD, C_DONE, C_EPOCH, C_FAILED, C_NUM_TO_FIND, C_POD, C_READY, C_SLEEP_DONE, C_SLEEP_EPOCH, C_START, C_TAKES, CMD, spinBudget, spinWaitChange, wake } from './worker.js';
import type { SpinBudget } from './worker.js';
import type { ServeTask, WorkerInit } from './worker.js';

/** dist/…/worker.js when running the built CLI; the .ts bootstrap when running from sources (vitest). */
function workerFile(): string {
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(js)) return js;
  return fileURLToPath(new URL('./worker-ts.mjs', import.meta.url));
}

/** Spin this long before sleeping: longer than a shard's filter pass, so a busy cycle never sleeps. */
const SPIN_MS = 0.3;
/** The main thread's shard relative to an even split. */
const MAIN_SHARE = 0.92;

export class SchedulerPool {
  readonly workers: number;
  private readonly helpers: number;
  private readonly pool: Piscina | null;
  private readonly ctl: Int32Array;
  private readonly g: Float64Array;
  private readonly bufs: ShardBuf[];
  private readonly ranges: ShardRange[];
  private readonly reasons: Int32Array;
  private readonly takes: Int32Array;
  private readonly spinMs: number;
  private readonly budget: SpinBudget;
  private readonly guesses: Guesses;
  private serving: Promise<unknown>[] | null = null;

  constructor(private readonly st: SchedState, workers: number) {
    if (!Number.isInteger(workers) || workers < 1 || workers > Math.max(64, availableParallelism())) {
      throw new InputError('--workers', `must be an integer from 1 to ${Math.max(64, availableParallelism())}, got ${workers}`);
    }
    this.workers = workers;
    this.helpers = workers - 1;
    // The main thread's shard is a little smaller: it also merges, selects and commits.
    // Where the shards split does not change any result (they are concatenated in order).
    const mainLen = workers === 1 ? st.N : Math.floor((st.N / workers) * MAIN_SHARE);
    const shardLen = workers === 1 ? st.N : Math.ceil((st.N - mainLen) / (workers - 1));
    const shards: SharedArrayBuffer[] = [];
    this.ranges = [];
    for (let w = 0; w < workers; w++) {
      const from = w === 0 ? 0 : Math.min(st.N, mainLen + (w - 1) * shardLen);
      const to = w === 0 ? mainLen : Math.min(st.N, from + shardLen);
      this.ranges.push({ from, to });
      shards.push(new SharedArrayBuffer(shardBufBytes(st, Math.max(mainLen, shardLen))));
    }
    this.bufs = shards.map((b) => shardBuf(st, b, Math.max(mainLen, shardLen)));
    const control = new SharedArrayBuffer(4 * (C_TAKES + workers));
    const global = new SharedArrayBuffer(8 * globalBufLength(st));
    const reasons = new SharedArrayBuffer(4 * st.N);
    const guesses = new SharedArrayBuffer(Guesses.bytes(st));
    this.guesses = new Guesses(st, guesses);
    this.guesses.values.fill(Number.NaN);
    this.ctl = new Int32Array(control);
    this.g = new Float64Array(global);
    this.reasons = new Int32Array(reasons);
    this.takes = new Int32Array(workers);
    this.spinMs = workers <= availableParallelism() ? SPIN_MS : 0;
    this.budget = spinBudget(this.spinMs);
    const init: WorkerInit = { tables: st.tables, buffers: st.buffers, control, global, guesses, shards, reasons, ranges: this.ranges, cap: Math.max(mainLen, shardLen), helpers: this.helpers, spinMs: this.spinMs };
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
    while (Atomics.load(this.ctl, C_READY) < this.helpers) await Promise.race([sleep(1), failed]);
  }

  /** Starts one phase on every helper. */
  private phase(cmd: number): void {
    if (this.helpers === 0) return;
    const { ctl } = this;
    Atomics.store(ctl, C_CMD, cmd);
    Atomics.store(ctl, C_DONE, 0);
    Atomics.add(ctl, C_EPOCH, 1);
    wake(ctl, C_EPOCH, C_SLEEP_EPOCH);
  }

  /** Waits until every helper has finished the current phase. */
  private awaitDone(): void {
    const { ctl } = this;
    let d = Atomics.load(ctl, C_DONE);
    while (d < this.helpers) d = spinWaitChange(ctl, C_DONE, d, this.budget, C_SLEEP_DONE);
    if (Atomics.load(ctl, C_FAILED) !== 0) throw new Error('a scheduler worker failed; its error is in the worker task');
  }

  async schedule(pending: number[], opts: ScheduleOptions): Promise<ScheduleResult> {
    await this.ready();
    const { st, ctl, bufs, ranges, takes, g, reasons } = this;
    const own = bufs[0] as ShardBuf;
    const ownRange = ranges[0] as ShardRange;
    const rec = new CycleRecorder(st, pending.length, opts.seed);
    const numToFind = numFeasibleNodesToFind(opts.percentageOfNodesToScore, st.N);
    const ctx = createThreadCtx(st);
    const began = performance.now();
    const deadline = began + (opts.maxMs ?? Number.POSITIVE_INFINITY);
    const scoreAll = (c: Cycle): void => {
      let helpersWithTakes = 0;
      for (let w = 1; w < this.workers; w++) {
        ctl[C_TAKES + w] = takes[w] as number;
        if ((takes[w] as number) > 0) helpersWithTakes++;
      }
      if (helpersWithTakes > 0) this.phase(CMD.score);
      if ((takes[0] as number) > 0) scoreShard(c, own, takes[0] as number, g);
      if (helpersWithTakes > 0) this.awaitDone();
    };
    let mainSufficed = false;
    let sliceStart = began;
    for (let i = 0; i < pending.length; i++) {
      const pod = pending[i] as number;
      let t0 = performance.now();
      if (t0 > deadline) break;
      if (t0 - sliceStart > YIELD_EVERY_MS) {
        // Between pods the helpers are parked on the epoch: let signals and timers in.
        await yieldToEventLoop();
        sliceStart = t0 = performance.now();
      }
      ctl[C_POD] = pod;
      ctl[C_START] = rec.nextStart;
      ctl[C_NUM_TO_FIND] = numToFind;
      // With a percentage below 100 the main thread's shard alone usually holds the
      // first numToFind feasible nodes; then it filters first and calls on the
      // helpers only when its shard falls short (the choice never changes a result,
      // only who computes which shard, and when).
      const mainFirst = numToFind < st.N && mainSufficed;
      if (!mainFirst) this.phase(CMD.filter);
      const c = prepareCycle(ctx, pod);
      const guess = this.guesses.for(c);
      filterAndGuess(ctx, c, rec.nextStart, ownRange, numToFind, own, reasons, guess);
      mainSufficed = shardFeasibleCount(own) >= numToFind;
      if (mainFirst && !mainSufficed) this.phase(CMD.filter);
      if (this.helpers > 0 && !(mainFirst && mainSufficed)) this.awaitDone();
      const d = decide(st, c, bufs, ranges, reasons, numToFind, rec.rng, takes, g, guess, () => scoreAll(c));
      rec.finish(i, pod, d, t0);
    }
    return rec.result(performance.now() - began);
  }

  async close(): Promise<void> {
    if (this.serving !== null) {
      this.phase(CMD.stop);
      await Promise.allSettled(this.serving);
      this.serving = null;
    }
    await this.pool?.destroy();
  }
}
