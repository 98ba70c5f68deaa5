// What the report shows, as data: one section per area (sync, datapath, eBPF,
// scheduler, etcd), each with vega-lite chart specs built from the run's
// measurements, the tables behind them, and every measurement that was skipped
// or failed with its reason. Pure: RunResults in, Sections out; rendering to
// SVG (charts.ts), Markdown and HTML happen elsewhere.
import type { TopLevelSpec } from 'vega-lite';
import type { UnitSpec } from 'vega-lite/types_unstable/spec/unit.js';
import type { Field } from 'vega-lite/types_unstable/channeldef.js';
import type { Measurement, RunResults } from '../results/types.js';
import type { Summary } from '../stats/summary.js';
import { percentileSorted } from '../stats/summary.js';
import { SCHEDULER_PERF_THRESHOLDS } from '../scheduler/synthetic.js';
import { fmt, hostLine, numParam, paramsText, shortReason, strParam, timeFactor } from './common.js';

/** etcd's hardware guidance: 99th percentile of WAL fdatasync below 10 ms. */
export const ETCD_WAL_FSYNC_P99_MS = 10;
/** etcd's guidance for the backend (bbolt) commit: 99th percentile below 25 ms. */
export const ETCD_BACKEND_COMMIT_P99_MS = 25;

export interface Table {
  head: string[];
  rows: string[][];
}

export interface NotShown {
  suite: string;
  name: string;
  params: string;
  status: 'skipped' | 'failed';
  reason: string;
}

export interface Chart {
  /** File-name safe: the SVG is written as charts/<id>.svg. */
  id: string;
  title: string;
  /** What was measured, in one sentence. */
  measured: string;
  /** Samples behind the chart (sum of the measurements' n). */
  n: number;
  spec: TopLevelSpec;
  /** The numbers plotted, for the Markdown report and readers without SVG. */
  table: Table;
}

export interface Section {
  id: string;
  title: string;
  charts: Chart[];
  /** Further tables (fits, projections) with a caption each. */
  tables: { caption: string; table: Table }[];
  notShown: NotShown[];
}

type OkMeasurement = Measurement & { status: 'ok'; summary: Summary };
type Row = Record<string, string | number | boolean | null>;

function isOk(m: Measurement): m is OkMeasurement {
  return m.status === 'ok' && m.summary !== undefined;
}

function notShown(ms: Measurement[]): NotShown[] {
  return ms
    .filter((m): m is Measurement & { status: 'skipped' | 'failed' } => m.status !== 'ok')
    .map((m) => ({ suite: m.suite, name: m.name, params: paramsText(m.params), status: m.status, reason: shortReason(m.reason) }));
}

function sumN(ms: { summary?: Summary }[]): number {
  return ms.reduce((s, m) => s + (m.summary?.n ?? 0), 0);
}

const WIDTH = 260;
const HEIGHT = 200;

function titleBlock(title: string, measured: string, host: string, n: number, count: number): TopLevelSpec['title'] {
  return {
    text: title,
    subtitle: [measured, `host: ${host}`, `n = ${n} samples in ${count} measurement${count === 1 ? '' : 's'}`],
    anchor: 'start',
    fontSize: 14,
    subtitleFontSize: 11,
    subtitleColor: '#444',
  };
}

const CONFIG: TopLevelSpec['config'] = {
  font: 'sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 10, titleFontSize: 11, gridColor: '#eee' },
  legend: { labelFontSize: 10, titleFontSize: 11, orient: 'bottom', direction: 'horizontal', columns: 3, labelLimit: 320, titleLimit: 320, symbolStrokeWidth: 2 },
  header: { labelFontSize: 11, titleFontSize: 11 },
};

type Enc = { field: string; title?: string | null; sort?: string[] };

/**
 * A line per series plus its points, as two layers: one layer with both would
 * draw dots in the legend for the dash channel, and the dash legend would say nothing.
 */
