// Scheduler worker thread, started by piscina with one long-running `serve` task:
// attaches to the shared state once, then waits on the control block's epoch
// counter (see pool.ts). Each wake-up it joins the open FILTER phase, if any: it
// claims chunks of the cycle's rotated node order from the shared claim word,
// one at a time, runs Filter + raw Score and the chunk's stats and totals with
// the guessed normalisation on each into its own buffers, and then tries to
// record itself as the chunk's finisher. It never writes the cluster state or
// another thread's memory: a thread that was descheduled while holding a chunk
// (which the main thread then filtered itself) finishes into its own buffers,
// loses the race to record the chunk, and nobody reads what it wrote.
import { workerData } from 'node:worker_threads';
import { createThreadCtx } from './context.js';
import type { Cycle, ShardBuf } from './framework.js';
import { filterAndGuess, Guesses, prepareCycle, shardBuf, shardFeasibleCount } from './framework.js';
import type { ShardRange } from './framework.js';
import { MAX_BATCH, podRng, snapshotCycle } from './batch.js';
import { IncrementalEngine } from './incremental.js';
import { SingleShard } from './scheduler.js';
import { attachState } from './state.js';
import type { SchedBuffers, SchedTables } from './state.js';

export interface WorkerInit {
  tables: SchedTables;
  buffers: SchedBuffers;
  /** Int32 control block: C_* slots below. */
  control: SharedArrayBuffer;
  /** BigInt64 claim word (see claimChunk), then the found word (see addFound): CLAIM_BYTES. */
  claim: SharedArrayBuffer;
  /** BigInt64 per chunk: who finished it in which phase (see finishChunk). */
  done: SharedArrayBuffer;
  /** Per class, the guessed normalisation (framework Guesses). */
  guesses: SharedArrayBuffer;
  /** chunks[thread][chunk]: each thread's own ShardBuf per chunk (thread 0 = main). */
  chunks: SharedArrayBuffer[][];
  /** reasons[thread]: each thread's own reasons per position. */
  reasons: SharedArrayBuffer[];
  /** Every chunk's range of positions (index = chunk). */
  ranges: ShardRange[];
  /** Entries per ShardBuf. */
  cap: number;
  /** The longest spin before sleeping, ms (0 when threads outnumber cores). */
  spinMs: number;
  /** Batched mode (batch.ts): Int32 pods[MAX_BATCH] then starts[MAX_BATCH] of the open batch. */
  batchIo: SharedArrayBuffer;
  /** BigInt64 per batch item: who finished it in which phase (finishChunk). */
  batchDone: SharedArrayBuffer;
  /** batchResults[thread]: Int32 node, processed, feasible per item, each thread its own. */
  batchResults: SharedArrayBuffer[];
  /** Int32 ring of the latest commits (pod i's node at i % ringEntries(N)), written by the main thread between batches. */
  commitRing: SharedArrayBuffer;
}

export interface ServeTask {
  /** Thread index, 1 … workers - 1 (0 is the main thread). */
  index: number;
}

// Control block slots (Int32). The phase fields (POD … CHUNKS) are written by
// the main thread before it opens the phase's claim word, and read by a helper
// after it has seen that word open: see claimChunk for why that order suffices.
export const C_EPOCH = 0;
export const C_STOP = 1;
export const C_READY = 2;
/** Helpers asleep in Atomics.wait on C_EPOCH: notify only when someone sleeps. */
export const C_SLEEP_EPOCH = 3;
/** Set by a helper that threw: the main thread stops with an error instead of carrying on without it. */
export const C_FAILED = 4;
export const C_POD = 5;
export const C_START = 6;
export const C_NUM_TO_FIND = 7;
/** Chunks in the phase (claims at or past it fail); in a batch phase, the batch's pods. */
export const C_CHUNKS = 8;
/** MODE_FILTER (chunks of one cycle) or MODE_BATCH (whole cycles of a batch's pods). */
export const C_MODE = 9;
/** A batch phase's seed (podRng) and its first pod's index in the queue. */
export const C_SEED = 10;
export const C_BATCH_FIRST = 11;
/** In a batch phase: 1 when the threads' incremental engines may take the pods (ScheduleOptions.engine). */
export const C_ENGINE = 12;
/** Which schedule() call a batch phase belongs to: a helper's engine starts afresh with each (the commit log restarts at 0). */
export const C_RUN = 13;
/** A batch phase's percentageOfNodesToScore (ThreadCtx.percentage). */
export const C_PERCENTAGE = 14;
export const CONTROL_SLOTS = 15;
export const MODE_FILTER = 0;
export const MODE_BATCH = 1;
/** Int32 per item in batchResults. */
export const BATCH_RESULT_SLOTS = 3;

