// Straight-line fits, cost = a + b·x, for "ns per Service" style questions.
// Ordinary least squares gives the textbook slope, its standard error and R²;
// Theil–Sen (median of pairwise slopes) is the outlier-robust estimate that one
// noisy point on a shared VM cannot drag.

export interface LinearFit {
  intercept: number;
  slope: number;
  /** Standard error of the slope (OLS); NaN with fewer than 3 points. */
  slopeStdErr: number;
  /** 95% confidence interval of the slope (t distribution, n-2 df). */
  slopeCI: { low: number; high: number };
  r2: number;
  n: number;
  method: 'ols' | 'theil-sen';
}

/** Two-sided 97.5% quantile of Student's t for df degrees of freedom. */
export function tQuantile975(df: number): number {
  const table = [Number.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06,
    2.056, 2.052, 2.048, 2.045, 2.042];
  if (df < 1) return Number.NaN;
  if (df < table.length) return table[df] as number;
  // Beyond 30 df, a Cornish–Fisher style correction to the normal quantile is accurate to ~1e-3.
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

function rSquared(xs: readonly number[], ys: readonly number[], a: number, b: number): number {
  const meanY = ys.reduce((s, y) => s + y, 0) / ys.length;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i] as number;
    ssRes += (y - (a + b * (xs[i] as number))) ** 2;
    ssTot += (y - meanY) ** 2;
  }
  return ssTot === 0 ? 1 : 1 - ssRes / ssTot;
}

function slopeError(xs: readonly number[], ys: readonly number[], a: number, b: number): number {
  const n = xs.length;
  if (n < 3) return Number.NaN;
  const meanX = xs.reduce((s, x) => s + x, 0) / n;
  let ssRes = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    ssRes += ((ys[i] as number) - (a + b * (xs[i] as number))) ** 2;
    sxx += ((xs[i] as number) - meanX) ** 2;
  }
  return Math.sqrt(ssRes / (n - 2) / sxx);
}

function withInterval(xs: readonly number[], ys: readonly number[], a: number, b: number, method: LinearFit['method']): LinearFit {
  const se = slopeError(xs, ys, a, b);
  const t = tQuantile975(xs.length - 2);
  return { intercept: a, slope: b, slopeStdErr: se, slopeCI: { low: b - t * se, high: b + t * se }, r2: rSquared(xs, ys, a, b), n: xs.length, method };
}

function checkInput(xs: readonly number[], ys: readonly number[]): void {
  if (xs.length !== ys.length) throw new RangeError('fit: xs and ys differ in length');
  if (xs.length < 2) throw new RangeError('fit: need at least two points');
  if (xs.every((x) => x === xs[0])) throw new RangeError('fit: all x values are equal');
}

export function fitOLS(xs: readonly number[], ys: readonly number[]): LinearFit {
  checkInput(xs, ys);
  const n = xs.length;
  const meanX = xs.reduce((s, x) => s + x, 0) / n;
  const meanY = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - meanX;
    sxy += dx * ((ys[i] as number) - meanY);
    sxx += dx * dx;
  }
  const b = sxy / sxx;
  return withInterval(xs, ys, meanY - b * meanX, b, 'ols');
}

/** Theil–Sen: slope = median of pairwise slopes, intercept = median of y − b·x. */
export function fitTheilSen(xs: readonly number[], ys: readonly number[]): LinearFit {
  checkInput(xs, ys);
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dx = (xs[j] as number) - (xs[i] as number);
      if (dx !== 0) slopes.push(((ys[j] as number) - (ys[i] as number)) / dx);
    }
  }
  const med = (v: number[]): number => {
    const s = [...v].sort((p, q) => p - q);
    const m = s.length >> 1;
    return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
  };
  const b = med(slopes);
  const a = med(xs.map((x, i) => (ys[i] as number) - b * x));
  return withInterval(xs, ys, a, b, 'theil-sen');
}

/** A slope is "indistinguishable from zero" when its 95% interval contains zero. */
export function slopeIsZero(fit: LinearFit): boolean {
  return fit.slopeCI.low <= 0 && fit.slopeCI.high >= 0;
}

/**
 * The 95% interval of a Theil–Sen slope when each x has many samples (a
 * point's rounds) and the fit goes through their medians: resample every x's
 * samples with replacement, refit through the resampled medians, and take the
 * 2.5th and 97.5th percentiles of the slopes. Unlike the t interval over the
 * medians alone (1 degree of freedom with three sizes: ±12.7 standard errors,
 * wide enough to call any walk flat), this is as narrow as the rounds make
 * each median, and defined with two sizes too. Every x needs a sample.
 *
 * `relativeSd`: an error each x's value carries beyond its samples' spread,
 * as a share of it (one standard deviation, normal): what the samples of one
 * x cannot show, such as that x being its own load of the rules. Each
 * resampled median is scaled by 1 + relativeSd·z, z drawn per x.
 */
export function bootstrapSlopeCI(xs: readonly number[], samples: readonly (readonly number[])[], rng: () => number, resamples = 1000, relativeSd = 0): { low: number; high: number } {
  if (samples.length !== xs.length || samples.some((s) => s.length === 0)) throw new RangeError('bootstrapSlopeCI: every x needs at least one sample');
  const slopes = new Float64Array(resamples);
  const ys = new Array<number>(xs.length);
  const scratch = samples.map((s) => new Float64Array(s.length));
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) {
      const from = samples[i] as readonly number[];
      const into = scratch[i] as Float64Array;
      for (let k = 0; k < into.length; k++) into[k] = from[Math.floor(rng() * from.length)] as number;
      into.sort();
      const m = into.length >> 1;
      const med = into.length % 2 ? (into[m] as number) : ((into[m - 1] as number) + (into[m] as number)) / 2;
      ys[i] = relativeSd > 0 ? med * (1 + relativeSd * normal(rng)) : med;
    }
    slopes[r] = fitTheilSen(xs, ys).slope;
  }
  slopes.sort();
  return { low: slopes[Math.floor(0.025 * (resamples - 1))] as number, high: slopes[Math.ceil(0.975 * (resamples - 1))] as number };
}

/** A standard normal draw from two uniform ones (Box–Muller). */
function normal(rng: () => number): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}
