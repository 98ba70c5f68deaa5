// Piscina worker: attaches to the shared state once (workerData carries the
// tables and the SharedArrayBuffers), then per task runs PreFilter/PreScore for
// the pod and Filter + Score over one shard of the rotated node order, writing
// entries into the shared result buffer. It never writes the cluster state.
import { workerData } from 'node:worker_threads';
import { createThreadCtx } from './context.js';
import type { ThreadCtx } from './context.js';
import { evaluateRange, prepareCycle } from './framework.js';
import type { Cycle } from './framework.js';
import { attachState } from './state.js';
import type { SchedBuffers, SchedTables } from './state.js';

export interface WorkerInit {
  tables: SchedTables;
  buffers: SchedBuffers;
  result: SharedArrayBuffer;
  reasons: SharedArrayBuffer;
}

export interface ShardTask {
  pod: number;
  start: number;
  from: number;
  to: number;
  numToFind: number;
  base: number;
}

let ctx: ThreadCtx | null = null;
let out: Int32Array | null = null;
let reasons: Int32Array | null = null;
let last: Cycle | null = null;

/** Warm-up: attach, then hold the thread briefly so concurrent warm-ups land on distinct workers. */
export interface WarmupTask {
  warmupMs: number;
}

export default function evaluateShard(task: ShardTask | WarmupTask): [number, number] {
  if (ctx === null || out === null || reasons === null) {
    const init = workerData as WorkerInit;
    ctx = createThreadCtx(attachState(init.tables, init.buffers));
    out = new Int32Array(init.result);
    reasons = new Int32Array(init.reasons);
  }
  if ('warmupMs' in task) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, task.warmupMs);
    return [0, 0];
  }
  // Shards of the same pod may land on the same worker; the cycle is reused then.
  const cycle = last !== null && last.pod === task.pod ? last : prepareCycle(ctx, task.pod);
  last = cycle;
  return evaluateRange(ctx, cycle, task.start, task.from, task.to, task.numToFind, out, task.base, reasons);
}