function linesWithPoints(x: Enc & { log?: boolean }, y: Enc & { log?: boolean; zero?: boolean }, color: Enc, dash?: Enc, shape?: Enc, filter?: string): UnitSpec<Field>[] {
  const xEnc = { field: x.field, type: 'quantitative', title: x.title, scale: x.log ? { type: 'log' as const } : { zero: false } } as const;
  const yEnc = { field: y.field, type: 'quantitative', title: y.title, scale: y.log ? { type: 'log' as const } : { zero: y.zero ?? true } } as const;
  const colorEnc = { field: color.field, type: 'nominal', title: color.title, ...(color.sort ? { sort: color.sort } : {}) } as const;
  const transform = filter ? [{ filter }] : [];
  return [
    { transform, mark: { type: 'line' },
      encoding: { x: xEnc, y: yEnc, color: colorEnc,
        ...(dash ? { strokeDash: { field: dash.field, type: 'nominal' as const, title: dash.title } } : {}),
        ...(shape ? { detail: { field: shape.field, type: 'nominal' as const } } : {}) } },
    { transform, mark: { type: 'point', filled: true, size: 36, tooltip: { content: 'data' } },
      encoding: { x: xEnc, y: yEnc, color: colorEnc,
        ...(shape ? { shape: { field: shape.field, type: 'nominal' as const, title: shape.title } } : {}) } },
  ];
}

function sortedNumbers(xs: Iterable<number>): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------
// sync

const CHANGE_KINDS = ['add-service', 'change-endpoint', 'delete-service'];

function syncSection(r: RunResults, host: string): Section | undefined {
  const all = r.measurements.filter((m) => m.suite === 'sync');
  if (all.length === 0) return undefined;
  const ok = all.filter(isOk).filter((m) => numParam(m, 'services') !== undefined && m.summary.median > 0);
  const charts: Chart[] = [];
  const row = (m: OkMeasurement): Row => ({
    what: m.name,
    backend: strParam(m, 'backend') ?? '?',
    services: numParam(m, 'services') ?? 0,
    endpoints: String(numParam(m, 'endpoints') ?? '?'),
    mode: strParam(m, 'mode') ?? 'partial',
    median: m.summary.median,
    p99: m.summary.p99,
    n: m.summary.n,
  });
  // One chart per group of measurement names, a column per name.
  const chart = (id: string, title: string, measured: string, names: string[], dash: Enc): void => {
    const ms = ok.filter((m) => names.includes(m.name));
    if (ms.length === 0) return;
    const values = ms.map(row);
    charts.push({
      id, title, measured, n: sumN(ms), table: syncTable(values),
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: titleBlock(title, measured, host, sumN(ms), ms.length),
        data: { values },
        facet: { column: { field: 'what', type: 'nominal', title: null, sort: names } },
        spec: {
          width: WIDTH,
          height: HEIGHT,
          layer: linesWithPoints({ field: 'services', title: 'Services', log: true }, { field: 'median', title: 'median time (ms)', log: true },
            { field: 'backend', title: 'backend' }, dash, dash.field === 'endpoints' ? undefined : { field: 'endpoints', title: 'endpoints per Service' }),
        },
        config: CONFIG,
      },
    });
  };
  chart('sync-full', 'Full sync time vs Services, per backend',
    'Wall time to program every Service into an empty node namespace (full-load) and to remove it all (flush); median of repeats.',
    ['full-load', 'flush'], { field: 'endpoints', title: 'endpoints per Service' });
  chart('sync-incremental', 'Incremental update time vs Services, per backend',
    'Wall time to apply one change (a Service added, an endpoint changed, a Service deleted) to a loaded node; full = whole-table restore, partial = only the changed chains (KEP-3453).',
    CHANGE_KINDS, { field: 'mode', title: 'restore' });
  return { id: 'sync', title: 'Programming the kernel (sync)', charts, tables: [], notShown: notShown(all) };
}

function syncTable(values: Row[]): Table {
  return {
    head: ['measurement', 'backend', 'Services', 'endpoints', 'restore', 'median ms', 'p99 ms', 'n'],
    rows: values.map((v) => [String(v.what), String(v.backend), String(v.services), String(v.endpoints),
      String(v.mode), fmt(v.median as number), fmt(v.p99 as number), String(v.n)]),
  };
}

// ---------------------------------------------------------------------------
// render: the pure rule generation kube-proxy does before any kernel call