// The claim word: phase << 21 | closed << 20 | next chunk. A BigInt64, so the
// phase never wraps: a thread that read an old phase and was descheduled for
// any length of time can never claim a chunk of a later one (no ABA).
const PHASE_SHIFT = 21n;
const CLOSED_BIT = 1n << 20n;
const NEXT_MASK = CLOSED_BIT - 1n;
/** The most chunks a phase may have. */
export const MAX_CHUNKS = Number(NEXT_MASK);

export const CLAIM_BYTES = 16;
const FOUND_SHIFT = 32n;
const FOUND_MASK = (1n << FOUND_SHIFT) - 1n;

/** Opens `phase` (the main thread, after writing the phase fields): nothing found yet, chunk 0 is next. */
export function openPhase(claim: BigInt64Array, phase: bigint): void {
  Atomics.store(claim, 1, phase << FOUND_SHIFT);
  Atomics.store(claim, 0, phase << PHASE_SHIFT);
}

/**
 * Adds a finished chunk's feasible nodes to `phase`'s count. The found word
 * carries its phase (phase << 32 | count): a thread that fell behind and
 * records a chunk of an old phase the main thread did not need cannot inflate
 * the count of the phase that is open now (which would stop its claims early).
 */
export function addFound(claim: BigInt64Array, phase: bigint, n: number): void {
  for (;;) {
    const w = Atomics.load(claim, 1);
    if ((w >> FOUND_SHIFT) !== phase) return;
    if (Atomics.compareExchange(claim, 1, w, w + BigInt(n)) === w) return;
  }
}

/** Feasible nodes in `phase`'s finished chunks (+∞ once a later phase is open: stop). */
export function foundIn(claim: BigInt64Array, phase: bigint): number {
  const w = Atomics.load(claim, 1);
  return (w >> FOUND_SHIFT) === phase ? Number(w & FOUND_MASK) : Number.POSITIVE_INFINITY;
}

/** The phase currently in the claim word, or -1n when it is closed. */
export function openPhaseOf(claim: BigInt64Array): bigint {
  const w = Atomics.load(claim, 0);
  return (w & CLOSED_BIT) !== 0n ? -1n : w >> PHASE_SHIFT;
}

/**
 * Claims the next chunk of `phase`, or -1 when the phase is closed, over, or
 * has no chunk left. The main thread writes a phase's fields only after
 * closing the previous phase, and opens the word after writing them; so a
 * thread that saw `phase` open and read the fields afterwards either read this
 * phase's fields, or later ones and then its claims on `phase` fail here.
 */
export function claimChunk(claim: BigInt64Array, phase: bigint, chunks: number): number {
  for (;;) {
    const w = Atomics.load(claim, 0);
    if ((w >> PHASE_SHIFT) !== phase || (w & CLOSED_BIT) !== 0n) return -1;
    const next = Number(w & NEXT_MASK);
    if (next >= chunks) return -1;
    if (Atomics.compareExchange(claim, 0, w, w + 1n) === w) return next;
  }
}

/** Closes the open phase (the main thread): no chunk can be claimed after this. Returns how many were. */
export function closePhase(claim: BigInt64Array): number {
  for (;;) {
    const w = Atomics.load(claim, 0);
    if (Atomics.compareExchange(claim, 0, w, w | CLOSED_BIT) === w) return Number(w & NEXT_MASK);
  }
}

// A chunk's done word: phase << 8 | thread + 1; an older phase in it means "not finished in this one".
const WINNER_BITS = 8n;
const WINNER_MASK = (1n << WINNER_BITS) - 1n;
/** The most threads (the done word's thread field). */
export const MAX_THREADS = Number(WINNER_MASK);

