// The two-sample statistics the gate decides with. Pure and seeded.
//  - Mann–Whitney U: does one sample tend to be larger than the other? Makes no
//    assumption about the shape of the distribution (latencies are skewed and
//    have stalls), and one outlier moves it by one rank, not by its size.
//  - Bootstrap CI of the ratio of medians: how large the change is, with its uncertainty.
import { mulberry32, percentileSorted } from '../stats/summary.js';
import type { Interval } from '../stats/summary.js';

export interface MannWhitney {
  /** U of `y` against `x`: pairs with y > x, ties counting one half. */
  u: number;
  /** One-sided p-value of "y tends to be larger than x". */
  pGreater: number;
  /** One-sided p-value of "y tends to be smaller than x". */
  pLess: number;
  method: 'exact' | 'normal';
}

/** Largest sample sizes for the exact null distribution (a table of n·m+1 entries per step). */
const EXACT_MAX = 40;

const exactCache = new Map<string, Float64Array>();

/** Counts of U = 0..n·m over all C(n+m, n) orderings, without ties (Mann & Whitney's recursion); cached per size. */
function exactUCounts(n: number, m: number): Float64Array {
  const key = `${n},${m}`;
  let counts = exactCache.get(key);
  if (!counts) {
    counts = computeExactUCounts(n, m);
    exactCache.set(key, counts);
  }
  return counts;
}

function computeExactUCounts(n: number, m: number): Float64Array {
  // rows[j] = distribution for (i, j); iterate i = 0..n keeping one row per j.
  let prev: Float64Array[] = Array.from({ length: m + 1 }, () => Float64Array.of(1)); // i = 0: U is 0, one way
  for (let i = 1; i <= n; i++) {
    const cur: Float64Array[] = [Float64Array.of(1)]; // j = 0: one way, U = 0
    for (let j = 1; j <= m; j++) {
      // Largest element is from x (the i-sample): it beats all j y's → shift by j; or from y → U unchanged.
      const fromX = prev[j] as Float64Array;
      const fromY = cur[j - 1] as Float64Array;
      const out = new Float64Array(i * j + 1);
      for (let u = 0; u < fromX.length; u++) out[u + j] = (out[u + j] as number) + (fromX[u] as number);
      for (let u = 0; u < fromY.length; u++) out[u] = (out[u] as number) + (fromY[u] as number);
      cur.push(out);
    }
    prev = cur;
  }
  return prev[m] as Float64Array;
}

function normalUpperTail(z: number): number {
  // Abramowitz–Stegun 7.1.26 via erfc; accurate to ~1e-7, plenty for a gate.
  const t = 1 / (1 + 0.3275911 * Math.abs(z / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-(z * z) / 2);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export function mannWhitney(x: readonly number[], y: readonly number[]): MannWhitney {
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) throw new RangeError('mannWhitney: both samples need at least one value');
  // Ranks of the pooled sample, ties sharing their mean rank.
  const pooled = [...x.map((v) => ({ v, fromY: false })), ...y.map((v) => ({ v, fromY: true }))].sort((a, b) => a.v - b.v);
  let rankSumY = 0;
  let tieTerm = 0;
  let ties = false;
  for (let i = 0; i < pooled.length;) {
    let j = i;
    while (j + 1 < pooled.length && (pooled[j + 1] as { v: number }).v === (pooled[i] as { v: number }).v) j++;
    const t = j - i + 1;
    if (t > 1) { ties = true; tieTerm += t ** 3 - t; }
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if ((pooled[k] as { fromY: boolean }).fromY) rankSumY += rank;
    i = j + 1;
  }
  const u = rankSumY - (m * (m + 1)) / 2;
  if (!ties && n <= EXACT_MAX && m <= EXACT_MAX) {
    // U of y counts pairs y > x; its null distribution is that of the recursion with roles swapped (symmetric).
    const counts = exactUCounts(m, n);
    const total = counts.reduce((s, c) => s + c, 0);
    let ge = 0;
    let le = 0;
    counts.forEach((c, k) => { if (k >= u) ge += c; if (k <= u) le += c; });
    return { u, pGreater: ge / total, pLess: le / total, method: 'exact' };
  }
  const mean = (n * m) / 2;
  const sd = Math.sqrt(((n * m) / 12) * (n + m + 1 - tieTerm / ((n + m) * (n + m - 1))));
  if (sd === 0) return { u, pGreater: 1, pLess: 1, method: 'normal' };
  return { u, pGreater: normalUpperTail((u - mean - 0.5) / sd), pLess: 1 - normalUpperTail((u - mean + 0.5) / sd), method: 'normal' };
}

/** Percentile-bootstrap interval of median(y) / median(x), resampling both. */
export function bootstrapMedianRatioCI(x: readonly number[], y: readonly number[], opts: { level?: number; resamples?: number; seed?: number } = {}): Interval {
  const level = opts.level ?? 0.95;
  const resamples = opts.resamples ?? 1000;
  if (x.length === 0 || y.length === 0) throw new RangeError('bootstrapMedianRatioCI: no samples');
  const rand = mulberry32(opts.seed ?? 1);
  const bx = new Float64Array(x.length);
  const by = new Float64Array(y.length);
  const ratios = new Float64Array(resamples);
  const med = (src: readonly number[], buf: Float64Array): number => {
    for (let i = 0; i < buf.length; i++) buf[i] = src[Math.floor(rand() * src.length)] as number;
    buf.sort();
    return percentileSorted(buf, 50);
  };
  for (let r = 0; r < resamples; r++) ratios[r] = med(y, by) / med(x, bx);
  ratios.sort();
  const alpha = (1 - level) / 2;
  return { low: percentileSorted(ratios, alpha * 100), high: percentileSorted(ratios, (1 - alpha) * 100), level };
}
