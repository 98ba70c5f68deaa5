// Baseline vs current, like for like. A measurement regresses when its median is
// worse than the threshold AND the samples say so with confidence (one-sided
// Mann–Whitney p below alpha, and the bootstrap interval of the median ratio
// entirely on the worse side). Noise alone rarely passes both: a noisy median
// moves, but it does not move every rank. What cannot be compared (skipped,
// failed, absent on one side, no samples) is listed, never failed.
import type { Measurement, RunResults } from '../results/types.js';
import { median } from '../stats/summary.js';
import { paramsText } from '../report/common.js';
import { bootstrapMedianRatioCI, mannWhitney } from './stats.js';

export interface GateOptions {
  /** Smallest change that counts, as a fraction: 0.1 = 10% worse. */
  threshold: number;
  /** One-sided significance level of the Mann–Whitney test. */
  alpha: number;
  /** Scale current samples by a calibration measurement taken in both runs (see calibrationFactor). */
  calibrate: boolean;
  seed: number;
}

export const DEFAULT_GATE: GateOptions = { threshold: 0.1, alpha: 0.01, calibrate: true, seed: 1 };

export type Verdict = 'regressed' | 'improved' | 'unchanged' | 'inconclusive';

export interface Compared {
  key: string;
  suite: string;
  name: string;
  params: string;
  unit: string;
  /** Which way is better. */
  better: 'lower' | 'higher';
  baselineMedian: number;
  currentMedian: number;
  /** Fractional change in the bad direction: +0.3 = 30% worse, −0.2 = 20% better. */
  worse: number;
  /** 95% bootstrap interval of the current/baseline median ratio (after calibration); computed only when the median moved past the threshold. */
  ratioCI: { low: number; high: number } | null;
  /** One-sided p-value of "current is worse than baseline"; null when not testable. */
  p: number | null;
  nBaseline: number;
  nCurrent: number;
  verdict: Verdict;
  /** Why the verdict is what it is, in a few words. */
  note: string;
}

export interface NotCompared {
  key: string;
  /** 'missing in current' | 'new in current' | 'skipped in current' | 'no samples' … */
  why: string;
}

export interface GateResult {
  options: GateOptions;
  /** current/baseline of the calibration measurement, when one was applied. */
  calibration: { factor: number; key: string } | null;
  compared: Compared[];
  notCompared: NotCompared[];
  counts: { compared: number; regressed: number; improved: number; unchanged: number; inconclusive: number; notCompared: number };
}

/** Parameters that name the host, not the workload, are not part of identity. */
const HOST_PARAMS = new Set(['dataDir']);

export function measurementKey(m: Pick<Measurement, 'suite' | 'name' | 'params'>): string {
  const params = Object.keys(m.params).filter((k) => !HOST_PARAMS.has(k)).sort().map((k) => `${k}=${String(m.params[k])}`);
  return `${m.suite}/${m.name}{${params.join(',')}}`;
}

/** Throughputs (pods/s, ops/s) are better higher; times and sizes lower. */
export function betterDirection(unit: string): 'lower' | 'higher' {
  return /\/s$|per[ -]?s(ec(ond)?)?$/i.test(unit) ? 'higher' : 'lower';
}

function index(r: RunResults): Map<string, Measurement> {
  const out = new Map<string, Measurement>();
  for (const m of r.measurements) out.set(measurementKey(m), m);
  return out;
}

export const CALIBRATION_SUITE = 'calibration';

/**
 * A shared machine is sometimes slower as a whole. A calibration measurement
 * (suite "calibration": a fixed CPU-bound loop, taken in the same run) scales
 * the current run's times by how much slower the machine itself was, so only
 * the code's change remains.
 */
export function calibrationFactor(baseline: RunResults, current: RunResults): { factor: number; key: string } | null {
  const cur = index(current);
  for (const b of baseline.measurements) {
    if (b.suite !== CALIBRATION_SUITE || b.status !== 'ok' || !b.samples?.length) continue;
    const c = cur.get(measurementKey(b));
    if (c?.status !== 'ok' || !c.samples?.length) continue;
    const factor = median(c.samples) / median(b.samples);
    if (Number.isFinite(factor) && factor > 0) return { factor: betterDirection(b.unit) === 'lower' ? factor : 1 / factor, key: measurementKey(b) };
  }
  return null;
}

function compareSamples(key: string, b: Measurement, c: Measurement, bs: number[], cs: number[], o: GateOptions): Compared {
  const better = betterDirection(c.unit);
  const bMed = median(bs);
  const cMed = median(cs);
  const ratio = cMed / bMed;
  const worse = better === 'lower' ? ratio - 1 : 1 / ratio - 1;
  const mw = mannWhitney(bs, cs);
  const p = better === 'lower' ? mw.pGreater : mw.pLess;
  const pBetter = better === 'lower' ? mw.pLess : mw.pGreater;
  // The interval only decides when the median moved past the threshold; skip the resampling otherwise.
  const ci = Math.abs(worse) > o.threshold ? bootstrapMedianRatioCI(bs, cs, { seed: o.seed }) : null;
  // The interval of "how much worse", in the bad direction.
  const worseCI = !ci ? { low: worse, high: worse } : better === 'lower' ? { low: ci.low - 1, high: ci.high - 1 } : { low: 1 / ci.high - 1, high: 1 / ci.low - 1 };
  let verdict: Verdict = 'unchanged';
  let note = `within ${fmtPct(o.threshold)}`;
  if (worse > o.threshold) {
    if (p < o.alpha && worseCI.low > 0) { verdict = 'regressed'; note = `${fmtPct(worse)} worse, p=${fmtP(p)}`; }
    else { verdict = 'inconclusive'; note = p >= o.alpha ? `p=${fmtP(p)} ≥ ${o.alpha}${minP(bs.length, cs.length) >= o.alpha ? ` (n=${bs.length}/${cs.length} cannot reach it)` : ''}` : 'interval includes no change'; }
  } else if (-worse > o.threshold) {
    if (pBetter < o.alpha && worseCI.high < 0) { verdict = 'improved'; note = `${fmtPct(-worse)} better, p=${fmtP(pBetter)}`; }
    else { verdict = 'inconclusive'; note = `better but not significant (p=${fmtP(pBetter)})`; }
  }
  return {
    key, suite: c.suite, name: c.name, params: paramsText(c.params), unit: c.unit, better,
    baselineMedian: bMed, currentMedian: cMed, worse, ratioCI: ci ? { low: ci.low, high: ci.high } : null, p,
    nBaseline: bs.length, nCurrent: cs.length, verdict, note,
  };
}