/**
 * Records `thread` as the one that finished chunk k in `phase`, unless some
 * thread already did (in this phase or, for a thread that fell behind, a later
 * one). Call it after writing the chunk's buffers: the winner's buffers are
 * the chunk's result, which the main thread reads after seeing the word.
 */
export function finishChunk(done: BigInt64Array, k: number, phase: bigint, thread: number): boolean {
  const mine = (phase << WINNER_BITS) | BigInt(thread + 1);
  for (;;) {
    const w = Atomics.load(done, k);
    if ((w >> WINNER_BITS) >= phase) return false;
    if (Atomics.compareExchange(done, k, w, mine) === w) return true;
  }
}

/** The thread that finished chunk k in `phase`, or -1. */
export function finisherOf(done: BigInt64Array, k: number, phase: bigint): number {
  const w = Atomics.load(done, k);
  return (w >> WINNER_BITS) === phase ? Number(w & WINNER_MASK) - 1 : -1;
}

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
 * this kind of VM costs tens of microseconds, a fair part of a chunk's pass.
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

/** What a thread needs to work on chunks: its own context, its own buffers and views over the shared blocks. */
export interface ChunkWorker {
  /** Thread index (0 = main). */
  thread: number;
  ctx: ReturnType<typeof createThreadCtx>;
  ctl: Int32Array;
  claim: BigInt64Array;
  done: BigInt64Array;
  /** This thread's ShardBuf per chunk. */
  bufs: ShardBuf[];
  ranges: ShardRange[];
  /** This thread's reasons per position. */
  reasons: Int32Array;
  guesses: Guesses;
}

/** Filters chunk k into this thread's buffers and records it if no thread did first. */
export function filterChunk(w: ChunkWorker, c: Cycle, phase: bigint, k: number, start: number, numToFind: number): void {
  const b = w.bufs[k] as ShardBuf;
  filterAndGuess(w.ctx, c, start, w.ranges[k] as ShardRange, numToFind, b, w.reasons, w.guesses.for(c));
  if (finishChunk(w.done, k, phase, w.thread)) addFound(w.claim, phase, shardFeasibleCount(b));
}

/**
 * Claims chunks of `phase` until none is left or the finished chunks hold
 * numToFind feasible nodes, filtering each; or, given `pauseAfter`, until it
 * has examined that many positions. Returns the positions examined.
 *
 * `alone`: no other thread works on this phase (the main thread before it
 * wakes the helpers), so the chunks before this one are all finished and
 * their count is exact: a chunk then stops at the feasible node that
 * completes numToFind, as the single-shard pass does, instead of filtering
 * to numToFind of its own and having its stats recomputed for the prefix
 * that is taken.
 */
export function filterChunks(w: ChunkWorker, c: Cycle, phase: bigint, start: number, numToFind: number, chunks: number, pauseAfter = Number.POSITIVE_INFINITY, alone = false): number {
  let examined = 0;
  for (;;) {
    const found = foundIn(w.claim, phase);
    if (found >= numToFind) return examined;
    const k = claimChunk(w.claim, phase, chunks);
    if (k < 0) return examined;
    filterChunk(w, c, phase, k, start, alone ? numToFind - found : numToFind);
    const r = w.ranges[k] as ShardRange;
    examined += r.to - r.from;
    if (examined >= pauseAfter) return examined;
  }
}

/** One thread's views: its own buffers (index `thread` of the per-thread lists) and the shared blocks. */
export function chunkWorker(init: WorkerInit, st: ReturnType<typeof attachState>, thread: number): ChunkWorker {
  return {
    thread, ctx: createThreadCtx(st), ctl: new Int32Array(init.control), claim: new BigInt64Array(init.claim), done: new BigInt64Array(init.done),
    bufs: (init.chunks[thread] as SharedArrayBuffer[]).map((b) => shardBuf(st, b, init.cap)), ranges: init.ranges,
    reasons: new Int32Array(init.reasons[thread] as SharedArrayBuffer), guesses: new Guesses(st, init.guesses),
  };
}