function renderSection(r: RunResults, host: string): Section | undefined {
  const all = r.measurements.filter((m) => m.suite === 'render');
  if (all.length === 0) return undefined;
  const ok = all.filter(isOk).filter((m) => m.name === 'render-time' && numParam(m, 'services') !== undefined && m.summary.median > 0);
  const charts: Chart[] = [];
  if (ok.length > 0) {
    const values: Row[] = ok.map((m) => ({
      backend: strParam(m, 'backend') ?? '?', services: numParam(m, 'services') ?? 0, endpoints: String(numParam(m, 'endpoints') ?? '?'),
      median: m.summary.median * (timeFactor(m.unit, 'ms') ?? 1), p99: m.summary.p99 * (timeFactor(m.unit, 'ms') ?? 1), n: m.summary.n,
    }));
    const title = 'Rendering the rules vs Services';
    const measured = "Time kscale's renderers take to produce the backend's full program (iptables-restore text, nft script) from the cluster model, in process; no kernel involved.";
    charts.push({
      id: 'render-time', title, measured, n: sumN(ok),
      table: { head: ['backend', 'Services', 'endpoints', 'median ms', 'p99 ms', 'n'],
        rows: values.map((v) => [String(v.backend), String(v.services), String(v.endpoints), fmt(v.median as number), fmt(v.p99 as number), String(v.n)]) },
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: titleBlock(title, measured, host, sumN(ok), ok.length),
        data: { values }, width: 420, height: HEIGHT,
        layer: [...linesWithPoints({ field: 'services', title: 'Services', log: true }, { field: 'median', title: 'median time (ms)', log: true },
          { field: 'backend', title: 'backend' }, { field: 'endpoints', title: 'endpoints per Service' })],
        config: CONFIG,
      },
    });
  }
  return { id: 'render', title: 'Rendering rules (pure, in process)', charts, tables: [], notShown: notShown(all) };
}

// ---------------------------------------------------------------------------
// datapath: new-connection latency and its fitted cost per Service

export interface CostFit {
  backend: string;
  position: string;
  proto: string;
  /** Intercept and slope in µs and µs per Service. */
  a: number;
  b: number;
  bCI: [number, number] | undefined;
  r2: number | undefined;
  o1: boolean | undefined;
  /** The median baseline round the fit's costs are scaled to (µs); undefined: fitted through raw medians. */
  baselineMedianUs: number | undefined;
}

/** cost-fit measurements of the datapath suite, converted to µs (a) and µs per Service (b). */
export function costFits(r: RunResults): CostFit[] {
  const out: CostFit[] = [];
  for (const m of r.measurements) {
    if (m.suite !== 'datapath' || m.name !== 'cost-fit' || m.status !== 'ok' || !m.extra) continue;
    const { a, b, bCI, r2, o1, baselineMedianUs } = m.extra as { a?: unknown; b?: unknown; bCI?: unknown; r2?: unknown; o1?: unknown; baselineMedianUs?: unknown };
    if (typeof a !== 'number' || typeof b !== 'number') continue;
    const f = timeFactor(m.unit, 'µs') ?? 1;
    const ci = Array.isArray(bCI) && bCI.length === 2 && bCI.every((x) => typeof x === 'number') ? (bCI as [number, number]) : undefined;
    out.push({
      backend: strParam(m, 'backend') ?? '?',
      position: strParam(m, 'position') ?? '?',
      proto: strParam(m, 'proto') ?? '?',
      a: a * f,
      b: b * f,
      bCI: ci ? [ci[0] * f, ci[1] * f] : undefined,
      r2: typeof r2 === 'number' ? r2 : undefined,
      o1: typeof o1 === 'boolean' ? o1 : undefined,
      baselineMedianUs: typeof baselineMedianUs === 'number' ? baselineMedianUs : undefined,
    });
  }
  return out;
}

