// etcd's own view of a run: its Prometheus /metrics text scraped before and
// after, reduced to the two disk histograms etcd's tuning guide watches (WAL
// fsync, backend commit) and the db size. Pure functions over the text; the
// scrape itself is in client.ts.
import type { Histogram } from '../results/types.js';

/** One histogram as Prometheus exposes it: cumulative bucket counts by upper bound (seconds). */
export interface PromHistogram {
  /** Ascending upper bounds; the last is +Inf. */
  le: number[];
  /** Cumulative counts, one per bound. */
  cumulative: number[];
  sum: number;
  count: number;
}

export interface EtcdMetrics {
  walFsync?: PromHistogram;
  backendCommit?: PromHistogram;
  /** etcd_mvcc_db_total_size_in_bytes: the bbolt file as allocated on disk. */
  dbTotalBytes?: number;
  /** etcd_mvcc_db_total_size_in_use_in_bytes: the part holding live data. */
  dbInUseBytes?: number;
}

export const WAL_FSYNC = 'etcd_disk_wal_fsync_duration_seconds';
export const BACKEND_COMMIT = 'etcd_disk_backend_commit_duration_seconds';

// `name{labels} value [timestamp]`, labels optional; values may be NaN, +Inf, -Inf.
const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)(?:\s+\S+)?$/;

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function labelValue(labels: string | undefined, name: string): string | undefined {
  if (!labels) return undefined;
  const m = new RegExp(`(?:^|,)\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(labels);
  return m?.[1];
}

/** Every unlabelled (or le-only) sample of the text, by metric name; histogram buckets keyed `name|le`. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE_RE.exec(line);
    if (!m) continue;
    const [, name, labels, value] = m;
    if (name === undefined || value === undefined) continue;
    const le = labelValue(labels, 'le');
    out.set(le === undefined ? name : `${name}|${le}`, parseValue(value));
  }
  return out;
}

function histogram(s: Map<string, number>, name: string): PromHistogram | undefined {
  const buckets: { le: number; c: number }[] = [];
  const prefix = `${name}_bucket|`;
  for (const [key, value] of s) if (key.startsWith(prefix)) buckets.push({ le: parseValue(key.slice(prefix.length)), c: value });
  const sum = s.get(`${name}_sum`);
  const count = s.get(`${name}_count`);
  if (buckets.length === 0 || sum === undefined || count === undefined) return undefined;
  buckets.sort((a, b) => a.le - b.le);
  return { le: buckets.map((b) => b.le), cumulative: buckets.map((b) => b.c), sum, count };
}

export function parseEtcdMetrics(text: string): EtcdMetrics {
  const s = samples(text);
  const out: EtcdMetrics = {};
  const wal = histogram(s, WAL_FSYNC);
  const commit = histogram(s, BACKEND_COMMIT);
  if (wal) out.walFsync = wal;
  if (commit) out.backendCommit = commit;
  // etcd 3.4 exposes both names; 3.3 and older only the debugging one.
  const total = s.get('etcd_mvcc_db_total_size_in_bytes') ?? s.get('etcd_debugging_mvcc_db_total_size_in_bytes');
  const inUse = s.get('etcd_mvcc_db_total_size_in_use_in_bytes');
  if (total !== undefined) out.dbTotalBytes = total;
  if (inUse !== undefined) out.dbInUseBytes = inUse;
  return out;
}

/** What happened between two scrapes of one histogram. Throws when the bounds differ or counters went back (etcd restarted). */
export function histogramDelta(before: PromHistogram, after: PromHistogram): PromHistogram {
  if (before.le.length !== after.le.length || before.le.some((b, i) => b !== after.le[i])) {
    throw new Error('histogram buckets changed between scrapes');
  }
  const cumulative = after.cumulative.map((c, i) => c - (before.cumulative[i] ?? 0));
  if (cumulative.some((c) => c < 0) || after.count < before.count) throw new Error('histogram counters went backwards (etcd restarted between scrapes?)');
  return { le: after.le, cumulative, sum: after.sum - before.sum, count: after.count - before.count };
}

/**
 * Quantile estimate from cumulative buckets, as PromQL's histogram_quantile does:
 * linear interpolation inside the bucket the rank falls in (lower bound 0 for
 * the first). A rank in the +Inf bucket answers the highest finite bound.
 */
export function histogramQuantile(h: PromHistogram, q: number): number {
  const total = h.cumulative[h.cumulative.length - 1] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < h.le.length; i++) {
    const upper = h.le[i] as number;
    const cum = h.cumulative[i] as number;
    if (cum >= rank) {
      if (!Number.isFinite(upper)) return h.le[i - 1] ?? Number.NaN;
      const lower = i === 0 ? 0 : (h.le[i - 1] as number);
      const below = i === 0 ? 0 : (h.cumulative[i - 1] as number);
      const inBucket = cum - below;
      return inBucket === 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
    }
  }
  return Number.NaN;
}

/**
 * The results schema's form: per-bucket (not cumulative) counts with finite upper
 * bounds in milliseconds; what fell past the last finite bound is `overflow`
 * (JSON has no +Inf).
 */
export function toResultsHistogramMs(h: PromHistogram): { histogram: Histogram; overflow: number } {
  const buckets: Histogram['buckets'] = [];
  let previous = 0;
  let overflow = 0;
  for (let i = 0; i < h.le.length; i++) {
    const cum = h.cumulative[i] as number;
    const le = h.le[i] as number;
    if (Number.isFinite(le)) buckets.push({ le: le * 1000, count: cum - previous });
    else overflow = cum - previous;
    previous = cum;
  }
  return { histogram: { buckets }, overflow };
}