/** A helper's own means for whole cycles of a batch (made on its first batch phase). */
interface BatchWorker {
  shard: SingleShard;
  /** Its own guesses: a guess another thread rewrites mid-cycle could pass for the right one (see decide). */
  guesses: Guesses;
  /** Its own incremental engine, folding in the commits from the ring, for the schedule() call `run`. */
  engine: IncrementalEngine;
  run: number;
  ring: Int32Array;
  io: Int32Array;
  done: BigInt64Array;
  results: Int32Array;
}

/** Claims items of a batch phase until none is left, runs each pod's cycle on the snapshot and records it. */
function serveBatch(w: ChunkWorker, bw: BatchWorker, phase: bigint): void {
  const { ctl } = w;
  const size = Atomics.load(ctl, C_CHUNKS);
  const first = Atomics.load(ctl, C_BATCH_FIRST);
  const seed = Atomics.load(ctl, C_SEED);
  const numToFind = Atomics.load(ctl, C_NUM_TO_FIND);
  w.ctx.percentage = Atomics.load(ctl, C_PERCENTAGE);
  const run = Atomics.load(ctl, C_RUN);
  if (run !== bw.run) {
    bw.engine = new IncrementalEngine(w.ctx.st);
    bw.run = run;
  }
  const engine = Atomics.load(ctl, C_ENGINE) === 1 ? bw.engine : null;
  const commits = { log: bw.ring, len: first };
  for (;;) {
    const t = claimChunk(w.claim, phase, size);
    if (t < 0) return;
    const d = snapshotCycle(w.ctx, bw.shard, bw.guesses, engine, commits, bw.io[t] as number, bw.io[MAX_BATCH + t] as number, numToFind, podRng(seed, first + t));
    const o = BATCH_RESULT_SLOTS * t;
    bw.results[o] = d.node;
    bw.results[o + 1] = d.processed;
    bw.results[o + 2] = d.feasible;
    if (!finishChunk(bw.done, t, phase, w.thread)) {
      // The main thread ran this pod itself and may have committed since, while this cycle read the state:
      // whatever the engine kept from it cannot be trusted.
      bw.engine = new IncrementalEngine(w.ctx.st);
      return;
    }
  }
}

export default function serve(task: ServeTask): number {
  const init = workerData as WorkerInit;
  const st = attachState(init.tables, init.buffers);
  const w = chunkWorker(init, st, task.index);
  const { ctl, claim } = w;
  const budget = spinBudget(init.spinMs);
  let seen = Atomics.load(ctl, C_EPOCH);
  Atomics.add(ctl, C_READY, 1);
  let cycle: Cycle | null = null;
  let cyclePod = -1;
  let phases = 0;
  let bw: BatchWorker | undefined;
  for (;;) {
    seen = spinWaitChange(ctl, C_EPOCH, seen, budget, C_SLEEP_EPOCH);
    if (Atomics.load(ctl, C_STOP) !== 0) return phases;
    const phase = openPhaseOf(claim);
    if (phase < 0n) continue;
    try {
      if (Atomics.load(ctl, C_MODE) === MODE_BATCH) {
        bw ??= {
          shard: new SingleShard(st), guesses: new Guesses(st), engine: new IncrementalEngine(st), run: -1, ring: new Int32Array(init.commitRing),
          io: new Int32Array(init.batchIo), done: new BigInt64Array(init.batchDone), results: new Int32Array(init.batchResults[task.index] as SharedArrayBuffer),
        };
        serveBatch(w, bw, phase);
        phases++;
        continue;
      }
      // Pod indices never repeat, so a cycle prepared for this pod is this cycle's.
      const pod = Atomics.load(ctl, C_POD);
      if (cycle === null || cyclePod !== pod) { cycle = prepareCycle(w.ctx, pod); cyclePod = pod; }
      filterChunks(w, cycle, phase, Atomics.load(ctl, C_START), Atomics.load(ctl, C_NUM_TO_FIND), Atomics.load(ctl, C_CHUNKS));
      phases++;
    } catch (err) {
      Atomics.store(ctl, C_FAILED, 1);
      throw err;
    }
  }
}
