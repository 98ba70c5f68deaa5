// The worker-thread path: a piscina pool whose workers share the cluster state
// (SharedArrayBuffers, never copied). Per pod, the rotated node order is cut
// into one contiguous shard per worker; each worker runs PreFilter/PreScore and
// Filter + Score over its shard (stopping after numToFind feasible nodes) into
// the shared result buffer; the main thread concatenates the shards in order,
// normalizes, selects and commits before the next pod, as kube-scheduler runs
// one pod at a time in parallel over nodes.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { InputError } from '../errors.js';
import { createThreadCtx } from './context.js';
import type { RangeResult } from './framework.js';
import { entryStride, numFeasibleNodesToFind, prepareCycle } from './framework.js';
import { CycleRecorder } from './scheduler.js';
import type { ScheduleOptions, ScheduleResult } from './scheduler.js';
import type { SchedState } from './state.js';
import type { ShardTask, WarmupTask, WorkerInit } from './worker.js';

/** dist/…/worker.js when running the built CLI; the .ts bootstrap when running from sources (vitest). */
function workerFile(): string {
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(js)) return js;
  return fileURLToPath(new URL('./worker-ts.mjs', import.meta.url));
}

export class SchedulerPool {
  readonly workers: number;
  private readonly pool: Piscina;
  private readonly out: Int32Array;
  private readonly reasons: Int32Array;
  private readonly shardLen: number;

  constructor(private readonly st: SchedState, workers: number) {
    if (!Number.isInteger(workers) || workers < 1 || workers > Math.max(64, availableParallelism())) {
      throw new InputError('--workers', `must be an integer from 1 to ${Math.max(64, availableParallelism())}, got ${workers}`);
    }
    this.workers = workers;
    this.shardLen = Math.ceil(st.N / workers);
    const result = new SharedArrayBuffer(workers * this.shardLen * entryStride(st) * 4);
    const reasons = new SharedArrayBuffer(st.N * 4);
    this.out = new Int32Array(result);
    this.reasons = new Int32Array(reasons);
    const workerData: WorkerInit = { tables: st.tables, buffers: st.buffers, result, reasons };
    this.pool = new Piscina({ filename: workerFile(), minThreads: workers, maxThreads: workers, idleTimeout: 60_000, workerData });
  }

  /** Starts every worker and waits until each has loaded and attached, so no start-up lands in a measurement. */
  async ready(): Promise<void> {
    const warm: WarmupTask = { warmupMs: 50 };
    await Promise.all(Array.from({ length: this.workers }, () => this.pool.run(warm)));
  }

  async schedule(pending: number[], opts: ScheduleOptions): Promise<ScheduleResult> {
    await this.ready();
    const { st } = this;
    const S = entryStride(st);
    const rec = new CycleRecorder(st, pending.length, opts.seed);
    const numToFind = numFeasibleNodesToFind(opts.percentageOfNodesToScore, st.N);
    // The main thread needs the cycle too (for NormalizeScore); it is the same pure function the workers run.
    const ctx = createThreadCtx(st);
    const began = performance.now();
    const deadline = began + (opts.maxMs ?? Number.POSITIVE_INFINITY);
    for (let i = 0; i < pending.length; i++) {
      const pod = pending[i] as number;
      const t0 = performance.now();
      if (t0 > deadline) break;
      const tasks: Promise<[number, number]>[] = [];
      const shards: RangeResult[] = [];
      for (let w = 0; w < this.workers; w++) {
        const from = w * this.shardLen;
        const to = Math.min(st.N, from + this.shardLen);
        if (from >= to) break;
        const task: ShardTask = { pod, start: rec.nextStart, from, to, numToFind, base: w * this.shardLen * S };
        shards.push({ from, base: task.base, examined: 0, feasible: 0 });
        tasks.push(this.pool.run(task) as Promise<[number, number]>);
      }
      const c = prepareCycle(ctx, pod);
      const done = await Promise.all(tasks);
      done.forEach(([examined, feasible], w) => { const sh = shards[w] as RangeResult; sh.examined = examined; sh.feasible = feasible; });
      rec.finish(i, c, this.out, this.reasons, shards, numToFind, t0);
    }
    return rec.result(performance.now() - began);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
