import { describe, expect, it } from 'vitest';
import { suiteVerdicts } from '../../src/gate/suites.js';
import type { Compared, GateResult } from '../../src/gate/compare.js';
import { DEFAULT_GATE } from '../../src/gate/compare.js';
import { mulberry32 } from '../../src/stats/summary.js';

/** A gate result whose measurements moved by `worse` ± noise, for two suites. */
function result(worseBySuite: Record<string, number>, noise: number, seed: number): GateResult {
  const rng = mulberry32(seed);
  const compared: Compared[] = [];
  for (const [suite, worse] of Object.entries(worseBySuite)) {
    for (let i = 0; i < 30; i++) {
      const w = (1 + worse) * (1 + (rng() * 2 - 1) * noise) - 1;
      compared.push({ key: `${suite}/${i}`, suite, name: `m${i}`, params: '', unit: 'ms', better: 'lower', baselineMedian: 1, currentMedian: 1 + w, worse: w, ratioCI: null, p: null, nBaseline: 5, nCurrent: 5, verdict: 'unchanged', note: '' });
    }
  }
  return { options: DEFAULT_GATE, calibration: null, compared, notCompared: [], counts: { compared: compared.length, regressed: 0, improved: 0, unchanged: compared.length, inconclusive: 0, notCompared: 0 } };
}

describe('suite-level gate', () => {
  it('passes identical-code noise of ±35% per measurement', () => {
    for (let seed = 1; seed <= 20; seed++) {
      expect(suiteVerdicts(result({ sync: 0, datapath: 0 }, 0.35, seed), 0.3).some((v) => v.regressed)).toBe(false);
    }
  });
  it('catches a suite whose code got 2× slower, and only that suite', () => {
    const v = suiteVerdicts(result({ sync: 1.0, datapath: 0 }, 0.35, 7), 0.3);
    expect(v.find((x) => x.suite === 'sync')?.regressed).toBe(true);
    expect(v.find((x) => x.suite === 'datapath')?.regressed).toBe(false);
    expect(v.find((x) => x.suite === 'sync')?.geomean).toBeGreaterThan(1.8);
  });
});