function datapathSection(r: RunResults, host: string): Section | undefined {
  const all = r.measurements.filter((m) => m.suite === 'datapath');
  if (all.length === 0) return undefined;
  const conns = all.filter(isOk).filter((m) => m.name === 'new-connection' && numParam(m, 'services') !== undefined);
  const fits = costFits(r);
  const charts: Chart[] = [];
  const tables: Section['tables'] = [];
  if (conns.length > 0) {
    const key = (backend: string, position: string, proto: string): string => `${backend}|${position}|${proto}`;
    const range = new Map<string, number[]>();
    const fitOf = new Map(fits.map((f) => [key(f.backend, f.position, f.proto), f]));
    const measuredRows: Row[] = conns.map((m) => {
      const f = timeFactor(m.unit, 'µs') ?? 1;
      const backend = strParam(m, 'backend') ?? '?';
      const position = strParam(m, 'position') ?? '?';
      const proto = strParam(m, 'proto') ?? '?';
      const k = key(backend, position, proto);
      // Plotted where the fit was: the point's baseline ratio at the fit's median baseline (what the dashed line goes through).
      const scale = fitOf.get(k)?.baselineMedianUs;
      const ratio = (m.extra as { baselineRatio?: unknown } | undefined)?.baselineRatio;
      const corrected = scale !== undefined && typeof ratio === 'number' ? ratio * scale : null;
      const row = {
        kind: 'measured median',
        backend, position, proto,
        services: numParam(m, 'services') ?? 0,
        endpoints: numParam(m, 'endpoints') ?? null,
        us: corrected ?? m.summary.median * f,
        raw: m.summary.median * f,
        corrected,
        p99: m.summary.p99 * f,
        n: m.summary.n,
      };
      range.set(k, [...(range.get(k) ?? []), row.services]);
      return row;
    });
    // Each fitted line spans the Services range it was fitted on: a line is a claim only where there were points.
    const fitRows: Row[] = fits.flatMap((f) => {
      const xs = range.get(key(f.backend, f.position, f.proto));
      if (!xs || xs.length === 0) return [];
      return [Math.min(...xs), Math.max(...xs)].map((s) => ({
        kind: 'fit a + b·Services', backend: f.backend, position: f.position, proto: f.proto, services: s, us: f.a + f.b * s, n: null,
      }));
    });
    const measured = 'Latency of establishing one new connection through the Service VIP (first packet through the dataplane, conntrack miss), by where the target Service sits in the rule set; points = drift-corrected medians (each round over the baseline round run next to it, times the fit\'s median baseline round: the VM\'s speed drifts between sizes, the ratio does not), dashed = fitted a + b·Services through them; the table has the raw medians too.';
    const title = 'New-connection latency vs Services, per backend and position';
    charts.push({
      id: 'datapath-new-connection',
      title,
      measured,
      n: sumN(conns),
      table: {
        head: ['backend', 'position', 'proto', 'Services', 'median µs', 'drift-corrected µs', 'p99 µs', 'n'],
        rows: measuredRows.map((v) => [String(v.backend), String(v.position), String(v.proto), String(v.services), fmt(v.raw as number), v.corrected === null ? '–' : fmt(v.corrected as number), fmt(v.p99 as number), String(v.n)]),
      },
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: titleBlock(title, measured, host, sumN(conns), conns.length),
        data: { values: [...measuredRows, ...fitRows] },
        facet: {
          column: { field: 'position', type: 'nominal', title: 'position of the Service', sort: ['first', 'middle', 'last', 'random'] },
          row: { field: 'proto', type: 'nominal', title: null },
        },
        spec: {
          width: 200,
          height: 170,
          layer: [
            { transform: [{ filter: "datum.kind === 'measured median'" }],
              mark: { type: 'point', filled: true, size: 40, tooltip: { content: 'data' } },
              encoding: {
                x: { field: 'services', type: 'quantitative', title: 'Services' },
                y: { field: 'us', type: 'quantitative', title: 'new connection (µs)' },
                color: { field: 'backend', type: 'nominal', title: 'backend' },
              } },
            { transform: [{ filter: "datum.kind !== 'measured median'" }],
              mark: { type: 'line', strokeDash: [5, 3], tooltip: true },
              encoding: {
                x: { field: 'services', type: 'quantitative' },
                y: { field: 'us', type: 'quantitative' },
                color: { field: 'backend', type: 'nominal' },
              } },
          ],
        },
        resolve: { scale: { y: 'shared' } },
        config: CONFIG,
      },
    });
  }
  if (fits.length > 0) {
    tables.push({
      caption: 'Fitted first-packet cost per Service (new-connection latency = a + b·Services)',
      table: {
        head: ['backend', 'position', 'proto', 'a µs', 'b ns/Service', 'b 95% CI ns/Service', 'R²', 'O(1)?'],
        rows: fits.map((f) => [f.backend, f.position, f.proto, fmt(f.a), fmt(f.b * 1000),
          f.bCI ? `${fmt(f.bCI[0] * 1000)} … ${fmt(f.bCI[1] * 1000)}` : '–', fmt(f.r2), f.o1 === undefined ? '–' : f.o1 ? 'yes' : 'no']),
      },
    });
  }
  return { id: 'datapath', title: 'First packet through the dataplane (datapath)', charts, tables, notShown: notShown(all) };
}

// ---------------------------------------------------------------------------
// eBPF

