// Measured fits → the user's cluster. Every projection carries the fit it came
// from and whether the cluster lies outside the measured range (extrapolation),
// so a reader can tell a measured number from a stretched one. Pure.
import type { Measurement, RunResults } from '../results/types.js';
import { fitOLS } from '../stats/fit.js';
import type { LinearFit } from '../stats/fit.js';
import { costFits } from '../report/sections.js';
import type { CostFit } from '../report/sections.js';
import { ETCD_WAL_FSYNC_P99_MS } from '../report/sections.js';
import { fmt, hostLine, numParam, strParam, timeFactor } from '../report/common.js';
import type { ClusterProfile } from './profile.js';

/** kube-proxy's default minSyncPeriod (1 s): changes arriving faster are batched into one sync per second. */
export const KUBE_PROXY_MIN_SYNC_PERIOD_S = 1;

export interface Projection {
  value: number;
  unit: string;
  /** How it was obtained: "fit a + b·Services over 100…5000 Services (R² 0.99), 10 endpoints/Service". */
  basis: string;
  extrapolated: boolean;
}

export interface BackendPlan {
  backend: string;
  /** Why nothing could be projected (every measurement skipped, too few sizes…). */
  missing: string[];
  objects?: Projection;
  fullSync?: Projection;
  /** Slowest of add-service / change-endpoint / delete-service, partial restore where the backend has one. */
  incrementalSync?: Projection;
  /** Share of one core kube-proxy spends syncing at the profile's churn. */
  syncBusy?: Projection;
  firstPacketP50?: Projection;
  firstPacketP99?: Projection;
  /** Cores per node spent on the Service-dependent part of first-packet processing. */
  firstPacketCores?: Projection;
}

export interface Plan {
  profile: ClusterProfile;
  run: { runId: string; host: string };
  backends: BackendPlan[];
  scheduler?: { burst: Projection; podsPerSecond: Projection; workload: string } | { missing: string };
  etcd: { fsyncP99?: Projection; fsyncHeadroom?: Projection; putP99?: Projection; watchP99?: Projection; missing: string[] };
  recommendation: { backend: string | null; lines: string[] };
}

type Ok = Measurement & { status: 'ok'; summary: NonNullable<Measurement['summary']> };
const isOk = (m: Measurement): m is Ok => m.status === 'ok' && m.summary !== undefined;

function range(xs: number[]): string {
  return `${Math.min(...xs)}…${Math.max(...xs)}`;
}

function outside(x: number, xs: number[]): boolean {
  return x < Math.min(...xs) || x > Math.max(...xs);
}

/** Project y at x from (x, y) points: a straight-line fit when there are two or more sizes, else undefined. */
function project(points: { x: number; y: number }[], x: number, unit: string, what: string, extraNote = ''): Projection | undefined {
  const xs = [...new Set(points.map((p) => p.x))];
  if (xs.length < 2) {
    if (points.length === 1 && points[0]?.x === x) return { value: points[0].y, unit, basis: `measured at ${x} ${what}${extraNote}`, extrapolated: false };
    return undefined;
  }
  let fit: LinearFit;
  try {
    fit = fitOLS(points.map((p) => p.x), points.map((p) => p.y));
  } catch {
    return undefined;
  }
  const raw = fit.intercept + fit.slope * x;
  return {
    value: Math.max(0, raw),
    unit,
    basis: `fit a + b·${what} over ${range(xs)} ${what} (${xs.length === 2 ? 'only 2 sizes: a line through them, linearity unchecked' : `${xs.length} sizes, R² ${fit.r2.toFixed(2)}${fit.r2 < 0.9 ? ', not linear: read with care' : ''}`})${extraNote}${raw < 0 ? '; fit below zero, shown as 0' : ''}`,
    extrapolated: outside(x, xs),
  };
}

/** The measured endpoints-per-Service value nearest to the profile's (ties → the larger). */
function nearestEndpoints(ms: Measurement[], want: number): number | undefined {
  const es = [...new Set(ms.map((m) => numParam(m, 'endpoints')).filter((e): e is number => e !== undefined))];
  if (es.length === 0) return undefined;
  return es.sort((a, b) => Math.abs(a - want) - Math.abs(b - want) || b - a)[0];
}

