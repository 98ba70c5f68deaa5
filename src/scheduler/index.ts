// The scheduler benchmark's public surface: build a synthetic (or given)
// cluster, schedule its pending pods on the reference path or the shard workers (pool.ts),
// and summarize what happened.
import { summarize } from '../stats/summary.js';
import type { Summary } from '../stats/summary.js';
import { SchedulerPool } from './pool.js';
import { scheduleReferenceAsync } from './scheduler.js';
import type { Engine, ScheduleOptions, ScheduleResult } from './scheduler.js';
import type { PluginTimeShare } from './plugintime.js';
import { buildState } from './state.js';
import type { BuiltState } from './state.js';
import { generateNodes, generatePods } from './synthetic.js';
import type { Workload } from './synthetic.js';

export { buildState } from './state.js';
export { explainPod } from './explain.js';
export type { NodeExplanation } from './explain.js';
export { generateNodes, generatePods, isWorkload, SCHEDULER_PERF_THRESHOLDS, WORKLOADS } from './synthetic.js';
export type { Workload } from './synthetic.js';
export { SchedulerPool } from './pool.js';
export { scheduleReference, scheduleReferenceAsync } from './scheduler.js';
export { ENGINES } from './scheduler.js';
export { MAX_BATCH } from './batch.js';
export type { Engine, ScheduleOptions, ScheduleResult } from './scheduler.js';
export type { PluginTimeShare } from './plugintime.js';

/** How to schedule a built state: the part of RunSpec both the synthetic and the manifest path share. */
export interface ScheduleSpec {
  /** 0 = single-threaded reference path; N ≥ 1 = N threads over node shards (main + N - 1 persistent workers). */
  workers: number;
  /** 0 = adaptive, 100 = all nodes. */
  percentage: number;
  /** Seeds tie-breaking among equal best scores. */
  seed: number;
  /** The pool's engine for the cycles it applies to (ScheduleOptions.engine); the reference path is always full. Default 'full'. */
  engine?: Engine;
  /** Pods per batch of the batched optimistic mode (ScheduleOptions.batch); 1 (default): one at a time. */
  batch?: number;
  maxMs?: number;
  /** ScheduleOptions.onProgress. */
  onProgress?: (scheduled: number, pending: number) => void;
  /** ScheduleOptions.stopAtUnschedulable. */
  stopAtUnschedulable?: boolean;
}

/** A synthetic run: the cluster's shape and how to schedule it. */
export interface RunSpec extends ScheduleSpec {
  workload: Workload;
  nodes: number;
  pods: number;
}

export interface BuiltRunSummary {
  mode: 'reference' | 'pool';
  /** The engine that ran: 'incremental' when it took cycles, else 'full' (the reference path, or no cycle it applies to). */
  engine: Engine;
  /** Cycles the incremental engine answered (the rest were the full pass). */
  incrementalCycles: number;
  scheduled: number;
  placed: number;
  unschedulable: number;
  elapsedMs: number;
  podsPerSecond: number;
  latency: Summary | null;
  topReasons: [string, number][];
  /** Sampled share of time per filter/score plugin (plugintime.ts); null when sampling was off. */
  pluginTimeShare: PluginTimeShare | null;
  result: ScheduleResult;
  built: BuiltState;
}

export interface RunSummary extends BuiltRunSummary {
  spec: RunSpec;
  buildMs: number;
}

/** Schedules the pending pods of a built state (synthetic or from manifests) and summarizes; the measured span is the scheduling loop only. */
export async function scheduleBuilt(built: BuiltState, spec: ScheduleSpec): Promise<BuiltRunSummary> {
  const opts: ScheduleOptions = {
    percentageOfNodesToScore: spec.percentage, seed: spec.seed, engine: spec.engine ?? 'full', batch: spec.batch ?? 1, ...(spec.maxMs !== undefined ? { maxMs: spec.maxMs } : {}),
    ...(spec.onProgress ? { onProgress: spec.onProgress } : {}), ...(spec.stopAtUnschedulable ? { stopAtUnschedulable: true } : {}),
  };
  let result: ScheduleResult;
  // What ran: the incremental engine only where it took cycles (on the pool: every node scored, or a class few nodes fit).
  let engine: Engine = 'full';
  let incrementalCycles = 0;
  if (spec.workers === 0) result = await scheduleReferenceAsync(built.state, built.pending, opts);
  else {
    const pool = new SchedulerPool(built.state, spec.workers);
    try {
      result = await pool.schedule(built.pending, opts);
      incrementalCycles = pool.stats.incrementalCycles;
      if (incrementalCycles > 0) engine = 'incremental';
    } finally {
      await pool.close();
    }
  }
  const placed = result.placements.reduce((n, x) => n + (x >= 0 ? 1 : 0), 0);
  return {
    mode: spec.workers === 0 ? 'reference' : 'pool', engine, incrementalCycles, scheduled: result.scheduled, placed, unschedulable: result.unschedulable.length,
    elapsedMs: result.elapsedMs, podsPerSecond: result.scheduled / (result.elapsedMs / 1000),
    latency: result.scheduled > 0 ? summarize(result.latenciesMs) : null,
    topReasons: [...result.reasonTotals].sort((a, b) => b[1] - a[1]).slice(0, 5), pluginTimeShare: result.pluginTimes, result, built,
  };
}

/** Builds the synthetic cluster and schedules it; the measured span is the scheduling loop only. */
export async function runSynthetic(spec: RunSpec): Promise<RunSummary> {
  const b0 = performance.now();
  const built = buildState(generateNodes(spec.nodes, spec.seed), generatePods(spec.workload, spec.pods, spec.seed, spec.nodes));
  const buildMs = performance.now() - b0;
  return { ...(await scheduleBuilt(built, spec)), spec, buildMs };
}
