// Summaries of raw samples. Pure functions over plain number arrays; callers
// keep the raw samples in the results file so any summary can be recomputed.

export interface Summary {
  n: number;
  median: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
  /** Median absolute deviation (unscaled). */
  mad: number;
}

function sortedCopy(xs: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs).sort();
}

/** Percentile with linear interpolation between closest ranks (numpy's default), q in [0, 100]. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (Math.min(Math.max(q, 0), 100) / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function percentile(xs: ArrayLike<number>, q: number): number {
  return percentileSorted(sortedCopy(xs), q);
}

export function median(xs: ArrayLike<number>): number {
  return percentile(xs, 50);
}

export function mad(xs: ArrayLike<number>): number {
  const m = median(xs);
  return median(Array.from(xs, (x) => Math.abs(x - m)));
}

export function summarize(xs: ArrayLike<number>): Summary {
  const sorted = sortedCopy(xs);
  const n = sorted.length;
  if (n === 0) throw new RangeError('summarize: no samples');
  let sum = 0;
  for (const x of sorted) sum += x;
  const med = percentileSorted(sorted, 50);
  return {
    n,
    median: med,
    p50: med,
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    min: sorted[0] as number,
    max: sorted[n - 1] as number,
    mean: sum / n,
    mad: median(Array.from(sorted, (x) => Math.abs(x - med))),
  };
}

/** Seeded PRNG (mulberry32) so bootstrap intervals are reproducible from a results file. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Interval {
  low: number;
  high: number;
  level: number;
}

/** Percentile-bootstrap confidence interval of the median. */
export function bootstrapMedianCI(xs: ArrayLike<number>, opts: { level?: number; resamples?: number; seed?: number } = {}): Interval {
  const level = opts.level ?? 0.95;
  const resamples = opts.resamples ?? 1000;
  const n = xs.length;
  if (n === 0) throw new RangeError('bootstrapMedianCI: no samples');
  const rand = mulberry32(opts.seed ?? 1);
  const medians = new Float64Array(resamples);
  const buf = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) buf[i] = xs[Math.floor(rand() * n)] as number;
    buf.sort();
    medians[r] = percentileSorted(buf, 50);
  }
  medians.sort();
  const alpha = (1 - level) / 2;
  return { low: percentileSorted(medians, alpha * 100), high: percentileSorted(medians, (1 - alpha) * 100), level };
}
