import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Measurement, RunResults } from '../../src/results/types.js';
import { summarize } from '../../src/stats/summary.js';
import { ratioVerdicts } from '../../src/gate/ratios.js';
import type { RatioVerdict } from '../../src/gate/ratios.js';
import { gateCommand } from '../../src/commands/gate.js';
import { schemaErrors } from '../../src/results/write.js';

// Two real `ci` runs of the same code on the 2-core KVM machine class, back to
// back (2026-12-02, git d53b1ad), with each measurement's samples cut to five
// order statistics (p5, p25, median, p75, p95) to keep the files small: the
// median, which the ratios use, is the run's own.
const fixture = (name: string): RunResults => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8')) as RunResults;
const runA = fixture('ci-run-a.json');
const runB = fixture('ci-run-b.json');

function scaled(r: RunResults, match: (m: Measurement) => boolean, factor: number): RunResults {
  return {
    ...r,
    measurements: r.measurements.map((m) => {
      if (!match(m) || !m.samples) return m;
      const samples = m.samples.map((x) => x * factor);
      return { ...m, samples, summary: summarize(samples) };
    }),
  };
}

const datapathOf = (backend: string) => (m: Measurement): boolean => m.suite === 'datapath' && m.name === 'new-connection' && m.params.backend === backend;
const verdict = (vs: RatioVerdict[], suite: string, group: string): RatioVerdict | undefined => vs.find((v) => v.suite === suite && v.group === group);
/** The suites whose within-run ratios hold still between identical runs here (sync and render do not; measured, see src/gate/ratios.ts). */
const STABLE = new Set(['datapath', 'ebpf']);

describe('within-run ratios', () => {
  it('cancel a uniformly slower machine exactly', () => {
    const v = ratioVerdicts(runA, scaled(runA, () => true, 1.7), 0.2);
    expect(v.length).toBeGreaterThan(10);
    for (const x of v) expect(x.change).toBeCloseTo(1, 9);
  });

  it('put a slowdown of one backend in full on that backend (its peers are the other backends at the same size)', () => {
    const v = ratioVerdicts(runA, scaled(runA, datapathOf('nftables'), 1.3), 0.2);
    const nft = verdict(v, 'datapath', 'backend=nftables');
    expect(nft?.points.length).toBe(8); // 2 sizes × 4 positions
    expect(nft?.change).toBeCloseTo(1.3, 9);
    expect(nft?.regressed).toBe(true);
    // The other three backends look better by the cube root of 1.3, and none regresses.
    for (const b of ['ebpf', 'iptables-legacy', 'iptables-nft']) expect(verdict(v, 'datapath', `backend=${b}`)?.change).toBeCloseTo(1.3 ** (-1 / 3), 9);
    expect(v.filter((x) => x.regressed).map((x) => x.group)).toEqual(['backend=nftables']);
  });

  it('pairs only groups present in both runs at the same point', () => {
    const noNft: RunResults = { ...runB, measurements: runB.measurements.filter((m) => !datapathOf('nftables')(m)) };
    const v = ratioVerdicts(runA, noNft, 0.2);
    expect(verdict(v, 'datapath', 'backend=nftables')).toBeUndefined();
    expect(verdict(v, 'datapath', 'backend=ebpf')?.points.length).toBe(8);
  });

  it('passes the identical rerun on the stable suites, and catches a 30% datapath slowdown of nftables in it', () => {
    const same = ratioVerdicts(runA, runB, 0.2).filter((v) => STABLE.has(v.suite));
    expect(same.length).toBe(8); // datapath: 4 backends; ebpf prog-test-run: 4 flow kinds
    expect(same.filter((v) => v.regressed)).toEqual([]);
    const slower = ratioVerdicts(runA, scaled(runB, datapathOf('nftables'), 1.3), 0.2).filter((v) => STABLE.has(v.suite));
    expect(slower.filter((v) => v.regressed).map((v) => `${v.suite} ${v.group}`)).toEqual(['datapath backend=nftables']);
  });
});

describe('kscale gate --enforce ratios', () => {
  let out = '';
  afterEach(() => vi.restoreAllMocks());
  const capture = (): void => {
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  };
  const files = (current: RunResults): { baseline: string; run: string } => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-gate-ratios-'));
    expect(schemaErrors(current)).toEqual([]);
    writeFileSync(join(dir, 'baseline.json'), JSON.stringify(runA));
    writeFileSync(join(dir, 'results.json'), JSON.stringify(current));
    return { baseline: join(dir, 'baseline.json'), run: dir };
  };
  const opts = { enforce: 'ratios', 'ratio-suites': 'datapath,ebpf', 'ratio-threshold': '20%', 'no-calibrate': true };

  it('gate catches an injected 30% slowdown and passes an identical rerun', async () => {
    capture();
    const same = files(runB);
    expect(await gateCommand.run({ baseline: same.baseline, run: same.run, ...opts }, [])).toBe(0);
    expect(out).toMatch(/^within-run ratios/m);
    capture();
    const bad = files(scaled(runB, datapathOf('nftables'), 1.3));
    expect(await gateCommand.run({ baseline: bad.baseline, run: bad.run, ...opts }, [])).toBe(1);
    expect(out).toMatch(/^regressed\s+datapath backend=nftables\s+\+?2\d\.\d%/m);
  });

  it('prints the ratios of every suite but enforces only the ones asked for', async () => {
    capture();
    // sync's ratios move by up to ±60% between identical runs here: visible, not enforced.
    const same = files(scaled(runB, (m) => m.suite === 'sync' && m.params.backend === 'nftables', 3));
    expect(await gateCommand.run({ baseline: same.baseline, run: same.run, ...opts }, [])).toBe(0);
    expect(out).toMatch(/^regressed\s+sync backend=nftables .*\(not enforced\)/m);
  });
});
