// Writes: put latency and throughput at a fixed number of puts in flight, and
// the preload of a Kubernetes-sized keyspace. Values are generated before the
// clock starts so the client's JSON work never lands in a latency sample.
import type { Etcd3, IRequestOp } from 'etcd3';
import { podKey, podRef, podValue } from './objects.js';

export interface PutRun {
  concurrency: number;
  /** One latency per put, issue → acknowledgement, in ms. */
  latenciesMs: number[];
  wallMs: number;
  opsPerSec: number;
  valueBytes: number;
  /** CPU this process used during the run (user + system, ms; all threads). */
  clientCpuMs: number;
}

export interface PutOptions {
  keyPrefix: string;
  count: number;
  concurrency: number;
  /** Distinguishes the pods of one run from another's (p, q…) so every put creates a new key. */
  tag: string;
  seed: number;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

export async function measurePuts(client: Etcd3, o: PutOptions): Promise<PutRun> {
  const items = Array.from({ length: o.count }, (_, i) => {
    const ref = podRef(i, o.tag);
    return { key: podKey(o.keyPrefix, ref.namespace, ref.name), value: podValue(ref, o.seed + i) };
  });
  const latenciesMs = new Array<number>(o.count);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  // `concurrency` loops, each keeping one put in flight: a closed loop, as a controller with N workers writes.
  const loop = async (): Promise<void> => {
    for (let i = next++; i < o.count; i = next++) {
      const item = items[i] as { key: string; value: Buffer };
      const start = nowMs();
      await client.put(item.key).value(item.value).exec();
      latenciesMs[i] = Math.round((nowMs() - start) * 1000) / 1000; // µs resolution keeps results files small
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, loop));
  const wallMs = nowMs() - t0;
  const valueBytes = items.reduce((n, x) => n + x.value.length, 0) / Math.max(1, items.length);
  return { concurrency: o.concurrency, latenciesMs, wallMs, opsPerSec: (o.count * 1000) / wallMs, valueBytes, clientCpuMs: cpuMsSince(cpu0) };
}

export interface PreloadResult {
  pods: number;
  wallMs: number;
  bytes: number;
}

/**
 * Load `count` pods as fast as etcd takes them: transactions of `batch` puts
 * (etcd's default --max-txn-ops is 128), a few in flight. Not a measurement of
 * its own — it builds the keyspace the preloaded puts then run against.
 */
export async function preloadPods(client: Etcd3, o: { keyPrefix: string; count: number; seed: number; batch?: number; inFlight?: number; onProgress?: (done: number) => void }): Promise<PreloadResult> {
  const batch = o.batch ?? 100;
  const batches = Math.ceil(o.count / batch);
  let nextBatch = 0;
  let done = 0;
  let bytes = 0;
  const t0 = nowMs();
  const loop = async (): Promise<void> => {
    for (let b = nextBatch++; b < batches; b = nextBatch++) {
      const ops: IRequestOp[] = [];
      for (let i = b * batch; i < Math.min(o.count, (b + 1) * batch); i++) {
        const ref = podRef(i, 'pre');
        const value = podValue(ref, o.seed + 1_000_000 + i);
        bytes += value.length;
        ops.push({ request_put: { key: Buffer.from(podKey(o.keyPrefix, ref.namespace, ref.name)), value } });
      }
      await client.kv.txn({ success: ops });
      done += ops.length;
      o.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: o.inFlight ?? 4 }, loop));
  return { pods: done, wallMs: nowMs() - t0, bytes };
}
