import { describe, expect, it } from 'vitest';
import { bootstrapMedianCI, mad, median, mulberry32, percentile, summarize } from '../../src/stats/summary.js';
import { bootstrapSlopeCI, fitOLS, fitTheilSen, slopeIsZero } from '../../src/stats/fit.js';

describe('summary statistics', () => {
  it('interpolates percentiles like numpy', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 90)).toBeCloseTo(46, 10);
    expect(median([5, 1, 3])).toBe(3);
  });
  it('computes MAD and a full summary', () => {
    expect(mad([1, 1, 2, 2, 4, 6, 9])).toBe(1);
    const s = summarize([3, 1, 2]);
    expect(s).toMatchObject({ n: 3, median: 2, min: 1, max: 3, mean: 2 });
  });
  it('rejects an empty sample', () => {
    expect(() => summarize([])).toThrow(/no samples/);
  });
  it('gives a reproducible bootstrap interval that contains the median', () => {
    const xs = Array.from({ length: 200 }, (_, i) => (i * 7919) % 101);
    const a = bootstrapMedianCI(xs, { seed: 3 });
    expect(bootstrapMedianCI(xs, { seed: 3 })).toEqual(a);
    expect(a.low).toBeLessThanOrEqual(median(xs));
    expect(a.high).toBeGreaterThanOrEqual(median(xs));
  });
});

describe('linear fits', () => {
  it('recovers slope and intercept of exact data', () => {
    const xs = [100, 1000, 5000, 10000];
    const f = fitOLS(xs, xs.map((x) => 50 + 2 * x));
    expect(f.slope).toBeCloseTo(2, 9);
    expect(f.intercept).toBeCloseTo(50, 6);
    expect(f.r2).toBeCloseTo(1, 9);
  });
  it('Theil–Sen ignores one wild point that drags OLS', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7];
    const ys = xs.map((x) => 10 + x);
    ys[6] = 1000;
    expect(fitTheilSen(xs, ys).slope).toBeCloseTo(1, 9);
    expect(fitOLS(xs, ys).slope).toBeGreaterThan(50);
  });
  it('calls a flat noisy series O(1) and a rising one not', () => {
    const xs = [100, 1000, 10000, 50000, 100, 1000, 10000, 50000];
    const flat = [10, 11, 9, 10, 11, 9, 10, 10];
    expect(slopeIsZero(fitOLS(xs, flat))).toBe(true);
    expect(slopeIsZero(fitOLS(xs, xs.map((x, i) => 10 + x * 0.01 + (i % 2))))).toBe(false);
  });
});

describe('bootstrapSlopeCI', () => {
  // y = 100 + 2x at x = 0, 10, 20, each with 200 samples of ±5 uniform noise.
  const xs = [0, 10, 20];
  const samplesAt = (seed: number) => {
    const rng = mulberry32(seed);
    return xs.map((x) => Array.from({ length: 200 }, () => 100 + 2 * x + 10 * (rng() - 0.5)));
  };
  it('holds the true slope, narrowly, when every x has many samples', () => {
    const ci = bootstrapSlopeCI(xs, samplesAt(1), mulberry32(2));
    expect(ci.low).toBeLessThan(2);
    expect(ci.high).toBeGreaterThan(2);
    expect(ci.high - ci.low).toBeLessThan(0.2);
  });
  it('widens as the samples grow fewer, and is the same for the same seed', () => {
    const few = samplesAt(3).map((s) => s.slice(0, 5));
    const a = bootstrapSlopeCI(xs, few, mulberry32(4));
    expect(a.high - a.low).toBeGreaterThan(bootstrapSlopeCI(xs, samplesAt(3), mulberry32(4)).high - bootstrapSlopeCI(xs, samplesAt(3), mulberry32(4)).low);
    expect(bootstrapSlopeCI(xs, few, mulberry32(4))).toEqual(a);
  });
  it('widens by a per-x error of its own (relativeSd), which the samples cannot show', () => {
    const tight = bootstrapSlopeCI(xs, samplesAt(5), mulberry32(6));
    const loose = bootstrapSlopeCI(xs, samplesAt(5), mulberry32(6), 1000, 0.05);
    // 5% of about 120 is 6 per x: the slope over 20 moves by about ±0.4 (one sd).
    expect(loose.high - loose.low).toBeGreaterThan(5 * (tight.high - tight.low));
    expect(loose.low).toBeLessThan(2);
    expect(loose.high).toBeGreaterThan(2);
  });
  it('needs a sample at every x', () => {
    expect(() => bootstrapSlopeCI(xs, [[1], [], [3]], mulberry32(1))).toThrow(RangeError);
  });
});
