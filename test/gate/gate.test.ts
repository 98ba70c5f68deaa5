import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Measurement, RunResults } from '../../src/results/types.js';
import { mulberry32, summarize } from '../../src/stats/summary.js';
import { bootstrapMedianRatioCI, mannWhitney } from '../../src/gate/stats.js';
import { compareRuns, measurementKey } from '../../src/gate/compare.js';
import { formatGate, githubBenchmarkJson } from '../../src/gate/format.js';
import { gateCommand, parseThreshold } from '../../src/commands/gate.js';
import { schemaErrors } from '../../src/results/write.js';
import { InputError } from '../../src/errors.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'results', 'full.json');
const load = (): RunResults => JSON.parse(readFileSync(FIXTURE, 'utf8')) as RunResults;

/** The same run again: every measurement's samples resampled with replacement, plus ±3% multiplicative jitter. */
function rerun(r: RunResults, seed: number): RunResults {
  const rand = mulberry32(seed);
  return {
    ...r,
    runId: `${r.runId.slice(0, -6)}bbbbbb`,
    measurements: r.measurements.map((m) => {
      if (!m.samples?.length) return m;
      const s = m.samples;
      const samples = s.map(() => (s[Math.floor(rand() * s.length)] as number) * (0.97 + 0.06 * rand()));
      return { ...m, samples, summary: summarize(samples) };
    }),
  };
}

function slowDown(r: RunResults, match: (m: Measurement) => boolean, factor: number): RunResults {
  return {
    ...r,
    measurements: r.measurements.map((m) => {
      if (!match(m) || !m.samples) return m;
      const samples = m.samples.map((x) => x * factor);
      return { ...m, samples, summary: summarize(samples) };
    }),
  };
}

const newConn = (m: Measurement): boolean =>
  m.suite === 'datapath' && m.name === 'new-connection' && m.params.backend === 'nftables' && m.params.services === 1000 && m.params.position === 'last' && m.params.proto === 'tcp';

describe('Mann–Whitney U', () => {
  it('gives the exact tail for small samples without ties', () => {
    // Three against three, completely separated: 1 of C(6,3) = 20 orderings.
    const r = mannWhitney([1, 2, 3], [4, 5, 6]);
    expect(r.method).toBe('exact');
    expect(r.u).toBe(9);
    expect(r.pGreater).toBeCloseTo(1 / 20, 12);
    expect(r.pLess).toBe(1);
  });
  it('agrees with the exact distribution in the normal approximation for larger samples', () => {
    const rand = mulberry32(3);
    const x = Array.from({ length: 40 }, () => rand());
    const y = Array.from({ length: 40 }, () => rand() + 0.15);
    const exact = mannWhitney(x, y);
    const withTies = mannWhitney([...x, x[0]!], [...y, x[0]!]);
    expect(exact.method).toBe('exact');
    expect(withTies.method).toBe('normal');
    expect(withTies.pGreater).toBeGreaterThan(exact.pGreater / 3);
    expect(withTies.pGreater).toBeLessThan(exact.pGreater * 3);
  });
  it('bootstraps the ratio of medians around the true ratio', () => {
    const rand = mulberry32(5);
    const x = Array.from({ length: 200 }, () => 10 + rand());
    const ci = bootstrapMedianRatioCI(x, x.map((v) => v * 2));
    expect(ci.low).toBeLessThanOrEqual(2.0001);
    expect(ci.high).toBeGreaterThanOrEqual(1.9999);
  });
});