function ebpfSection(r: RunResults, host: string): Section | undefined {
  const all = r.measurements.filter((m) => m.suite === 'ebpf');
  if (all.length === 0) return undefined;
  const ok = all.filter(isOk).filter((m) => m.name === 'prog-test-run' && numParam(m, 'services') !== undefined && m.summary.median > 0);
  const charts: Chart[] = [];
  if (ok.length > 0) {
    const values: Row[] = ok.map((m) => ({
      services: numParam(m, 'services') ?? 0,
      lookup: m.params.hit === true || m.params.hit === 'true' ? 'hit (Service found)' : 'miss (no Service)',
      fill: `fill ${strParam(m, 'fill') ?? '?'}`,
      ns: m.summary.median * (timeFactor(m.unit, 'ns') ?? 1),
      p99: m.summary.p99 * (timeFactor(m.unit, 'ns') ?? 1),
      n: m.summary.n,
    }));
    const title = 'eBPF service lookup: ns per packet vs Services';
    const measured = 'Time per packet of the service-lookup program run by the kernel with BPF_PROG_TEST_RUN (median over repeats).';
    charts.push({
      id: 'ebpf-ns-per-packet',
      title,
      measured,
      n: sumN(ok),
      table: {
        head: ['Services', 'lookup', 'fill', 'median ns', 'p99 ns', 'n'],
        rows: values.map((v) => [String(v.services), String(v.lookup), String(v.fill), fmt(v.ns as number), fmt(v.p99 as number), String(v.n)]),
      },
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: titleBlock(title, measured, host, sumN(ok), ok.length),
        data: { values },
        width: 420,
        height: HEIGHT,
        layer: [...linesWithPoints({ field: 'services', title: 'Services in the map', log: true }, { field: 'ns', title: 'median ns / packet' },
          { field: 'lookup', title: 'lookup' }, { field: 'fill', title: 'map fill' })],
        config: CONFIG,
      },
    });
  }
  return { id: 'ebpf', title: 'eBPF dataplane (BPF_PROG_TEST_RUN)', charts, tables: [], notShown: notShown(all) };
}

// ---------------------------------------------------------------------------
// scheduler

function schedulerSection(r: RunResults, host: string): Section | undefined {
  const all = r.measurements.filter((m) => m.suite === 'scheduler');
  if (all.length === 0) return undefined;
  const ok = all.filter(isOk).filter((m) => m.name === 'throughput' && numParam(m, 'workers') !== undefined);
  const charts: Chart[] = [];
  const tables: Section['tables'] = [];
  if (ok.length > 0) {
    const values: Row[] = ok.map((m) => ({
      kind: 'measured',
      workload: strParam(m, 'workload') ?? '?',
      nodes: `${numParam(m, 'nodes') ?? '?'} nodes`,
      pods: numParam(m, 'pods') ?? null,
      workers: numParam(m, 'workers') ?? 0,
      // The pool's two engines are two lines (results from before the engine existed have no engine: the full pass),
      // and the batched optimistic mode a point of its own.
      mode: `${strParam(m, 'mode') ?? ''}${strParam(m, 'engine') === 'incremental' ? ' incremental' : ''}${numParam(m, 'batch') !== undefined ? ` batch ${numParam(m, 'batch')}` : ''}`,
      podsPerSecond: m.summary.median,
      n: m.summary.n,
    }));
    const workloads = [...new Set(values.map((v) => String(v.workload)))];
    const anchors: Row[] = workloads.flatMap((w) => {
      const t = (SCHEDULER_PERF_THRESHOLDS as Record<string, { test: string; podsPerSecond: number } | undefined>)[w];
      return t ? [{ kind: 'anchor', workload: w, podsPerSecond: t.podsPerSecond, label: `scheduler_perf ${t.test}: ${t.podsPerSecond} pods/s` }] : [];
    });
    const title = 'Scheduler throughput vs workers';
    const measured = "Pods scheduled per second by kscale's filter/score framework over a synthetic cluster, by worker threads; grey rule = upstream scheduler_perf threshold (upstream CI hardware, not measured here).";
    charts.push({
      id: 'scheduler-throughput',
      title,
      measured,
      n: sumN(ok),
      table: {
        head: ['workload', 'nodes', 'pods', 'workers', 'mode', 'median pods/s', 'n'],
        rows: values.map((v) => [String(v.workload), String(v.nodes).split(' ')[0] ?? '', String(v.pods ?? '–'), String(v.workers), String(v.mode), fmt(v.podsPerSecond as number), String(v.n)]),
      },
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: titleBlock(title, measured, host, sumN(ok), ok.length),
        data: { values: [...values, ...anchors] },
        facet: { column: { field: 'workload', type: 'nominal', title: 'workload' } },
        spec: {
          width: 220,
          height: HEIGHT,
          layer: [
            ...linesWithPoints({ field: 'workers', title: 'workers' }, { field: 'podsPerSecond', title: 'pods / s (log)', log: true },
              { field: 'nodes', title: 'cluster' }, { field: 'mode', title: 'mode' }, undefined, "datum.kind === 'measured'"),
            { transform: [{ filter: "datum.kind === 'anchor'" }],
              mark: { type: 'rule', color: '#888', strokeDash: [4, 4] },
              encoding: { y: { field: 'podsPerSecond', type: 'quantitative' } } },
            { transform: [{ filter: "datum.kind === 'anchor'" }],
              mark: { type: 'text', align: 'left', dx: 2, dy: -6, fontSize: 9, color: '#555', x: 0 },
              encoding: { y: { field: 'podsPerSecond', type: 'quantitative' }, text: { field: 'label' } } },
          ],
        },
        config: CONFIG,
      },
    });
  }
  const lat = all.filter(isOk).filter((m) => m.name === 'pod-latency');
  if (lat.length > 0) {
    tables.push({
      caption: 'Per-pod scheduling latency',
      table: {
        head: ['parameters', 'median ms', 'p90 ms', 'p99 ms', 'n'],
        rows: lat.map((m) => [paramsText(m.params), fmt(m.summary.median), fmt(m.summary.p90), fmt(m.summary.p99), String(m.summary.n)]),
      },
    });
  }
  return { id: 'scheduler', title: 'Scheduler (filter → score → select)', charts, tables, notShown: notShown(all) };
}

