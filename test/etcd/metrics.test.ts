// etcd's /metrics reduced to the run's histograms — pure, from a /metrics text
// recorded from etcd 3.4.23 (20 puts of 2.5 KB after start).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { histogramDelta, histogramQuantile, parseEtcdMetrics, toResultsHistogramMs } from '../../src/etcd/metrics.js';
import type { PromHistogram } from '../../src/etcd/metrics.js';

const recorded = readFileSync(join(import.meta.dirname, 'fixtures', 'metrics-etcd-3.4.23.txt'), 'utf8');

describe('parseEtcdMetrics', () => {
  it('reads the WAL fsync and backend commit histograms and the db size from real etcd output', () => {
    const m = parseEtcdMetrics(recorded);
    expect(m.walFsync?.count).toBe(26);
    expect(m.walFsync?.sum).toBeCloseTo(0.178821784, 9);
    expect(m.walFsync?.le).toHaveLength(15);
    expect(m.walFsync?.le[0]).toBe(0.001);
    expect(m.walFsync?.le[14]).toBe(Number.POSITIVE_INFINITY);
    expect(m.walFsync?.cumulative.slice(0, 5)).toEqual([23, 23, 24, 24, 25]);
    expect(m.backendCommit?.count).toBe(12);
    expect(m.backendCommit?.cumulative[0]).toBe(2);
    expect(m.dbTotalBytes).toBe(102_400);
    expect(m.dbInUseBytes).toBe(98_304);
  });

  it('does not take the debugging rebalance/spill histograms for the commit one', () => {
    // etcd_debugging_disk_backend_commit_rebalance_… has sum 0; the real commit histogram does not.
    expect(parseEtcdMetrics(recorded).backendCommit?.sum).toBeGreaterThan(0.04);
  });

  it('falls back to the pre-3.4 db size gauge, and leaves out what is absent', () => {
    const m = parseEtcdMetrics('# TYPE x gauge\netcd_debugging_mvcc_db_total_size_in_bytes 4096\n');
    expect(m).toEqual({ dbTotalBytes: 4096 });
  });
});

const h = (cumulative: number[], sum: number): PromHistogram => ({ le: [0.001, 0.002, 0.004, Number.POSITIVE_INFINITY], cumulative, sum, count: cumulative[cumulative.length - 1] ?? 0 });

describe('histogram arithmetic', () => {
  it('the delta of two scrapes is what happened in between', () => {
    const d = histogramDelta(h([1, 2, 3, 3], 0.004), h([5, 9, 10, 11], 0.03));
    expect(d.cumulative).toEqual([4, 7, 7, 8]);
    expect(d.count).toBe(8);
    expect(d.sum).toBeCloseTo(0.026, 12);
  });

  it('refuses counters that went backwards (etcd restarted) or changed buckets', () => {
    expect(() => histogramDelta(h([5, 9, 10, 11], 1), h([1, 2, 3, 3], 1))).toThrow(/backwards/);
    expect(() => histogramDelta(h([1, 1, 1, 1], 0), { ...h([1, 1, 1, 1], 0), le: [1, 2, 3, Number.POSITIVE_INFINITY] })).toThrow(/buckets changed/);
  });

  it('estimates quantiles the way histogram_quantile does', () => {
    const d = h([4, 8, 8, 8], 0.01);
    expect(histogramQuantile(d, 0.5)).toBeCloseTo(0.001, 12); // rank 4: top of the first bucket
    expect(histogramQuantile(d, 0.75)).toBeCloseTo(0.0015, 12); // rank 6: halfway through (0.001, 0.002]
    expect(histogramQuantile(h([0, 0, 0, 0], 0), 0.5)).toBeNaN();
    // A rank in +Inf answers the highest finite bound, as Prometheus does.
    expect(histogramQuantile(h([0, 0, 1, 10], 1), 0.99)).toBe(0.004);
  });

  it('converts to per-bucket counts in ms with the +Inf bucket as overflow', () => {
    const { histogram, overflow } = toResultsHistogramMs(h([4, 8, 9, 12], 0.1));
    expect(histogram.buckets).toEqual([{ le: 1, count: 4 }, { le: 2, count: 4 }, { le: 4, count: 1 }]);
    expect(overflow).toBe(3);
    expect(JSON.parse(JSON.stringify(histogram))).toEqual(histogram);
  });
});