function syncPlan(r: RunResults, p: ClusterProfile, backend: string, plan: BackendPlan): void {
  const ms = r.measurements.filter((m) => m.suite === 'sync' && strParam(m, 'backend') === backend);
  const okLoads = ms.filter(isOk).filter((m) => m.name === 'full-load');
  if (okLoads.length === 0) {
    const why = ms.find((m) => m.status !== 'ok')?.reason;
    plan.missing.push(`sync: ${why ? `not measured (${why.split('\n')[0]})` : 'no sync measurements'}`);
    return;
  }
  const e = nearestEndpoints(okLoads, p.endpointsPerService) as number;
  const allE = [...new Set(okLoads.map((m) => numParam(m, 'endpoints') ?? 0))];
  const eNote = `, measured at ${e} endpoints/Service${e !== p.endpointsPerService ? ` (profile: ${p.endpointsPerService})` : ''}`;
  const eOutside = outside(p.endpointsPerService, allE);
  const atE = (m: Measurement): boolean => numParam(m, 'endpoints') === e;
  const pts = (name: string, mode?: string): { x: number; y: number }[] =>
    ms.filter(isOk).filter((m) => m.name === name && atE(m) && (mode === undefined || (strParam(m, 'mode') ?? 'partial') === mode))
      .map((m) => ({ x: numParam(m, 'services') ?? 0, y: m.summary.median }));
  const mark = (x: Projection | undefined): Projection | undefined => (x && eOutside ? { ...x, extrapolated: true } : x);
  plan.fullSync = mark(project(pts('full-load'), p.services, 'ms', 'Services', eNote));
  const objectPts = okLoads.filter(atE).flatMap((m) => {
    const o = m.extra?.objects as Record<string, unknown> | undefined;
    if (!o) return [];
    const total = ['rules', 'chains', 'setElements', 'mapEntries'].reduce((s, k) => s + (typeof o[k] === 'number' ? (o[k] as number) : 0), 0);
    return total > 0 ? [{ x: numParam(m, 'services') ?? 0, y: total }] : [];
  });
  plan.objects = mark(project(objectPts, p.services, 'kernel objects (rules + chains + set/map elements)', 'Services', eNote));
  // The slowest kind of change bounds every sync.
  const changes = ['add-service', 'change-endpoint', 'delete-service']
    .map((k) => ({ k, proj: mark(project(pts(k, 'partial'), p.services, 'ms', 'Services', eNote)) }))
    .filter((c): c is { k: string; proj: Projection } => c.proj !== undefined)
    .sort((a, b) => b.proj.value - a.proj.value);
  const slowest = changes[0];
  if (slowest) {
    plan.incrementalSync = { ...slowest.proj, basis: `${slowest.k} (slowest change kind), partial restore; ${slowest.proj.basis}` };
    const syncsPerSecond = Math.min(p.serviceChurnPerSecond, 1 / KUBE_PROXY_MIN_SYNC_PERIOD_S);
    plan.syncBusy = {
      value: (syncsPerSecond * slowest.proj.value) / 1000,
      unit: 'of one core (wall time syncing per second)',
      basis: `${fmt(syncsPerSecond)} syncs/s (churn ${p.serviceChurnPerSecond}/s, batched to at most one per ${KUBE_PROXY_MIN_SYNC_PERIOD_S} s by kube-proxy's default minSyncPeriod) × ${fmt(slowest.proj.value)} ms`,
      extrapolated: slowest.proj.extrapolated,
    };
  } else {
    plan.missing.push('incremental sync: fewer than two measured sizes');
  }
}

/** The fit for the "average" Service: random position if measured, else middle; TCP preferred. */
function pickFit(fits: CostFit[], backend: string): CostFit | undefined {
  const mine = fits.filter((f) => f.backend === backend);
  const rank = (f: CostFit): number => ({ random: 0, middle: 1, last: 2, first: 3 } as Record<string, number>)[f.position] ?? 4;
  return mine.sort((a, b) => rank(a) - rank(b) || (a.proto === 'tcp' ? -1 : 1) - (b.proto === 'tcp' ? -1 : 1))[0];
}

