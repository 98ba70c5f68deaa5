// The suite-level view of a gate result. Single measurements on a shared VM
// move by 20–35% between identical runs (measured: four back-to-back `ci` runs
// on the 2-core CI machine class), so a per-measurement gate either flaps or is
// too loose to mean anything. A suite's geometric mean over all its compared
// measurements averages that noise out while a real slowdown of the suite's
// code still moves it; a bootstrap over the measurements says whether the move
// is more than the spread between them.
import { mulberry32 } from '../stats/summary.js';
import type { Compared, GateResult } from './compare.js';

export interface SuiteVerdict {
  suite: string;
  /** Measurements that entered the mean. */
  n: number;
  /** Geometric mean of current/baseline in the bad direction: 1.3 = 30% worse overall. */
  geomean: number;
  /** 95% bootstrap interval of that geometric mean, resampling measurements. */
  ci: { low: number; high: number };
  regressed: boolean;
}

const RESAMPLES = 2000;

function geomean(logs: readonly number[]): number {
  return Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length);
}

/** Per suite: the geometric-mean ratio, its interval, and whether it regressed past `threshold` (0.3 = 30%). */
export function suiteVerdicts(result: GateResult, threshold: number, seed = 1): SuiteVerdict[] {
  const bySuite = new Map<string, number[]>();
  for (const c of result.compared as Compared[]) {
    const ratio = 1 + c.worse;
    if (!(ratio > 0) || !Number.isFinite(ratio)) continue;
    const list = bySuite.get(c.suite) ?? [];
    list.push(Math.log(ratio));
    bySuite.set(c.suite, list);
  }
  const rng = mulberry32(seed);
  const out: SuiteVerdict[] = [];
  for (const [suite, logs] of [...bySuite].sort(([a], [b]) => a.localeCompare(b))) {
    const means: number[] = [];
    for (let r = 0; r < RESAMPLES; r++) {
      let sum = 0;
      for (let i = 0; i < logs.length; i++) sum += logs[Math.floor(rng() * logs.length)] as number;
      means.push(Math.exp(sum / logs.length));
    }
    means.sort((a, b) => a - b);
    const ci = { low: means[Math.floor(0.025 * (RESAMPLES - 1))] as number, high: means[Math.ceil(0.975 * (RESAMPLES - 1))] as number };
    const g = geomean(logs);
    out.push({ suite, n: logs.length, geomean: g, ci, regressed: g > 1 + threshold && ci.low > 1 });
  }
  return out;
}

export function formatSuiteVerdicts(verdicts: readonly SuiteVerdict[], threshold: number): string {
  const lines = verdicts.map((v) => `${v.regressed ? 'regressed' : 'ok       '}  ${v.suite.padEnd(12)} ${((v.geomean - 1) * 100).toFixed(1).padStart(6)}% (95% CI ${((v.ci.low - 1) * 100).toFixed(1)}% … ${((v.ci.high - 1) * 100).toFixed(1)}%)  over ${v.n} measurements`);
  return [`suites (geometric mean of current/baseline, worse > 0; regression past ${(threshold * 100).toFixed(0)}% with the interval above 0):`, ...lines, ''].join('\n');
}
