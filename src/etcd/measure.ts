// The etcd measurements end to end, shared by `kscale etcd` and the `etcd`
// suite: an etcd (started here, or the user's), /metrics scraped, puts at each
// concurrency on an empty keyspace, the keyspace preloaded, the puts again,
// watch latency per watcher count, /metrics again, cleanup. Every planned
// measurement is recorded — ok, failed with why, or skipped with why — so a
// dead etcd shows up as one failure and the rest of the plan as "not run",
// never as a hang or a gap.
import type { Etcd3 } from 'etcd3';
import type { Progress } from '../bench/progress.js';
import type { Capabilities } from '../host/capabilities.js';
import type { Measurement, ParamValue } from '../results/types.js';
import { summarize } from '../stats/summary.js';
import { connect, deletePrefix, scrapeMetricsText } from './client.js';
import type { EtcdTarget, EtcdTls } from './client.js';
import { histogramDelta, histogramQuantile, parseEtcdMetrics, toResultsHistogramMs } from './metrics.js';
import type { EtcdMetrics, PromHistogram } from './metrics.js';
import { measurePuts, preloadPods } from './put.js';
import { startEtcd, sweepLeftoverEtcd } from './server.js';
import type { EtcdServer } from './server.js';
import { measureWatch } from './watch.js';

export const ETCD_SUITE = 'etcd';

export interface EtcdSizes {
  /** Puts per (concurrency, keyspace) point. */
  puts: number;
  concurrency: number[];
  /** Pods loaded before the second round of puts (0: no preloaded round). */
  preloadPods: number;
  watchers: number[];
  /** Puts whose delivery is timed at each watcher count. */
  watchEvents: number;
}

export interface ExternalEtcd {
  urls: string[];
  tls?: EtcdTls;
}

export interface EtcdRunOptions {
  sizes: EtcdSizes;
  /** The user's cluster; absent → kscale starts its own. */
  external?: ExternalEtcd;
  caps: Capabilities;
  runId: string;
  prefix: string;
  /** Where the embedded etcd's data dir goes (the disk under test). */
  dataDir: string;
  seed: number;
  progress: Progress;
  record(m: Measurement): void;
  /** Test hook: runs after the first put point, e.g. to kill etcd mid-run. */
  afterFirstPoint?: (server: EtcdServer | undefined) => Promise<void> | void;
}

interface Step {
  label: string;
  /** The measurements this step records when it runs, with their params (for skip/fail records). */
  planned: { name: string; unit: string; params: Record<string, ParamValue> }[];
  run(): Promise<Measurement[]>;
}

/** Progress steps: start + each put point ×2 (empty, preloaded) + preload + each W + metrics. */
export function etcdSteps(sizes: EtcdSizes): number {
  const rounds = sizes.preloadPods > 0 ? 2 : 1;
  return 1 + sizes.concurrency.length * rounds + (sizes.preloadPods > 0 ? 1 : 0) + sizes.watchers.length + 1;
}

function histogramMeasurement(base: Omit<Measurement, 'status'>, before: PromHistogram | undefined, after: PromHistogram | undefined, includesOthers: boolean): Measurement {
  if (!before || !after) return { ...base, status: 'failed', reason: `etcd's /metrics has no ${base.name} histogram` };
  const d = histogramDelta(before, after);
  const { histogram, overflow } = toResultsHistogramMs(d);
  // etcd exports buckets, not samples: the quantiles are PromQL-style estimates within a bucket.
  return {
    ...base,
    status: 'ok',
    histogram,
    extra: {
      count: d.count,
      meanMs: d.count > 0 ? (d.sum / d.count) * 1000 : null,
      p50EstimateMs: d.count > 0 ? histogramQuantile(d, 0.5) * 1000 : null,
      p99EstimateMs: d.count > 0 ? histogramQuantile(d, 0.99) * 1000 : null,
      overflowCount: overflow,
      source: 'etcd /metrics, delta over this run',
      includesOtherClients: includesOthers,
    },
  };
}

function metricsMeasurements(endpoint: string, before: EtcdMetrics, after: EtcdMetrics): Measurement[] {
  const params = { op: 'metrics', endpoint };
  const external = endpoint === 'external';
  const out = [
    histogramMeasurement({ suite: ETCD_SUITE, name: 'wal-fsync-duration', unit: 'ms', params }, before.walFsync, after.walFsync, external),
    histogramMeasurement({ suite: ETCD_SUITE, name: 'backend-commit-duration', unit: 'ms', params }, before.backendCommit, after.backendCommit, external),
  ];
  const db: Measurement = { suite: ETCD_SUITE, name: 'db-size', unit: 'bytes', params, status: 'ok' };
  if (after.dbTotalBytes === undefined) out.push({ ...db, status: 'failed', reason: "etcd's /metrics has no etcd_mvcc_db_total_size_in_bytes" });
  else out.push({ ...db, samples: [after.dbTotalBytes], summary: summarize([after.dbTotalBytes]), extra: { beforeBytes: before.dbTotalBytes ?? null, afterBytes: after.dbTotalBytes, inUseBytes: after.dbInUseBytes ?? null } });
  return out;
}

