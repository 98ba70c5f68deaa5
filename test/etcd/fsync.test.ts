// The fsync suite's pure parts: fio's JSON and the native-vs-fio side-by-side.
import { describe, expect, it } from 'vitest';
import { binPercentilesMs, compareProbes, fioSyncBins, fioSyncPercentilesMs, roundSizes } from '../../bench/suites/fsync.js';

// The shape fio 3.33 writes for --ioengine=sync --fdatasync=1 (trimmed to what is read).
const FIO_JSON = JSON.stringify({
  'fio version': 'fio-3.33',
  jobs: [{ jobname: 'kscale-wal', sync: { total_ios: 0, lat_ns: { min: 70355, max: 79985949, mean: 1721533.6, N: 299,
    percentile: { '50.000000': 228352, '90.000000': 3883008, '99.000000': 19529728, '99.900000': 80216064 },
    bins: { '140288': 1, '228352': 149, '3883008': 120, '19529728': 27, '79985949': 2 } } } }],
});

describe('fsync probe comparison', () => {
  it('reads fio\'s fdatasync latency percentiles in ms', () => {
    expect(fioSyncPercentilesMs(FIO_JSON)).toEqual({ p50: 0.228352, p90: 3.883008, p99: 19.529728, max: 79.985949, n: 299 });
    expect(() => fioSyncPercentilesMs('{"jobs":[{}]}')).toThrow(/no jobs\[0\]\.sync\.lat_ns/);
  });

  it('puts native and fio side by side and judges p99 against the 20% target', () => {
    const fio = { p50: 1, p99: 10, max: 20, n: 100 };
    expect(compareProbes({ p50: 1.1, p99: 11.9, max: 30, n: 100 }, fio)).toMatchObject({ p99Ratio: 1.19, p99WithinTolerance: true, nativeMaxMs: 30, fioMaxMs: 20 });
    expect(compareProbes({ p50: 1, p99: 12.5, max: 30, n: 100 }, fio).p99WithinTolerance).toBe(false);
    expect(compareProbes({ p50: 1, p99: 7.9, max: 30, n: 100 }, fio).p99WithinTolerance).toBe(false);
  });
});

describe('interleaved rounds', () => {
  it('split the writes into near-equal rounds that add up', () => {
    expect(roundSizes(10_000, 4)).toEqual([2500, 2500, 2500, 2500]);
    expect(roundSizes(10, 4)).toEqual([3, 3, 2, 2]);
    expect(roundSizes(3, 4)).toEqual([1, 1, 1]);
    expect(roundSizes(300, 1)).toEqual([300]);
  });

  it('pool fio\'s json+ bins and read percentiles off them as fio does', () => {
    const { bins, maxNs } = fioSyncBins(FIO_JSON);
    expect(maxNs).toBe(79985949);
    const one = binPercentilesMs(bins, maxNs);
    // 299 samples: the 150th is in the 228,352 ns bin, the 270th in 3,883,008, the 297th in 19,529,728.
    expect(one).toEqual({ p50: 0.228352, p90: 3.883008, p99: 19.529728, max: 79.985949, n: 299 });
    const pooled = new Map([...bins].map(([ns, c]) => [ns, c * 2]));
    pooled.set(100, 598); // a second fio run, all fast: half the pooled samples are now ~0.1 µs
    expect(binPercentilesMs(pooled, maxNs)).toMatchObject({ p50: 0.0001, n: 1196 });
    expect(() => fioSyncBins('{"jobs":[{"sync":{"lat_ns":{}}}]}')).toThrow(/json\+/);
  });
});