// ---------------------------------------------------------------------------
// etcd: fsync, put and watch distributions

/** Percentile points of a sample set, thinned to at most ~60 points with the tail kept. */
export function percentileCurve(samples: readonly number[]): { q: number; value: number }[] {
  const sorted = Float64Array.from(samples).sort();
  const qs = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97, 98, 99, 99.5, 99.9, 100];
  return qs.map((q) => ({ q, value: percentileSorted(sorted, q) }));
}

/** Cumulative percentile at each bucket bound of a non-cumulative histogram. */
export function histogramCurve(buckets: readonly { le: number; count: number }[]): { q: number; value: number }[] {
  const total = buckets.reduce((s, b) => s + b.count, 0);
  if (total === 0) return [];
  let acc = 0;
  return [...buckets].sort((x, y) => x.le - y.le).filter((b) => Number.isFinite(b.le)).map((b) => {
    acc += b.count;
    return { q: (acc / total) * 100, value: b.le };
  });
}

/** Percentile q as "nines": p90 → 1, p99 → 2, p99.9 → 3; capped so the maximum stays on the chart. */
const MAX_NINES = 3.3;
export function nines(q: number): number {
  return Math.min(-Math.log10(1 - Math.min(q, 99.99) / 100), MAX_NINES);
}

function fsyncChart(r: RunResults, host: string): Chart | undefined {
  const rows: Row[] = [];
  const used: Measurement[] = [];
  let n = 0;
  const isFsync = (m: Measurement): boolean =>
    (m.suite === 'fsync' && m.name === 'wal-fdatasync') || (m.suite === 'etcd' && /fsync|commit/.test(m.name));
  for (const m of r.measurements.filter((x) => x.status === 'ok' && isFsync(x))) {
    const f = timeFactor(m.unit, 'ms') ?? 1;
    const source = m.suite === 'fsync' ? `${m.name} (${strParam(m, 'tool') ?? '?'})` : `etcd ${m.name}`;
    const fio = (m.extra?.fio ?? undefined) as { p50?: number; p90?: number; p99?: number; n?: number } | undefined;
    if (m.samples && m.samples.length > 0) {
      for (const p of percentileCurve(m.samples)) rows.push({ kind: 'curve', source, q: p.q, ms: p.value * f });
      n += m.samples.length;
    } else if (m.histogram && m.histogram.buckets.length > 0) {
      for (const p of histogramCurve(m.histogram.buckets)) rows.push({ kind: 'curve', source, q: p.q, ms: p.value * f });
      n += m.histogram.buckets.reduce((s, b) => s + b.count, 0);
    } else if (fio && typeof fio.p99 === 'number') {
      for (const [q, v] of [[50, fio.p50], [90, fio.p90], [99, fio.p99]] as const) {
        if (typeof v === 'number') rows.push({ kind: 'curve', source, q, ms: v * f });
      }
      n += typeof fio.n === 'number' ? fio.n : 0;
    } else continue;
    used.push(m);
  }
  const curves = rows.filter((x) => (x.ms as number) > 0).map((x) => ({ ...x, nines: nines(x.q as number) }));
  if (curves.length === 0) return undefined;
  const guides: Row[] = [{ kind: 'guide', ms: ETCD_WAL_FSYNC_P99_MS, label: `etcd guidance: WAL fsync p99 < ${ETCD_WAL_FSYNC_P99_MS} ms` }];
  if (used.some((m) => /commit/.test(m.name))) {
    guides.push({ kind: 'guide', ms: ETCD_BACKEND_COMMIT_P99_MS, label: `etcd guidance: backend commit p99 < ${ETCD_BACKEND_COMMIT_P99_MS} ms` });
  }
  const title = 'WAL write + fdatasync latency distribution';
  const measured = "etcd's WAL pattern (sequential 2,300-byte writes, each followed by fdatasync) on the data disk; latency at each percentile. Dashed = etcd's guidance.";
  return {
    id: 'etcd-fsync',
    title,
    measured,
    n,
    table: {
      head: ['source', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'meets p99 < 10 ms'],
      rows: used.map((m) => {
        const f = timeFactor(m.unit, 'ms') ?? 1;
        const fio = m.extra?.fio as { p50?: number; p90?: number; p99?: number; max?: number } | undefined;
        const s = m.summary ?? (fio ? { p50: fio.p50 ?? NaN, p90: fio.p90 ?? NaN, p99: fio.p99 ?? NaN, max: fio.max ?? NaN } : undefined);
        const p99 = (s?.p99 ?? NaN) * f;
        return [`${m.suite}/${m.name} ${paramsText(m.params)}`, fmt((s?.p50 ?? NaN) * f), fmt((s?.p90 ?? NaN) * f), fmt(p99), fmt((s?.max ?? NaN) * f),
          Number.isFinite(p99) ? (p99 < ETCD_WAL_FSYNC_P99_MS ? 'yes' : 'no') : '–'];
      }),
    },
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: titleBlock(title, measured, host, n, used.length),
      data: { values: [...curves, ...guides] },
      width: 460,
      height: 240,
      layer: [
        { transform: [{ filter: "datum.kind === 'curve'" }],
          mark: { type: 'line', point: true, tooltip: true },
          encoding: {
            // The tail is what etcd cares about: one axis step per "nine" (p90, p99, p99.9).
            x: { field: 'nines', type: 'quantitative', title: 'percentile', scale: { domain: [0, MAX_NINES] },
              axis: { values: [0, Math.log10(2), 1, 2, 3], labelExpr: "'p' + format(100 - pow(10, 2 - datum.value), '.4~')" } },
            y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms)' },
            color: { field: 'source', type: 'nominal', title: 'measured by' },
          } },
        { transform: [{ filter: "datum.kind === 'guide'" }],
          mark: { type: 'rule', color: '#c0392b', strokeDash: [6, 4] },
          encoding: { y: { field: 'ms', type: 'quantitative' } } },
        { transform: [{ filter: "datum.kind === 'guide'" }],
          mark: { type: 'text', align: 'left', x: 4, dy: -6, fontSize: 10, color: '#c0392b' },
          encoding: { y: { field: 'ms', type: 'quantitative' }, text: { field: 'label' } } },
      ],
      config: CONFIG,
    },
  };
}

