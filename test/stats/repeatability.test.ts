import { describe, expect, it } from 'vitest';
import type { Measurement } from '../../src/results/types.js';
import { datapathPointKey, repeatability } from '../../src/stats/repeatability.js';

function point(backend: string, services: number, position: string, ratio: number | undefined, status: Measurement['status'] = 'ok'): Measurement {
  return {
    suite: 'datapath', name: 'new-connection', unit: 'µs', params: { backend, services, position, proto: 'udp', endpoints: 4 }, status,
    extra: ratio === undefined ? {} : { baselineRatio: ratio },
  };
}
const ratio = (m: Measurement): number | undefined => m.extra?.baselineRatio as number | undefined;

describe('repeatability across runs', () => {
  it('spread is (max − min) / mean per point; points over the threshold and the worst are named', () => {
    const runs = [
      [point('nftables', 100, 'last', 1.4), point('ebpf', 100, 'last', 1.1)],
      [point('ebpf', 100, 'last', 1.1), point('nftables', 100, 'last', 1.5)],
      [point('nftables', 100, 'last', 1.6), point('ebpf', 100, 'last', 1.1)],
    ];
    const r = repeatability(runs, datapathPointKey, ratio, 0.05);
    expect(r.points.map((p) => p.key)).toEqual(['nftables 100 last udp', 'ebpf 100 last udp']);
    expect(r.points[0]?.values).toEqual([1.4, 1.5, 1.6]);
    expect(r.points[0]?.spread).toBeCloseTo(0.2 / 1.5, 12);
    expect(r.points[1]?.spread).toBeCloseTo(0, 12);
    expect(r.over).toEqual(['nftables 100 last udp']);
    expect(r.worst?.key).toBe('nftables 100 last udp');
    expect(r.medianSpread).toBeCloseTo(0.2 / 3, 12);
  });

  it('a point missing, failed or without its figure in any run is incomplete, not a spread of zero', () => {
    const runs = [
      [point('nftables', 100, 'first', 1.4), point('ipvs', 100, 'first', 1.2), point('ebpf', 100, 'first', 1.1)],
      [point('nftables', 100, 'first', 1.4), point('ipvs', 100, 'first', undefined, 'skipped')],
      [point('nftables', 100, 'first', 1.4), point('ipvs', 100, 'first', 1.2), point('ebpf', 100, 'first', undefined)],
    ];
    const r = repeatability(runs, datapathPointKey, ratio, 0.05);
    expect(r.points.map((p) => p.key)).toEqual(['nftables 100 first udp']);
    expect(r.incomplete).toEqual(['ipvs 100 first udp', 'ebpf 100 first udp']);
  });

  it('only datapath new-connection measurements are points', () => {
    const m = point('nftables', 100, 'first', 1);
    expect(datapathPointKey({ ...m, name: 'generator-baseline' })).toBeNull();
    expect(datapathPointKey({ ...m, suite: 'sync' })).toBeNull();
    expect(datapathPointKey({ ...m, params: { ...m.params, batch: 8 } })).toBe('nftables 100 first udp batch 8');
  });
});
