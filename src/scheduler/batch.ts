// Batched optimistic scheduling: opt-in (ScheduleOptions.batch > 1,
// `kscale schedule --batch B`), and not what kube-scheduler does.
//
// kube-scheduler places one pod at a time: each cycle sees every earlier
// commit. Here B pods at a time run their whole cycle (Filter, Score, select)
// against one snapshot of the state, each on whichever thread claims it, and
// are then committed in queue order; each one after the first is first
// re-checked against the state as committed so far (the chosen node's whole
// Filter chain: resources, ports, spread, affinity). A pod whose node no
// longer fits, or that found no node on the snapshot, runs its cycle again on
// the committed state. So every placement is feasible when it is committed,
// as in upstream's sequential mode; what differs is that its scores may be a
// few commits old, so placements differ from the sequential ones (the JSON
// reports how many pods were re-run).
//
// Only a pod whose filters can have moved is re-checked: one whose node an
// earlier pod of the batch took (resources, ports, pod count), or whose class
// reads domain counts in its filters (hard spread, InterPodAffinity terms).
// Other filters read nothing a commit elsewhere changes.
//
// Below 100%, a pod of a class few nodes fit (SparseClasses: its cycle
// examines every node) is not batched: it runs alone, on the committed state,
// through the incremental engine when there is one (the same decision as the
// full pass): re-running such pods after a batch, as most of them end
// unschedulable, cost more than batching them saved.
//
// Pod t of a batch starts its rotated order at the batch's start plus t·N/B,
// so the pods' windows (below 100%) overlap as little as possible, and the
// next batch starts where its last pod stopped. Each pod draws its ties from
// its own seeded stream (podRng), so which thread computed it never matters:
// the same seed and batch size give the same placements with any number of
// workers, on the reference path too (a test checks it).
import { mulberry32 } from '../stats/summary.js';
import type { ThreadCtx } from './context.js';
import { memoClass } from './context.js';
import type { Cycle, Decision, NodeColumns } from './framework.js';
import { evaluateNode, Guesses, nodeColumns, prepareCycle } from './framework.js';
import type { IncrementalEngine, SparseClasses } from './incremental.js';
import { affinityFilterCanMove } from './plugins/interpodaffinity.js';
import type { CycleRecorder, SingleShard } from './scheduler.js';
import type { SchedState } from './state.js';

/** The most pods one batch may hold. */
export const MAX_BATCH = 64;

/** Where pod t of a B-pod batch starts its rotated order, given the batch's start: B evenly spaced starts. */
export function batchStart(start: number, N: number, B: number, t: number): number {
  return (start + Math.floor((t * N) / B)) % N;
}