describe('compareRuns', () => {
  const baseline = load();

  it('passes a rerun that differs only by resampled noise', () => {
    for (const seed of [11, 12, 13]) {
      const g = compareRuns(baseline, rerun(baseline, seed));
      expect(g.counts.regressed, formatGate(g)).toBe(0);
      expect(g.counts.compared).toBeGreaterThan(150);
    }
  });
  it('catches an injected 30% slowdown of one measurement, and only that one', () => {
    const g = compareRuns(baseline, slowDown(rerun(baseline, 11), newConn, 1.3));
    expect(g.compared.filter((c) => c.verdict === 'regressed').map((c) => c.key)).toEqual([
      'datapath/new-connection{backend=nftables,endpoints=10,position=last,proto=tcp,services=1000}',
    ]);
  });
  it('catches a 2× slowdown of the WAL fdatasync probe', () => {
    const fsync = (m: Measurement): boolean => m.suite === 'fsync' && m.params.tool === 'native';
    const g = compareRuns(baseline, slowDown(baseline, fsync, 2));
    const c = g.compared.find((x) => x.key.startsWith('fsync/wal-fdatasync{') && x.key.includes('tool=native'))!;
    expect(c.verdict).toBe('regressed');
    expect(c.worse).toBeCloseTo(1, 6);
    expect(c.p).toBeLessThan(1e-4);
  });
  it('calls a slowdown that 3 samples cannot prove inconclusive, not a regression', () => {
    const sync = (m: Measurement): boolean => m.suite === 'sync' && m.name === 'full-load' && m.params.backend === 'nftables';
    const g = compareRuns(baseline, slowDown(baseline, sync, 2));
    const rows = g.compared.filter((c) => c.key.startsWith('sync/full-load{backend=nftables'));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((c) => c.verdict === 'inconclusive' && c.note.includes('cannot reach'))).toBe(true);
    expect(g.counts.regressed).toBe(0);
  });
  it('does not count a uniformly slower machine as a regression when a calibration measurement shows it', () => {
    const cal = (samples: number[]): Measurement => ({ suite: 'calibration', name: 'cpu-loop', unit: 'ms', params: {}, status: 'ok', samples, summary: summarize(samples) });
    const rand = mulberry32(9);
    const calSamples = Array.from({ length: 30 }, () => 50 * (0.98 + 0.04 * rand()));
    const base = { ...baseline, measurements: [...baseline.measurements, cal(calSamples)] };
    const slower = slowDown(rerun(base, 12), () => true, 1.5);
    expect(compareRuns(base, slower, { calibrate: false }).counts.regressed).toBeGreaterThan(10);
    const g = compareRuns(base, slower);
    expect(g.calibration?.factor).toBeGreaterThan(1.4);
    expect(g.counts.regressed, formatGate(g)).toBe(0);
  });
  it('reports missing and new measurements without failing', () => {
    const current = rerun(baseline, 11);
    const dropped = current.measurements.filter((m) => m.suite === 'scheduler');
    current.measurements = current.measurements.filter((m) => m.suite !== 'scheduler');
    current.measurements.push({ suite: 'sync', name: 'full-load', unit: 'ms', params: { backend: 'ipvs', services: 50, endpoints: 1 }, status: 'skipped', reason: 'ip_vs missing' });
    const g = compareRuns(baseline, current);
    expect(g.counts.regressed).toBe(0);
    for (const m of dropped) expect(g.notCompared).toContainEqual({ key: measurementKey(m), why: 'missing in current run' });
    expect(g.notCompared.some((n) => n.why.startsWith('new in current run'))).toBe(true);
    expect(g.notCompared.some((n) => n.why.startsWith('skipped in baseline'))).toBe(true);
  });
  it('emits github-action-benchmark customSmallerIsBetter entries for lower-is-better measurements', () => {
    const entries = githubBenchmarkJson(compareRuns(baseline, rerun(baseline, 11)));
    expect(entries.length).toBeGreaterThan(100);
    expect(entries.every((e) => typeof e.name === 'string' && typeof e.unit === 'string' && Number.isFinite(e.value))).toBe(true);
    expect(entries.some((e) => e.unit === 'pods/s')).toBe(false);
  });
});

describe('kscale gate', () => {
  let out = '';
  afterEach(() => vi.restoreAllMocks());
  const capture = (): void => {
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  };
  const files = (current: RunResults): { baseline: string; run: string } => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-gate-'));
    writeFileSync(join(dir, 'baseline.json'), JSON.stringify(load()));
    expect(schemaErrors(current)).toEqual([]);
    writeFileSync(join(dir, 'results.json'), JSON.stringify(current));
    return { baseline: join(dir, 'baseline.json'), run: dir };
  };

  it('exits 1 with the regressed measurement in the table, and 0 for a rerun', async () => {
    capture();
    const bad = files(slowDown(rerun(load(), 11), newConn, 1.3));
    expect(await gateCommand.run({ baseline: bad.baseline, run: bad.run, threshold: '10%' }, [])).toBe(1);
    expect(out).toMatch(/^regressed\s+datapath\/new-connection\{backend=nftables,.*position=last,proto=tcp,services=1000\}/m);
    capture();
    const good = files(rerun(load(), 11));
    const dir = mkdtempSync(join(tmpdir(), 'kscale-gate-bench-'));
    expect(await gateCommand.run({ baseline: good.baseline, run: good.run, json: true, 'benchmark-json': join(dir, 'b.json') }, [])).toBe(0);
    const json = JSON.parse(out) as { counts: { regressed: number; compared: number } };
    expect(json.counts.regressed).toBe(0);
    expect((JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as unknown[]).length).toBeGreaterThan(100);
  });
  it('rejects a missing baseline flag and a bad threshold as input errors', async () => {
    await expect(gateCommand.run({}, [])).rejects.toThrow(InputError);
    expect(() => parseThreshold('ten')).toThrow(/--threshold/);
    expect(parseThreshold('10%')).toBe(0.1);
    expect(parseThreshold('0.25')).toBe(0.25);
    // From 1 up a bare number is a percentage: "1" is 1%, never 100%.
    expect(parseThreshold('1')).toBe(0.01);
    expect(parseThreshold('1.5')).toBe(0.015);
    expect(parseThreshold('0.999')).toBe(0.999);
    expect(() => parseThreshold('abc', 'ratio-threshold')).toThrow(/^--ratio-threshold: "abc"/);
  });
  it('checks every flag before writing --benchmark-json, and creates no directory for it', async () => {
    capture();
    const good = files(rerun(load(), 11));
    const dir = mkdtempSync(join(tmpdir(), 'kscale-gate-order-'));
    const file = join(dir, 'b.json');
    await expect(gateCommand.run({ baseline: good.baseline, run: good.run, enforce: 'bogus', 'benchmark-json': file }, [])).rejects.toThrow(/--enforce/);
    expect(existsSync(file)).toBe(false);
    const nested = join(dir, 'no', 'such', 'b.json');
    await expect(gateCommand.run({ baseline: good.baseline, run: good.run, 'benchmark-json': nested }, [])).rejects.toThrow(/--benchmark-json: directory .* does not exist/);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });
});
