// Watch latency: W watchers on the pods prefix, spread over a few gRPC
// connections; one put at a time, and for every (event, watcher) pair the time
// from the put being issued and from its acknowledgement to the event's
// arrival at that watcher. The next put waits until every watcher has the
// previous event (or its deadline passed), so the numbers are fan-out latency,
// not a queue the client built itself. Every delivery is accounted for: a
// missing or duplicated one is reported and fails the measurement.
import type { Etcd3, Watcher } from 'etcd3';
import { connect } from './client.js';
import type { EtcdTarget } from './client.js';
import { podKey, podRef, podsPrefix, podValue } from './objects.js';

export interface WatchOptions {
  watchers: number;
  events: number;
  seed: number;
  /** gRPC connections the watchers are spread over (default min(W, 8)). */
  connections?: number;
  /** How long one event may take to reach every watcher before its missing deliveries count as lost. */
  arrivalTimeoutMs?: number;
  /** Etcd's CPU so far (embedded only), to show who was busy. */
  etcdCpuMs?: () => number | undefined;
}

export interface WatchRun {
  watchers: number;
  connections: number;
  events: number;
  /** Per delivery: arrival − put issued (ms). */
  fromIssueMs: number[];
  /** Per delivery: arrival − put acknowledged (ms); negative when the event beat the put's response. */
  fromAckMs: number[];
  /** Per event: time until the last watcher had it, from the put being issued (ms). */
  fanOutMs: number[];
  expected: number;
  lost: number;
  duplicates: number;
  /** Watch errors and disconnects the watchers reported. */
  watchErrors: string[];
  setupMs: number;
  wallMs: number;
  /** This process's CPU (all threads) during the events, and as a share of one core over the wall time. */
  clientCpuMs: number;
  clientCpuShare: number;
  etcdCpuMs?: number;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The watch bookkeeping, separate from the network so its accounting can be tested on its own. */
export class DeliveryLedger {
  readonly arrivals: Float64Array;
  readonly perEvent: Uint32Array;
  duplicates = 0;
  unexpected = 0;
  private waiting: { event: number; resolve: () => void } | undefined;

  constructor(readonly events: number, readonly watchers: number) {
    this.arrivals = new Float64Array(events * watchers).fill(Number.NaN);
    this.perEvent = new Uint32Array(events);
  }

  arrive(event: number | undefined, watcher: number, at: number): void {
    if (event === undefined || event < 0 || event >= this.events) {
      this.unexpected++;
      return;
    }
    const slot = event * this.watchers + watcher;
    if (!Number.isNaN(this.arrivals[slot] as number)) {
      this.duplicates++;
      return;
    }
    this.arrivals[slot] = at;
    const n = ++this.perEvent[event]!;
    if (n === this.watchers && this.waiting?.event === event) {
      this.waiting.resolve();
      this.waiting = undefined;
    }
  }

  /** Resolves when every watcher has the event, or after timeoutMs (then the rest count as lost). */
  complete(event: number, timeoutMs: number): Promise<void> {
    if ((this.perEvent[event] ?? 0) >= this.watchers) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        resolve();
      }, timeoutMs);
      this.waiting = { event, resolve: () => { clearTimeout(timer); resolve(); } };
    });
  }

  /** Latencies of every delivery against per-event reference times; lost = deliveries that never came. */
  latencies(reference: ArrayLike<number>): { ms: number[]; lost: number } {
    const ms: number[] = [];
    let lost = 0;
    for (let e = 0; e < this.events; e++) {
      for (let w = 0; w < this.watchers; w++) {
        const a = this.arrivals[e * this.watchers + w] as number;
        if (Number.isNaN(a)) lost++;
        else ms.push(round3(a - (reference[e] as number)));
      }
    }
    return { ms, lost };
  }

  /** Per event, the last arrival minus the reference (NaN when a delivery is missing). */
  lastArrival(reference: ArrayLike<number>): number[] {
    const out: number[] = [];
    for (let e = 0; e < this.events; e++) {
      let last = Number.NEGATIVE_INFINITY;
      for (let w = 0; w < this.watchers; w++) last = Math.max(last, this.arrivals[e * this.watchers + w] as number);
      out.push(round3(last - (reference[e] as number)));
    }
    return out;
  }
}