/** Pending pod i's own tie-breaking stream in batched mode (a mix of the run's seed and i). */
export function podRng(seed: number, i: number): () => number {
  return mulberry32((Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
}

/** One pod's whole cycle on the calling thread against the state as it is. */
export function runCycle(ctx: ThreadCtx, shard: SingleShard, guesses: Guesses, pod: number, start: number, numToFind: number, rng: () => number): Decision {
  const c = prepareCycle(ctx, pod);
  return shard.cycle(ctx, c, start, numToFind, rng, guesses.for(c));
}

/** The commits before a batch, for a thread's incremental engine (IncrementalEngine.cycle's log and logLen). */
export interface CommitLog {
  log: Int32Array;
  len: number;
}

/**
 * A batch pod's cycle on the snapshot: with every node scored, through this
 * thread's incremental engine when there is one and it applies (the same
 * decision as the full pass, on the state after `commits`), else the full pass.
 */
export function snapshotCycle(
  ctx: ThreadCtx, shard: SingleShard, guesses: Guesses, engine: IncrementalEngine | null, commits: CommitLog,
  pod: number, start: number, numToFind: number, rng: () => number,
): Decision {
  const c = prepareCycle(ctx, pod);
  if (engine !== null && numToFind >= ctx.st.N && engine.applies(c, numToFind)) {
    const d = engine.cycle(ctx, c, start, numToFind, rng, commits.log, commits.len);
    if (d !== null) return d;
  }
  return shard.cycle(ctx, c, start, numToFind, rng, guesses.for(c));
}

export interface BatchStats {
  batches: number;
  /** Pods whose snapshot node no longer fitted when their turn to commit came. */
  conflicts: number;
  /** Pods after a batch's first whose cycle ran again on the committed state (conflicts, and pods that found no node on the snapshot). */
  reruns: number;
  /** Below 100%: pods of sparse classes, run alone instead of batched. */
  alone: number;
}

export function batchStats(): BatchStats {
  return { batches: 0, conflicts: 0, reruns: 0, alone: 0 };
}

/** One batch's pods, their starts and their snapshot decisions (null: none yet). */
export interface Batch {
  /** Index of the batch's first pod in the pending queue. */
  first: number;
  pods: Int32Array;
  starts: Int32Array;
  decisions: (Decision | null)[];
  size: number;
}

export function newBatch(): Batch {
  return { first: 0, pods: new Int32Array(MAX_BATCH), starts: new Int32Array(MAX_BATCH), decisions: Array.from({ length: MAX_BATCH }, () => null), size: 0 };
}

/**
 * Fills the batch with up to B pods from pending[first …] starting at
 * `start`, stopping before a pod of a sparse class (size 0: pending[first]
 * is one, and runs alone).
 */
export function planBatch(b: Batch, pending: number[], first: number, B: number, start: number, st: SchedState, sparse: SparseClasses | null): void {
  let size = 0;
  const most = Math.min(B, pending.length - first);
  while (size < most && !(sparse?.has(st.podClass[pending[first + size] as number] as number) ?? false)) size++;
  b.first = first;
  b.size = size;
  for (let t = 0; t < size; t++) {
    b.pods[t] = pending[first + t] as number;
    b.starts[t] = batchStart(start, st.N, size, t);
    b.decisions[t] = null;
  }
}

/**
 * A pod of a sparse class, alone on the committed state: the engine's cycle
 * when it applies, else the full pass (a sparse class that now fits numToFind
 * nodes is handed back, as the engine would).
 */
export function aloneCycle(
  ctx: ThreadCtx, c: Cycle, start: number, numToFind: number, rng: () => number, shard: SingleShard, guesses: Guesses,
  sparse: SparseClasses, engine: IncrementalEngine | null, log: Int32Array, logLen: number,
): Decision {
  const d = engine !== null && engine.applies(c, numToFind) ? engine.cycle(ctx, c, start, numToFind, rng, log, logLen) : null;
  if (d !== null) return d;
  const full = shard.cycle(ctx, c, start, numToFind, rng, guesses.for(c));
  if (full.feasible >= numToFind && sparse.has(c.classId)) sparse.handBack(c.classId);
  return full;
}

/** Whether a commit to another node can change this class's filter verdicts (hard spread, InterPodAffinity terms). */
function readsDomainCounts(ctx: ThreadCtx, classId: number): boolean {
  return memoClass(ctx, 'batch-reads-domains', classId, () => {
    const cls = ctx.st.tables.classes[classId];
    return cls !== undefined && (cls.spreadHard.length > 0 || affinityFilterCanMove(ctx, cls));
  });
}

/** Whether a pod still fits a node on the state as it is now: the node's whole Filter chain. */
export class ConflictCheck {
  private readonly cols: NodeColumns;

  constructor(st: SchedState) {
    this.cols = nodeColumns(st);
  }

  fits(ctx: ThreadCtx, pod: number, node: number): boolean {
    const { reason, fit, ipa, spread } = this.cols;
    evaluateNode(ctx, prepareCycle(ctx, pod), node, reason, fit, ipa, spread);
    return reason[node] === 0;
  }
}

/**
 * Runs pending pod i's cycle again on the state committed so far (the pods
 * before it): the full pass, or an incremental engine's same decision.
 */
export type Rerun = (pod: number, i: number, start: number, rng: () => number) => Decision;

/**
 * Commits a batch whose snapshot decisions are all in: in queue order, each
 * pod after the first re-checked (when its filters can have moved) on the
 * state committed so far, and run again there when its node no longer fits
 * or it found none (a decision from another thread carries no reasons, so an
 * unschedulable first pod runs again too). Shows every decision to `sparse`
 * (below 100%), then sets where the next batch starts. `t0`: when the batch
 * began, each pod's latency runs from there to its commit.
 */
export function commitBatch(
  ctx: ThreadCtx, rec: CycleRecorder, b: Batch, check: ConflictCheck, rerun: Rerun,
  numToFind: number, seed: number, stats: BatchStats, sparse: SparseClasses | null, t0: number,
): void {
  const { st } = ctx;
  let last: Decision | null = null;
  for (let t = 0; t < b.size; t++) {
    const i = b.first + t;
    const pod = b.pods[t] as number;
    const classId = st.podClass[pod] as number;
    let d = b.decisions[t] as Decision;
    let moved = false;
    if (t > 0 && d.node >= 0) {
      moved = readsDomainCounts(ctx, classId);
      for (let u = 0; u < t && !moved; u++) if ((b.decisions[u] as Decision).node === d.node) moved = true;
    }
    if (d.node < 0 ? t > 0 || d.reasons === null : moved && !check.fits(ctx, pod, d.node)) {
      if (d.node >= 0) stats.conflicts++;
      // The first pod's run for its reasons alone is the same cycle again, not a re-run.
      if (t > 0) stats.reruns++;
      d = rerun(pod, i, b.starts[t] as number, podRng(seed, i));
      b.decisions[t] = d;
    }
    if (rec.timer?.wants(i)) rec.sample(i, ctx, prepareCycle(ctx, pod), b.starts[t] as number, numToFind);
    rec.finish(i, pod, d, t0);
    sparse?.observe(classId, numToFind, d);
    last = d;
  }
  stats.batches++;
  if (last !== null) rec.nextStart = ((b.starts[b.size - 1] as number) + last.processed) % st.N;
}