/** Rejects as soon as the embedded etcd exits, with its last words; never settles for an external one. */
function deathOf(server: EtcdServer | undefined): { promise: Promise<never>; reason(): string | undefined } {
  let why: string | undefined;
  const promise = new Promise<never>((_, reject) => {
    void server?.exited.then((ex) => {
      why = `etcd exited (${ex.signal ?? `code ${ex.code}`}) during the run: ${server.stderrTail(3) || 'no output'}`;
      reject(new Error(why));
    });
  });
  promise.catch(() => undefined);
  return { promise, reason: () => why };
}

export async function runEtcdMeasurements(o: EtcdRunOptions): Promise<void> {
  const endpoint = o.external ? 'external' : 'embedded';
  const { sizes } = o;
  const base = (name: string, unit: string, params: Record<string, ParamValue>): Omit<Measurement, 'status'> =>
    ({ suite: ETCD_SUITE, name, unit, params: { ...params, endpoint } });
  const putParams = (concurrency: number, preloaded: boolean): Record<string, ParamValue> =>
    ({ op: 'put', concurrency, preloaded, keyspacePods: preloaded ? sizes.preloadPods : 0, puts: sizes.puts, endpoint });
  const watchParams = (watchers: number, from: 'issue' | 'ack'): Record<string, ParamValue> => ({ op: 'watch', watchers, from, events: sizes.watchEvents, endpoint });
  const plannedPut = (c: number, pre: boolean): Step['planned'] => [
    { name: 'put-latency', unit: 'ms', params: putParams(c, pre) },
    { name: 'put-throughput', unit: 'ops/s', params: putParams(c, pre) },
  ];
  const plannedWatch = (w: number): Step['planned'] => [
    { name: 'watch-latency', unit: 'ms', params: watchParams(w, 'issue') },
    { name: 'watch-latency', unit: 'ms', params: watchParams(w, 'ack') },
  ];
  const plannedMetrics: Step['planned'] = ['wal-fsync-duration', 'backend-commit-duration', 'db-size']
    .map((name) => ({ name, unit: name === 'db-size' ? 'bytes' : 'ms', params: { op: 'metrics', endpoint } }));
  const allPlanned: Step['planned'] = [
    ...sizes.concurrency.flatMap((c) => plannedPut(c, false)),
    ...(sizes.preloadPods > 0 ? sizes.concurrency.flatMap((c) => plannedPut(c, true)) : []),
    ...sizes.watchers.flatMap(plannedWatch),
    ...plannedMetrics,
  ];
  const recordAll = (planned: Step['planned'], status: 'skipped' | 'failed', reason: string): void => {
    for (const p of planned) o.record({ suite: ETCD_SUITE, name: p.name, unit: p.unit, params: p.params, status, reason });
  };

  // ---- the etcd under test ----
  o.progress.step(`etcd: ${o.external ? `connecting to ${o.external.urls.join(',')}` : 'starting etcd'}`);
  let server: EtcdServer | undefined;
  let target: EtcdTarget;
  if (o.external) {
    target = { endpoint: 'external', urls: o.external.urls, keyPrefix: `/kscale/${o.runId}`, ...(o.external.tls ? { tls: o.external.tls } : {}) };
  } else {
    if (!o.caps.etcd.available) return recordAll(allPlanned, 'skipped', o.caps.etcd.reason);
    for (const line of await sweepLeftoverEtcd([o.dataDir])) process.stderr.write(`kscale: removed leftover of an earlier run: ${line}\n`);
    try {
      server = await startEtcd({ prefix: o.prefix, parentDir: o.dataDir });
    } catch (err) {
      return recordAll(allPlanned, 'failed', `etcd did not start: ${(err as Error).message}`);
    }
    target = { endpoint: 'embedded', urls: [server.clientUrl], keyPrefix: '' };
  }
  const death = deathOf(server);
  const guarded = <T>(p: Promise<T>): Promise<T> => Promise.race([p, death.promise]);
  const client: Etcd3 = connect(target);
  let firstPointDone = false;

  try {
    let before: EtcdMetrics;
    try {
      before = parseEtcdMetrics(await guarded(scrapeMetricsText(target)));
    } catch (err) {
      return recordAll(allPlanned, 'failed', `cannot reach etcd at ${target.urls.join(',')}: ${(err as Error).message}`);
    }

    const putStep = (c: number, preloaded: boolean): Step => ({
      label: `etcd: put ×${sizes.puts} at concurrency ${c}${preloaded ? `, ${sizes.preloadPods} pods loaded` : ''}`,
      planned: plannedPut(c, preloaded),
      async run() {
        const r = await guarded(measurePuts(client, { keyPrefix: target.keyPrefix, count: sizes.puts, concurrency: c, tag: `${preloaded ? 'q' : 'p'}${c}x`, seed: o.seed }));
        const extra = { opsPerSec: r.opsPerSec, wallMs: r.wallMs, valueBytes: Math.round(r.valueBytes), clientCpuMs: r.clientCpuMs, clientCpuShare: r.clientCpuMs / r.wallMs };
        return [
          { ...base('put-latency', 'ms', putParams(c, preloaded)), status: 'ok', samples: r.latenciesMs, summary: summarize(r.latenciesMs), extra },
          { ...base('put-throughput', 'ops/s', putParams(c, preloaded)), status: 'ok', samples: [r.opsPerSec], summary: summarize([r.opsPerSec]), extra },
        ];
      },
    });
    let preloadInfo: { pods: number; wallMs: number; bytes: number } | undefined;
    const steps: Step[] = sizes.concurrency.map((c) => putStep(c, false));
    if (sizes.preloadPods > 0) {
      if (o.external) {
        // Writing a Kubernetes-sized keyspace into someone's cluster is not a side effect to take lightly.
        recordAll(sizes.concurrency.flatMap((c) => plannedPut(c, true)), 'skipped',
          `kscale does not preload ${sizes.preloadPods} pods into an external cluster; the cluster's own keyspace is what the puts ran against`);
      } else {
        steps.push({
          label: `etcd: preloading ${sizes.preloadPods} pods`,
          planned: [],
          async run() {
            const r = await guarded(preloadPods(client, { keyPrefix: target.keyPrefix, count: sizes.preloadPods, seed: o.seed }));
            preloadInfo = r;
            return [];
          },
        });
        steps.push(...sizes.concurrency.map((c) => putStep(c, true)));
      }
    }
    for (const w of sizes.watchers) {
      steps.push({
        label: `etcd: watch latency, ${w} watcher${w === 1 ? '' : 's'}`,
        planned: plannedWatch(w),
        async run() {
          const r = await guarded(measureWatch(target, { watchers: w, events: sizes.watchEvents, seed: o.seed, ...(server ? { etcdCpuMs: () => server?.cpuMs() } : {}) }));
          const problems = [
            r.lost > 0 ? `${r.lost} of ${r.expected} deliveries lost` : '',
            r.duplicates > 0 ? `${r.duplicates} duplicate deliveries` : '',
            r.watchErrors.length > 0 ? `watch errors: ${r.watchErrors.slice(0, 3).join('; ')}` : '',
          ].filter((s) => s !== '');
          const extra = {
            expected: r.expected, lost: r.lost, duplicates: r.duplicates, connections: r.connections,
            fanOutMs: r.fanOutMs.length > 0 && r.lost === 0 ? summarize(r.fanOutMs) : null,
            setupMs: r.setupMs, wallMs: r.wallMs,
            clientCpuMs: r.clientCpuMs, clientCpuShare: r.clientCpuShare,
            // One Node thread decodes every delivery: near a full core, the client is the limit, not etcd.
            clientBound: r.clientCpuShare > 0.85,
            etcdCpuMs: r.etcdCpuMs ?? null, etcdCpuShare: r.etcdCpuMs !== undefined ? r.etcdCpuMs / r.wallMs : null,
            preloadedPods: preloadInfo?.pods ?? 0,
          };
          const status = problems.length > 0 ? 'failed' : 'ok';
          const m = (from: 'issue' | 'ack', samples: number[]): Measurement => ({
            ...base('watch-latency', 'ms', watchParams(w, from)), status, samples, extra,
            ...(samples.length > 0 ? { summary: summarize(samples) } : {}),
            ...(problems.length > 0 ? { reason: problems.join('; ') } : {}),
          });
          return [m('issue', r.fromIssueMs), m('ack', r.fromAckMs)];
        },
      });
    }
    steps.push({
      label: 'etcd: /metrics after the run',
      planned: plannedMetrics,
      async run() {
        const after = parseEtcdMetrics(await guarded(scrapeMetricsText(target)));
        const ms = metricsMeasurements(endpoint, before, after);
        if (preloadInfo) for (const m of ms) m.extra = { ...m.extra, preload: preloadInfo };
        return ms;
      },
    });

    let failure: string | undefined;
    for (const step of steps) {
      if (failure) {
        recordAll(step.planned, 'skipped', `not run: ${failure}`);
        continue;
      }
      o.progress.step(step.label);
      try {
        for (const m of await step.run()) o.record(m);
      } catch (err) {
        // A client error often comes a moment before the exit is seen: give etcd's own words the chance to be the reason.
        if (server && !death.reason()) await Promise.race([server.exited, new Promise((r) => setTimeout(r, 1000))]);
        failure = death.reason() ? `${death.reason()} (client saw: ${(err as Error).message})` : (err as Error).message;
        recordAll(step.planned.length > 0 ? step.planned : [{ name: 'preload', unit: 'pods', params: { op: 'preload', pods: sizes.preloadPods, endpoint } }], 'failed', failure);
      }
      if (!firstPointDone) {
        firstPointDone = true;
        await o.afterFirstPoint?.(server);
      }
    }
  } finally {
    if (o.external) {
      try {
        await deletePrefix(client, target.keyPrefix);
      } catch (err) {
        process.stderr.write(`kscale: could not delete ${target.keyPrefix}/ from the external etcd: ${(err as Error).message}\n`);
      }
    }
    client.close();
    await server?.stop();
  }
}