/** The smallest one-sided p-value Mann–Whitney can give for these sizes: 1 / C(n+m, n). */
function minP(n: number, m: number): number {
  let c = 1;
  for (let i = 1; i <= Math.min(n, m); i++) c = (c * (n + m - i + 1)) / i;
  return 1 / c;
}

/** Fitted slopes (datapath cost-fit) carry their own interval; compare intervals instead of samples. */
function compareFit(key: string, b: Measurement, c: Measurement, o: GateOptions): Compared | undefined {
  const fit = (m: Measurement): { b: number; ci: [number, number] } | undefined => {
    const e = m.extra as { b?: unknown; bCI?: unknown } | undefined;
    if (typeof e?.b !== 'number' || !Array.isArray(e.bCI) || e.bCI.length !== 2 || !e.bCI.every((x) => typeof x === 'number')) return undefined;
    return { b: e.b, ci: e.bCI as [number, number] };
  };
  const fb = fit(b);
  const fc = fit(c);
  if (!fb || !fc) return undefined;
  // A slope near zero (an O(1) lookup) makes a ratio meaningless: measure the change against the baseline's interval width too.
  const scale = Math.max(Math.abs(fb.b), (fb.ci[1] - fb.ci[0]) / 2, Number.EPSILON);
  const worse = (fc.b - fb.b) / scale;
  const separated = fc.ci[0] > fb.ci[1] ? 'worse' : fc.ci[1] < fb.ci[0] ? 'better' : 'overlap';
  let verdict: Verdict = 'unchanged';
  let note = `slope within ${fmtPct(o.threshold)} or intervals overlap`;
  if (worse > o.threshold && separated === 'worse') { verdict = 'regressed'; note = `slope ${fmtPct(worse)} steeper, 95% intervals disjoint`; }
  else if (-worse > o.threshold && separated === 'better') { verdict = 'improved'; note = `slope ${fmtPct(-worse)} flatter, 95% intervals disjoint`; }
  else if (Math.abs(worse) > o.threshold) { verdict = 'inconclusive'; note = 'slope moved but the 95% intervals overlap'; }
  return {
    key, suite: c.suite, name: c.name, params: paramsText(c.params), unit: `${c.unit} per Service (slope)`, better: 'lower',
    baselineMedian: fb.b, currentMedian: fc.b, worse, ratioCI: null, p: null, nBaseline: 0, nCurrent: 0, verdict, note,
  };
}

export function compareRuns(baseline: RunResults, current: RunResults, options: Partial<GateOptions> = {}): GateResult {
  const o: GateOptions = { ...DEFAULT_GATE, ...options };
  const base = index(baseline);
  const cur = index(current);
  const calibration = o.calibrate ? calibrationFactor(baseline, current) : null;
  const compared: Compared[] = [];
  const notCompared: NotCompared[] = [];
  for (const [key, b] of base) {
    if (b.suite === CALIBRATION_SUITE) continue;
    const c = cur.get(key);
    if (!c) { notCompared.push({ key, why: 'missing in current run' }); continue; }
    if (b.status !== 'ok') { notCompared.push({ key, why: `${b.status} in baseline` }); continue; }
    if (c.status !== 'ok') { notCompared.push({ key, why: `${c.status} in current run: ${(c.reason ?? '').split('\n')[0]}` }); continue; }
    if (b.samples?.length && c.samples?.length) {
      // Only times scale with the machine's speed; counts and sizes do not.
      const scale = calibration && /^(ns|µs|us|ms|s)\b|\/s$/.test(c.unit) ? calibration.factor : 1;
      const cs = betterDirection(c.unit) === 'lower' ? c.samples.map((x) => x / scale) : c.samples.map((x) => x * scale);
      compared.push(compareSamples(key, b, c, b.samples, cs, o));
      continue;
    }
    const fit = compareFit(key, b, c, o);
    if (fit) compared.push(fit);
    else notCompared.push({ key, why: 'no raw samples on both sides (summary only): not testable' });
  }
  for (const key of cur.keys()) if (!base.has(key) && !key.startsWith(`${CALIBRATION_SUITE}/`)) notCompared.push({ key, why: 'new in current run (not in baseline)' });
  const count = (v: Verdict): number => compared.filter((x) => x.verdict === v).length;
  return {
    options: o,
    calibration,
    compared,
    notCompared,
    counts: { compared: compared.length, regressed: count('regressed'), improved: count('improved'), unchanged: count('unchanged'), inconclusive: count('inconclusive'), notCompared: notCompared.length },
  };
}

export function fmtPct(x: number): string {
  return `${(x * 100).toFixed(Math.abs(x) < 0.1 ? 1 : 0)}%`;
}

export function fmtP(p: number): string {
  return p < 1e-4 ? '<1e-4' : p.toPrecision(2);
}