function firstPacketPlan(r: RunResults, p: ClusterProfile, backend: string, fits: CostFit[], plan: BackendPlan): void {
  const f = pickFit(fits, backend);
  const conns = r.measurements.filter((m) => m.suite === 'datapath' && m.name === 'new-connection' && strParam(m, 'backend') === backend);
  if (!f) {
    const why = conns.find((m) => m.status !== 'ok')?.reason;
    plan.missing.push(`first packet: ${why ? `not measured (${why.split('\n')[0]})` : 'no datapath cost fit'}`);
    return;
  }
  const same = conns.filter(isOk).filter((m) => strParam(m, 'position') === f.position && strParam(m, 'proto') === f.proto);
  const xs = same.map((m) => numParam(m, 'services') ?? 0);
  const extrapolated = xs.length === 0 || outside(p.services, xs);
  const where = `${f.position} Service, ${f.proto}${xs.length ? `, measured ${range(xs)} Services` : ''}`;
  const p50 = f.b * p.services;
  plan.firstPacketP50 = {
    value: p50, unit: 'µs extra per new connection',
    basis: `b·Services with b = ${fmt(f.b * 1000)} ns/Service${f.bCI ? ` (95% CI ${fmt(f.bCI[0] * 1000)}…${fmt(f.bCI[1] * 1000)})` : ''}${f.o1 ? ', slope indistinguishable from 0 (O(1))' : ''}; ${where}`,
    extrapolated,
  };
  const p99pts = same.map((m) => ({ x: numParam(m, 'services') ?? 0, y: m.summary.p99 * (timeFactor(m.unit, 'µs') ?? 1) }));
  if (new Set(p99pts.map((q) => q.x)).size >= 2) {
    const fit99 = fitOLS(p99pts.map((q) => q.x), p99pts.map((q) => q.y));
    plan.firstPacketP99 = { value: Math.max(0, fit99.slope * p.services), unit: 'µs extra per new connection (p99)', basis: `slope of p99 vs Services = ${fmt(fit99.slope * 1000)} ns/Service (R² ${fit99.r2.toFixed(2)}); ${where}`, extrapolated };
  }
  plan.firstPacketCores = {
    value: (p.newConnectionsPerSecondPerNode * p50) / 1e6,
    unit: 'cores per node',
    basis: `${p.newConnectionsPerSecondPerNode} new connections/s × ${fmt(p50)} µs (the Service-dependent part of the first packet; rule traversal is CPU work in softirq)`,
    extrapolated,
  };
}

function schedulerPlan(r: RunResults, p: ClusterProfile): Plan['scheduler'] {
  const thr = r.measurements.filter((m) => m.suite === 'scheduler' && m.name === 'throughput').filter(isOk);
  if (thr.length === 0) return { missing: 'scheduler throughput was not measured in this run' };
  const workloads = [...new Set(thr.map((m) => strParam(m, 'workload') ?? '?'))];
  const workload = p.workload ?? (workloads.includes('basic') ? 'basic' : (workloads[0] as string));
  const mine = thr.filter((m) => strParam(m, 'workload') === workload);
  if (mine.length === 0) return { missing: `workload "${workload}" was not measured (measured: ${workloads.join(', ')})` };
  // Best worker count per cluster size: what a tuned scheduler on this host achieves.
  const best = new Map<number, { pps: number; workers: number }>();
  for (const m of mine) {
    const nodes = numParam(m, 'nodes') ?? 0;
    const cur = best.get(nodes);
    if (!cur || m.summary.median > cur.pps) best.set(nodes, { pps: m.summary.median, workers: numParam(m, 'workers') ?? 0 });
  }
  // Filter and score visit nodes, so time per pod grows with the node count: fit seconds per pod.
  const pts = [...best].map(([nodes, b]) => ({ x: nodes, y: 1 / b.pps }));
  const secPerPod = project(pts, p.nodes, 's/pod', 'nodes', `, best worker count per size (${[...best].map(([n, b]) => `${n} nodes: ${b.workers}`).join(', ')}), workload ${workload}`);
  if (!secPerPod || secPerPod.value <= 0) return { missing: `too few cluster sizes measured for workload ${workload}` };
  return {
    workload,
    podsPerSecond: { ...secPerPod, value: 1 / secPerPod.value, unit: 'pods/s' },
    burst: { ...secPerPod, value: p.podBurst * secPerPod.value, unit: `s to place a burst of ${p.podBurst} pods` },
  };
}

function etcdPlan(r: RunResults, p: ClusterProfile): Plan['etcd'] {
  const out: Plan['etcd'] = { missing: [] };
  const fs = r.measurements.find((m) => m.suite === 'fsync' && m.name === 'wal-fdatasync' && m.params.tool === 'native');
  if (fs && isOk(fs)) {
    const p99 = fs.summary.p99 * (timeFactor(fs.unit, 'ms') ?? 1);
    out.fsyncP99 = { value: p99, unit: 'ms', basis: `WAL write+fdatasync probe on ${r.host.disk.device} (${r.host.disk.fsType}), n=${fs.summary.n}`, extrapolated: false };
    out.fsyncHeadroom = { value: ETCD_WAL_FSYNC_P99_MS / p99, unit: `× under etcd's p99 < ${ETCD_WAL_FSYNC_P99_MS} ms guidance (below 1 = over it)`, basis: `${ETCD_WAL_FSYNC_P99_MS} ms / ${fmt(p99)} ms`, extrapolated: false };
  } else out.missing.push(`WAL fsync: ${fs?.reason?.split('\n')[0] ?? 'not measured'}`);
  const puts = r.measurements.filter((m) => m.suite === 'etcd' && m.name === 'put-latency').filter(isOk);
  if (puts.length > 0) {
    const top = puts.sort((a, b) => (numParam(b, 'concurrency') ?? 0) - (numParam(a, 'concurrency') ?? 0))[0] as Ok;
    out.putP99 = { value: top.summary.p99 * (timeFactor(top.unit, 'ms') ?? 1), unit: 'ms', basis: `put latency p99 at ${numParam(top, 'concurrency')} concurrent clients (the highest measured)`, extrapolated: false };
  } else out.missing.push('put latency: not measured');
  // Every kube-proxy watches Services and EndpointSlices: about one watcher per node.
  const watches = r.measurements.filter((m) => m.suite === 'etcd' && m.name === 'watch-latency').filter(isOk)
    .filter((m) => (strParam(m, 'from') ?? 'issue') === 'issue');
  if (watches.length > 0) {
    const ws = watches.map((m) => numParam(m, 'watchers') ?? 0);
    const nearest = watches.sort((a, b) => Math.abs((numParam(a, 'watchers') ?? 0) - p.nodes) - Math.abs((numParam(b, 'watchers') ?? 0) - p.nodes))[0] as Ok;
    const w = numParam(nearest, 'watchers') ?? 0;
    out.watchP99 = { value: nearest.summary.p99 * (timeFactor(nearest.unit, 'ms') ?? 1), unit: 'ms put-to-delivery (p99)',
      basis: `measured with ${w} watchers (nearest to one per node = ${p.nodes})`, extrapolated: outside(p.nodes, ws) || w !== p.nodes };
  } else out.missing.push('watch latency: not measured');
  return out;
}

