// How the gate's result is shown: a plain table for people, and
// github-action-benchmark's `customSmallerIsBetter` JSON for teams that chart it.
import { fmt } from '../report/common.js';
import type { Compared, GateResult } from './compare.js';
import { fmtP, fmtPct } from './compare.js';

function pad(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

const ORDER: Record<Compared['verdict'], number> = { regressed: 0, inconclusive: 1, improved: 2, unchanged: 3 };

export function formatGate(g: GateResult): string {
  const rows = [...g.compared].sort((a, b) => ORDER[a.verdict] - ORDER[b.verdict] || b.worse - a.worse);
  const table = pad([
    ['verdict', 'measurement', 'baseline', 'current', 'change', 'p', 'n', 'note'],
    ...rows.map((c) => [c.verdict, c.key, `${fmt(c.baselineMedian)} ${c.unit}`, fmt(c.currentMedian), `${c.worse >= 0 ? '+' : ''}${fmtPct(c.worse)} ${c.worse >= 0 ? 'worse' : 'better'}`,
      c.p === null ? '–' : fmtP(c.p), c.nBaseline ? `${c.nBaseline}/${c.nCurrent}` : '–', c.note]),
  ]);
  const lines = [
    `gate: threshold ${fmtPct(g.options.threshold)} worse, one-sided Mann–Whitney p < ${g.options.alpha}, 95% bootstrap interval of the median ratio past no change`,
    g.calibration ? `calibration: machine ${fmtPct(g.calibration.factor - 1)} ${g.calibration.factor >= 1 ? 'slower' : 'faster'} than the baseline's (${g.calibration.key}); current times scaled by 1/${g.calibration.factor.toFixed(3)}` : 'calibration: none (no calibration measurement in both runs)',
    '',
    ...table,
  ];
  if (g.notCompared.length > 0) lines.push('', 'not compared (reported, not failed):', ...g.notCompared.map((n) => `  ${n.key}: ${n.why}`));
  const c = g.counts;
  lines.push('', `${c.compared} compared: ${c.regressed} regressed, ${c.improved} improved, ${c.unchanged} unchanged, ${c.inconclusive} inconclusive; ${c.notCompared} not compared`);
  return lines.join('\n') + '\n';
}

/** github-action-benchmark's customSmallerIsBetter entries (lower-is-better measurements only; the tool cannot mix directions in one file). */
export interface BenchmarkEntry {
  name: string;
  unit: string;
  value: number;
  range?: string;
  extra?: string;
}

export function githubBenchmarkJson(g: GateResult): BenchmarkEntry[] {
  return g.compared.filter((c) => c.better === 'lower').map((c) => ({
    name: c.key,
    unit: c.unit,
    value: c.currentMedian,
    ...(c.ratioCI ? { range: `×${c.ratioCI.low.toFixed(3)}…×${c.ratioCI.high.toFixed(3)} vs baseline` } : {}),
    extra: `baseline ${fmt(c.baselineMedian)}; ${c.verdict}: ${c.note}`,
  }));
}