/** p50/p90/p99 ticks per setting for one etcd measurement name (put-latency, watch-latency). */
function quantileChart(r: RunResults, host: string, o: { name: string; id: string; title: string; measured: string; x: string; xTitle: string; by?: string; guide?: { ms: number; label: string } }): Chart | undefined {
  const ms = r.measurements.filter((m) => m.suite === 'etcd' && m.name === o.name).filter(isOk);
  if (ms.length === 0) return undefined;
  const rows: Row[] = ms.flatMap((m) => {
    const f = timeFactor(m.unit, 'ms') ?? 1;
    const setting = `${strParam(m, o.x) ?? '?'}`;
    const by = o.by ? `${o.by}=${strParam(m, o.by) ?? '?'}` : '';
    return (['p50', 'p90', 'p99'] as const).map((q) => ({ kind: 'q', setting, by, quantile: q, ms: m.summary[q] * f }));
  }).filter((x) => x.ms > 0);
  if (rows.length === 0) return undefined;
  const guides: Row[] = o.guide ? [{ kind: 'guide', ms: o.guide.ms, label: o.guide.label }] : [];
  const settings = sortedNumbers(ms.map((m) => numParam(m, o.x) ?? Number.NaN).filter(Number.isFinite)).map(String);
  return {
    id: o.id,
    title: o.title,
    measured: o.measured,
    n: sumN(ms),
    table: {
      head: [o.xTitle, ...(o.by ? [o.by] : []), 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'n'],
      rows: ms.map((m) => {
        const f = timeFactor(m.unit, 'ms') ?? 1;
        return [strParam(m, o.x) ?? '?', ...(o.by ? [strParam(m, o.by) ?? '?'] : []), fmt(m.summary.p50 * f), fmt(m.summary.p90 * f), fmt(m.summary.p99 * f), fmt(m.summary.max * f), String(m.summary.n)];
      }),
    },
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: titleBlock(o.title, o.measured, host, sumN(ms), ms.length),
      data: { values: [...rows, ...guides] },
      width: 380,
      height: 220,
      layer: [
        { transform: [{ filter: "datum.kind === 'q'" }],
          mark: { type: 'line' },
          encoding: {
            x: { field: 'setting', type: 'ordinal', title: o.xTitle, sort: settings.length > 0 ? settings : 'ascending', axis: { labelAngle: 0 } },
            y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms)' },
            color: { field: 'quantile', type: 'nominal', title: 'percentile', sort: ['p50', 'p90', 'p99'] },
            strokeDash: { field: 'by', type: 'nominal', title: o.by ?? '' },
          } },
        { transform: [{ filter: "datum.kind === 'q'" }],
          mark: { type: 'point', filled: true, size: 36, tooltip: { content: 'data' } },
          encoding: {
            x: { field: 'setting', type: 'ordinal', sort: settings.length > 0 ? settings : 'ascending' },
            y: { field: 'ms', type: 'quantitative' },
            color: { field: 'quantile', type: 'nominal', sort: ['p50', 'p90', 'p99'] },
          } },
        ...(o.guide ? [
          { transform: [{ filter: "datum.kind === 'guide'" }], mark: { type: 'rule' as const, color: '#c0392b', strokeDash: [6, 4] },
            encoding: { y: { field: 'ms', type: 'quantitative' as const } } },
          { transform: [{ filter: "datum.kind === 'guide'" }], mark: { type: 'text' as const, align: 'left' as const, x: 4, dy: -6, fontSize: 10, color: '#c0392b' },
            encoding: { y: { field: 'ms', type: 'quantitative' as const }, text: { field: 'label' } } },
        ] : []),
      ],
      config: CONFIG,
    },
  };
}