function recommend(plans: BackendPlan[], p: ClusterProfile): Plan['recommendation'] {
  const usable = plans.filter((b) => b.fullSync || b.firstPacketCores);
  if (usable.length === 0) return { backend: null, lines: ['No backend could be projected from this run: every dataplane measurement was skipped or missing (see above).'] };
  const lines: string[] = [];
  const cantKeepUp = usable.filter((b) => (b.syncBusy?.value ?? 0) >= 1);
  for (const b of cantKeepUp) lines.push(`${b.backend} cannot keep up: each sync takes ${fmt(b.incrementalSync?.value)} ms, so at ${p.serviceChurnPerSecond} changes/s kube-proxy would sync back to back and changes would queue.`);
  const candidates = usable.filter((b) => !cantKeepUp.includes(b));
  const pool = candidates.length > 0 ? candidates : usable;
  // Cost in core-equivalents: first-packet CPU plus time spent syncing; full sync as the tie-break.
  const cost = (b: BackendPlan): number => (b.firstPacketCores?.value ?? 0) + (b.syncBusy?.value ?? 0);
  const ranked = [...pool].sort((a, b) => cost(a) - cost(b) || (a.fullSync?.value ?? Infinity) - (b.fullSync?.value ?? Infinity));
  const best = ranked[0] as BackendPlan;
  const x = (pr: Projection | undefined, unit = ''): string => (pr ? `${fmt(pr.value)}${unit}${pr.extrapolated ? ' (extrapolated)' : ''}` : 'not measured');
  const describe = (b: BackendPlan): string =>
    `${b.backend}: first packet +${x(b.firstPacketP50, ' µs')} p50 → ${x(b.firstPacketCores, ' cores/node')}; incremental sync ${x(b.incrementalSync, ' ms')} (${b.syncBusy ? `${fmt(b.syncBusy.value * 100)}% of a core` : 'busy share not measured'}); full sync ${x(b.fullSync, ' ms')}`;
  lines.unshift(`Recommended: ${best.backend} for ${p.services} Services × ${p.endpointsPerService} endpoints on ${p.nodes} nodes — lowest combined cost (first-packet CPU + sync time) among the backends measured on this host.`);
  for (const b of ranked) lines.push(`  ${describe(b)}`);
  if (!best.firstPacketCores) lines.push('First-packet cost was not measured for the recommended backend, so the choice rests on sync time alone.');
  if ([best.fullSync, best.incrementalSync, best.firstPacketP50].some((q) => q?.extrapolated)) lines.push('Some of these numbers lie beyond the measured range (marked extrapolated): measure at your size with `kscale bench --profile full` to confirm.');
  return { backend: best.backend, lines };
}

export function planCluster(r: RunResults, p: ClusterProfile): Plan {
  const fits = costFits(r);
  const names = [...new Set(r.measurements.filter((m) => m.suite === 'sync' || m.suite === 'datapath').map((m) => strParam(m, 'backend')).filter((b): b is string => b !== undefined))];
  const backends = names.map((backend) => {
    const plan: BackendPlan = { backend, missing: [] };
    syncPlan(r, p, backend, plan);
    firstPacketPlan(r, p, backend, fits, plan);
    return plan;
  });
  return {
    profile: p,
    run: { runId: r.runId, host: hostLine(r.host) },
    backends,
    scheduler: schedulerPlan(r, p),
    etcd: etcdPlan(r, p),
    recommendation: recommend(backends, p),
  };
}