/** Run `fn` over items with at most `limit` in flight. */
async function inBatches<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
  }));
}

export async function measureWatch(target: EtcdTarget, o: WatchOptions): Promise<WatchRun> {
  const connections = Math.max(1, Math.min(o.connections ?? 8, o.watchers));
  const clients: Etcd3[] = Array.from({ length: connections }, () => connect(target, { ownConnection: true }));
  const writer = connect(target);
  const watchers: Watcher[] = [];
  const ledger = new DeliveryLedger(o.events, o.watchers);
  const watchErrors: string[] = [];
  const tag = `w${o.watchers}x`;
  // Keys of this run's events, so an arrival maps to its event without parsing.
  const items = Array.from({ length: o.events }, (_, i) => {
    const ref = podRef(i, tag);
    return { key: podKey(target.keyPrefix, ref.namespace, ref.name), value: podValue(ref, o.seed + 2_000_000 + i) };
  });
  const eventOf = new Map(items.map((it, i) => [it.key, i]));
  const timeoutMs = o.arrivalTimeoutMs ?? 5000;
  try {
    const t0 = nowMs();
    await inBatches(Array.from({ length: o.watchers }, (_, j) => j), 64, async (j) => {
      const w = await (clients[j % connections] as Etcd3).watch().prefix(podsPrefix(target.keyPrefix)).create();
      w.on('put', (kv) => ledger.arrive(eventOf.get(kv.key.toString()), j, nowMs()));
      w.on('error', (err) => watchErrors.push(`watcher ${j}: ${err.message}`));
      w.on('disconnected', (err) => watchErrors.push(`watcher ${j} disconnected: ${err.message}`));
      watchers.push(w);
    });
    const setupMs = nowMs() - t0;
    const issued = new Float64Array(o.events);
    const acked = new Float64Array(o.events);
    const etcdCpu0 = o.etcdCpuMs?.();
    const cpu0 = process.cpuUsage();
    const t1 = nowMs();
    for (let e = 0; e < o.events; e++) {
      const it = items[e] as { key: string; value: Buffer };
      issued[e] = nowMs();
      await writer.put(it.key).value(it.value).exec();
      acked[e] = nowMs();
      await ledger.complete(e, timeoutMs);
    }
    const wallMs = nowMs() - t1;
    const cpu = process.cpuUsage(cpu0);
    const etcdCpu1 = o.etcdCpuMs?.();
    const fromIssue = ledger.latencies(issued);
    const fromAck = ledger.latencies(acked);
    const clientCpuMs = (cpu.user + cpu.system) / 1000;
    const run: WatchRun = {
      watchers: o.watchers,
      connections,
      events: o.events,
      fromIssueMs: fromIssue.ms,
      fromAckMs: fromAck.ms,
      fanOutMs: ledger.lastArrival(issued),
      expected: o.events * o.watchers,
      lost: fromIssue.lost,
      duplicates: ledger.duplicates,
      watchErrors,
      setupMs,
      wallMs,
      clientCpuMs,
      clientCpuShare: clientCpuMs / wallMs,
    };
    if (etcdCpu0 !== undefined && etcdCpu1 !== undefined) run.etcdCpuMs = etcdCpu1 - etcdCpu0;
    return run;
  } finally {
    // A dead etcd never answers a cancel: give it a moment, then close the connections regardless.
    await Promise.race([Promise.allSettled(watchers.map((w) => w.cancel())), new Promise((r) => setTimeout(r, 2000).unref())]);
    for (const c of [...clients, writer]) c.close();
  }
}
