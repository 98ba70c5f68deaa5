// Scheduler worker thread, started by piscina with one long-running `serve` task:
// attaches to the shared state once, then loops on the control block's epoch
// counter (see pool.ts), running Filter + raw Score and the shard's stats
// and totals with the guessed normalisation (FILTER), or the totals again with
// the actual normalisation (SCORE), over its shard. It
// never writes the cluster state, only its own ShardBuf and the reasons of its
// positions.
import { workerData } from 'node:worker_threads';
import { createThreadCtx } from './context.js';
import type { Cycle } from './framework.js';
import { filterAndGuess, Guesses, prepareCycle, scoreShard, shardBuf } from './framework.js';
import { attachState } from './state.js';
import type { SchedBuffers, SchedTables } from './state.js';

export interface WorkerInit {
  tables: SchedTables;
  buffers: SchedBuffers;
  /** Int32 control block: C_* slots below. */
  control: SharedArrayBuffer;
  /** Float64 global normalisation (framework mergeStats). */
  global: SharedArrayBuffer;
  /** Per class, the guessed normalisation (framework Guesses). */
  guesses: SharedArrayBuffer;
  /** One ShardBuf per worker. */
  shards: SharedArrayBuffer[];
  reasons: SharedArrayBuffer;
  /** Every shard's range of positions (index = shard). */
  ranges: { from: number; to: number }[];
  /** Entries per ShardBuf. */
  cap: number;
  /** Worker threads (shards 1…); the main thread takes shard 0. */
  helpers: number;
  /** The longest spin before sleeping, ms (0 when threads outnumber cores). */
  spinMs: number;
}

export interface ServeTask {
  index: number;
}

// Control block slots (Int32).
export const C_EPOCH = 0;
export const C_CMD = 1;
export const C_DONE = 2;
export const C_READY = 3;
export const C_POD = 4;
export const C_START = 5;
export const C_NUM_TO_FIND = 6;
/** Threads asleep in Atomics.wait on C_EPOCH (helpers) and on C_DONE (main): notify only when someone sleeps. */
export const C_SLEEP_EPOCH = 7;
export const C_SLEEP_DONE = 8;
/** Set by a helper whose phase threw: the main thread stops with an error instead of waiting forever. */
export const C_FAILED = 9;
/** Then per worker: how many of its entries the cycle takes (SCORE). */
export const C_TAKES = 10;
export const CMD = { filter: 1, score: 2, stop: 3 } as const;

/**
 * How long a thread spins before it sleeps, adapted as it goes: a wait that
 * ends while spinning lets the next one spin longer (up to `maxMs`); one that
 * had to sleep halves it. With a core per thread cycles never sleep; when other
 * processes take the cores, spinning would only steal time from the thread
 * being waited for, and the budget falls towards zero.
 */
export interface SpinBudget {
  ms: number;
  maxMs: number;
}

export function spinBudget(maxMs: number): SpinBudget {
  return { ms: maxMs, maxMs };
}

const MIN_SPIN_MS = 0.005;

/**
 * Waits until a[i] !== seen: spins for up to the budget (checking the clock
 * every 256 loads), then sleeps in Atomics.wait. Returns the new value.
 * Spinning keeps a cycle's rendezvous in the microseconds: a futex wake-up on
 * this kind of VM costs tens of microseconds, a fair part of a shard's pass.
 */
export function spinWaitChange(a: Int32Array, i: number, seen: number, budget: SpinBudget, sleepers: number): number {
  if (budget.ms > 0) {
    const until = performance.now() + budget.ms;
    for (;;) {
      for (let k = 0; k < 256; k++) {
        const v = Atomics.load(a, i);
        if (v !== seen) {
          budget.ms = Math.min(budget.maxMs, budget.ms * 1.25 + MIN_SPIN_MS);
          return v;
        }
      }
      if (performance.now() > until) break;
    }
    budget.ms = budget.ms / 2 < MIN_SPIN_MS ? MIN_SPIN_MS : budget.ms / 2;
  }
  for (;;) {
    // Announce the sleep before checking the value once more inside Atomics.wait: a writer
    // that stores first and then reads `sleepers` either sees us or we see its store.
    Atomics.add(a, sleepers, 1);
    Atomics.wait(a, i, seen);
    Atomics.sub(a, sleepers, 1);
    const v = Atomics.load(a, i);
    if (v !== seen) return v;
  }
}

/** Wakes the threads asleep on a[i], if any (Atomics.notify costs a system call when someone is). */
export function wake(a: Int32Array, i: number, sleepers: number): void {
  if (Atomics.load(a, sleepers) > 0) Atomics.notify(a, i);
}

export default function serve(task: ServeTask): number {
  const init = workerData as WorkerInit;
  const w = task.index;
  const st = attachState(init.tables, init.buffers);
  const ctx = createThreadCtx(st);
  const ctl = new Int32Array(init.control);
  const g = new Float64Array(init.global);
  const buf = shardBuf(st, init.shards[w] as SharedArrayBuffer, init.cap);
  const reasons = new Int32Array(init.reasons);
  const range = init.ranges[w] as { from: number; to: number };
  const guesses = new Guesses(st, init.guesses);
  const budget = spinBudget(init.spinMs);
  let seen = Atomics.load(ctl, C_EPOCH);
  Atomics.add(ctl, C_READY, 1);
  let cycle: Cycle | null = null;
  let cycles = 0;
  for (;;) {
    seen = spinWaitChange(ctl, C_EPOCH, seen, budget, C_SLEEP_EPOCH);
    const cmd = Atomics.load(ctl, C_CMD);
    if (cmd === CMD.stop) return cycles;
    try {
      if (cmd === CMD.filter) {
        cycle = prepareCycle(ctx, ctl[C_POD] as number);
        filterAndGuess(ctx, cycle, ctl[C_START] as number, range, ctl[C_NUM_TO_FIND] as number, buf, reasons, guesses.for(cycle));
        cycles++;
      } else if (cmd === CMD.score && cycle !== null) {
        const take = ctl[C_TAKES + w] as number;
        if (take > 0) scoreShard(cycle, buf, take, g);
      }
    } catch (err) {
      Atomics.store(ctl, C_FAILED, 1);
      Atomics.add(ctl, C_DONE, 1);
      wake(ctl, C_DONE, C_SLEEP_DONE);
      throw err;
    }
    if (Atomics.add(ctl, C_DONE, 1) === init.helpers - 1) wake(ctl, C_DONE, C_SLEEP_DONE);
  }
}