function etcdSection(r: RunResults, host: string): Section | undefined {
  const all = r.measurements.filter((m) => m.suite === 'etcd' || m.suite === 'fsync');
  if (all.length === 0) return undefined;
  const charts = [
    fsyncChart(r, host),
    quantileChart(r, host, {
      name: 'put-latency', id: 'etcd-put', title: 'etcd put latency by client concurrency', x: 'concurrency', xTitle: 'concurrent clients', by: 'preloaded',
      measured: 'Time from a put request to its acknowledgement by the etcd kscale started (or was pointed at), by concurrent clients; dashed = the WAL fsync guidance every durable put waits for.',
      guide: { ms: ETCD_WAL_FSYNC_P99_MS, label: `WAL fsync guidance p99 < ${ETCD_WAL_FSYNC_P99_MS} ms (each put waits for one)` },
    }),
    quantileChart(r, host, {
      name: 'watch-latency', id: 'etcd-watch', title: 'etcd watch delivery latency by watchers', x: 'watchers', xTitle: 'watchers', by: 'from',
      measured: 'Time from a put (issued, or acknowledged) until each watcher receives the event, by number of watchers.',
    }),
  ].filter((c): c is Chart => c !== undefined);
  return { id: 'etcd', title: 'etcd: disk, writes and watches', charts, tables: [], notShown: notShown(all) };
}

// ---------------------------------------------------------------------------

/** Every section the run has measurements for, in reading order. */
export function buildSections(r: RunResults): Section[] {
  const host = hostLine(r.host);
  return [renderSection, syncSection, datapathSection, ebpfSection, schedulerSection, etcdSection]
    .map((f) => f(r, host))
    .filter((s): s is Section => s !== undefined);
}

/** Measurements of suites the sections above do not know (a suite added later still appears in the report). */
export function otherMeasurements(r: RunResults): Measurement[] {
  const known = new Set(['render', 'sync', 'datapath', 'ebpf', 'scheduler', 'etcd', 'fsync']);
  return r.measurements.filter((m) => !known.has(m.suite));
}
