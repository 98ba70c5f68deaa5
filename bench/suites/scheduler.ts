// kube-scheduler's default filter/score pipeline on synthetic clusters shaped
// like scheduler_perf's workloads: throughput (pods/s) and per-pod latency per
// workload, worker count (0 = single-threaded reference path; N = N threads
// claiming work-stealing chunks of the node order: the main thread and N - 1
// persistent workers; quick and full sweep 1 … cores) and
// percentageOfNodesToScore (100 = every node, 0 = upstream's adaptive formula).
// Each throughput measurement carries the CPU time per pod of all threads and
// the sampled per-plugin time share (plugintime.ts) in `extra`.
// Every run records what actually ran: with a time budget, `pods` is the number
// of pods that went through a cycle and `podsRequested` what was asked for.
// scheduler_perf's published thresholds ride along as an anchor, not as a
// measurement of ours.
import { availableParallelism } from 'node:os';
import type { ProfileName, Suite, SuiteContext } from '../../src/bench/types.js';
import type { Measurement } from '../../src/results/types.js';
import { runSynthetic, SCHEDULER_PERF_THRESHOLDS, WORKLOADS } from '../../src/scheduler/index.js';
import { CHUNK_NODES, SOLO_NODES } from '../../src/scheduler/pool.js';
import type { Workload } from '../../src/scheduler/index.js';

interface Sizes {
  nodes: number;
  /** Pods per workload. */
  pods: Partial<Record<Workload, number>>;
  /** 0 = reference path. */
  workers: number[];
  percentages: number[];
  /** Wall-time budget per run. */
  maxMs: number;
}

const cores = Math.max(1, availableParallelism());
const sweep = (upTo: number): number[] => [0, ...Array.from({ length: Math.min(upTo, cores) }, (_, i) => i + 1)];

const SIZES: Record<ProfileName, Sizes> = {
  smoke: { nodes: 500, pods: { basic: 1000, mixed: 1000 }, workers: [0, 2], percentages: [100], maxMs: 10_000 },
  quick: { nodes: 5000, pods: Object.fromEntries(WORKLOADS.map((w) => [w, 3000])), workers: sweep(2), percentages: [100, 0], maxMs: 20_000 },
  full: { nodes: 5000, pods: { basic: 50_000, spread: 50_000, antiaffinity: 5000, nodeaffinity: 50_000, mixed: 150_000 }, workers: sweep(cores), percentages: [100, 0], maxMs: 180_000 },
  ci: { nodes: 1000, pods: { basic: 2000, mixed: 2000 }, workers: [0, 2], percentages: [100], maxMs: 20_000 },
};

function combos(sizes: Sizes): { workload: Workload; pods: number; workers: number; percentage: number }[] {
  const out: { workload: Workload; pods: number; workers: number; percentage: number }[] = [];
  for (const workload of WORKLOADS) {
    const pods = sizes.pods[workload];
    if (pods === undefined) continue;
    for (const percentage of sizes.percentages) for (const workers of sizes.workers) out.push({ workload, pods, workers, percentage });
  }
  return out;
}

const MAX_RAW_SAMPLES = 20_000;

function histogram(xs: Float64Array): { le: number; count: number }[] {
  const bounds = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, Number.MAX_VALUE];
  const counts = bounds.map(() => 0);
  for (const x of xs) counts[bounds.findIndex((b) => x <= b)]! += 1;
  return bounds.map((le, i) => ({ le, count: counts[i] as number }));
}

export const schedulerSuite: Suite = {
  name: 'scheduler',
  description: "kube-scheduler's default filter/score plugins over SharedArrayBuffer state, reference path vs persistent workers claiming chunks of the node order (SharedArrayBuffer + Atomics)",
  steps: (profile) => combos(SIZES[profile.name]).length,
  async run(ctx: SuiteContext) {
    const sizes = SIZES[ctx.profile.name];
    // One worker's throughput per workload and percentage: later worker counts report their speed-up over it.
    const oneWorker = new Map<string, number>();
    for (const c of combos(sizes)) {
      const mode = c.workers === 0 ? 'reference' : 'pool';
      ctx.progress.step(`scheduler: ${c.workload} ${sizes.nodes} nodes ${c.pods} pods ${mode}${c.workers ? ` ×${c.workers}` : ''} ${c.percentage || 'adaptive'}%`);
      const baseParams = { workload: c.workload, nodes: sizes.nodes, workers: c.workers, mode, percentageOfNodesToScore: c.percentage };
      try {
        const r = await runSynthetic({ workload: c.workload, nodes: sizes.nodes, pods: c.pods, workers: c.workers, percentage: c.percentage, seed: ctx.seed, maxMs: sizes.maxMs });
        const params = { ...baseParams, pods: r.scheduled, podsRequested: c.pods };
        const anchor = SCHEDULER_PERF_THRESHOLDS[c.workload];
        const extra = {
          rescored: r.result.rescored, placed: r.placed, unschedulable: r.unschedulable, elapsedMs: r.elapsedMs, buildMs: r.buildMs, topReasons: r.topReasons,
          // CPU of every thread per pod (spinning helpers included): with wall time, what a worker count costs.
          cpuUsPerPod: r.scheduled > 0 ? (1000 * r.result.cpuMs) / r.scheduled : null,
          ...(c.workers > 1 ? { chunkNodes: CHUNK_NODES, soloNodes: SOLO_NODES } : {}),
          ...(c.workers > 1 && oneWorker.has(`${c.workload}/${c.percentage}`) ? { speedupVsOneWorker: r.podsPerSecond / (oneWorker.get(`${c.workload}/${c.percentage}`) as number) } : {}),
          // Sampled per-plugin share of filter + score time (one cycle in pluginTimeShare.every).
          pluginTimeShare: r.pluginTimeShare ? { sampledCycles: r.pluginTimeShare.sampledCycles, every: r.pluginTimeShare.every, share: r.pluginTimeShare.share } : null,
          cutShortByTimeBudget: r.scheduled < c.pods, timeBudgetMs: sizes.maxMs, classes: r.built.state.tables.classes.length,
          ...(anchor ? { schedulerPerfAnchor: { ...anchor, note: 'upstream scheduler_perf threshold for a comparable shape, not measured here' } } : {}),
        };
        if (c.workers === 1 && r.scheduled === c.pods) oneWorker.set(`${c.workload}/${c.percentage}`, r.podsPerSecond);
        ctx.record({ suite: 'scheduler', name: 'throughput', unit: 'pods/s', params, status: 'ok', samples: [r.podsPerSecond], extra });
        const lat: Measurement = { suite: 'scheduler', name: 'pod-latency', unit: 'ms', params, status: 'ok' };
        if (r.latency) lat.summary = r.latency;
        if (r.result.latenciesMs.length <= MAX_RAW_SAMPLES) lat.samples = Array.from(r.result.latenciesMs);
        else lat.histogram = { buckets: histogram(r.result.latenciesMs) };
        ctx.record(lat);
      } catch (err) {
        const params = { ...baseParams, pods: 0, podsRequested: c.pods };
        ctx.record({ suite: 'scheduler', name: 'throughput', unit: 'pods/s', params, status: 'failed', reason: (err as Error).message });
      }
    }
  },
};
