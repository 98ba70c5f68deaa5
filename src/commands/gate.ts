// `kscale gate`: compare a run with a committed baseline; exit 1 on a real regression.
import { resolve } from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { loadResultsFile, loadRun } from '../report/load.js';
import { writeFileAtomic } from '../results/write.js';
import { compareRuns, DEFAULT_GATE } from '../gate/compare.js';
import { formatGate, githubBenchmarkJson } from '../gate/format.js';
import { formatSuiteVerdicts, suiteVerdicts } from '../gate/suites.js';
import { formatRatioVerdicts, RATIO_RULES, ratioVerdicts } from '../gate/ratios.js';
import { checkOutputFile, str } from './options.js';
import type { Command } from '../cli.js';

/**
 * "10%", "10", "0.1" → 0.1: a bare number below 1 is a fraction, from 1 up a
 * percentage ("1" is 1%, never 100%), so no value means two things.
 */
export function parseThreshold(text: string, flag = 'threshold'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%)?\s*$/.exec(text);
  const v = m ? Number(m[1]) : Number.NaN;
  const frac = m?.[2] || v >= 1 ? v / 100 : v;
  if (!Number.isFinite(frac) || frac <= 0 || frac > 10) throw new InputError(`--${flag}`, `"${text}" is not a percentage between 0% and 1000% (e.g. 10%)`);
  return frac;
}

export function parseAlpha(text: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0 || v >= 0.5) throw new InputError('--alpha', `"${text}" is not a significance level in (0, 0.5), e.g. 0.01`);
  return v;
}

const ENFORCE_LEVELS: readonly string[] = ['measurements', 'suites', 'ratios'];

export const gateCommand: Command = {
  summary: 'compare a run with a baseline; exit 1 on a statistically real regression',
  usage: 'kscale gate --baseline FILE [--run RUN_DIR] [--threshold 10%] [--alpha 0.01] [--suite-threshold 30%] [--ratio-threshold 20%] [--ratio-suites S,…] [--enforce measurements|suites|ratios[,…]] [--no-calibrate] [--benchmark-json FILE] [--json]',
  options: {
    baseline: { type: 'string' },
    run: { type: 'string' },
    current: { type: 'string' },
    threshold: { type: 'string' },
    alpha: { type: 'string' },
    'no-calibrate': { type: 'boolean' },
    'suite-threshold': { type: 'string' },
    'ratio-threshold': { type: 'string' },
    'ratio-suites': { type: 'string' },
    enforce: { type: 'string' },
    'benchmark-json': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values) {
    const baselinePath = str(values.baseline);
    if (!baselinePath) throw new InputError('--baseline', 'is required (a results.json, e.g. results/baseline/ci-2core-kvm.json)');
    if (str(values.run) && str(values.current)) throw new InputError('--current', 'give either --run or --current (they are the same option), not both');
    const baseline = loadResultsFile(resolve(baselinePath));
    const current = loadRun(str(values.run) ?? str(values.current)).results;
    const result = compareRuns(baseline, current, {
      threshold: str(values.threshold) ? parseThreshold(str(values.threshold) ?? '') : DEFAULT_GATE.threshold,
      alpha: str(values.alpha) ? parseAlpha(str(values.alpha) ?? '') : DEFAULT_GATE.alpha,
      calibrate: values['no-calibrate'] !== true,
    });
    const enforce = (str(values.enforce) ?? 'measurements').split(',').map((s) => s.trim());
    const bad = enforce.find((e) => !ENFORCE_LEVELS.includes(e));
    if (bad !== undefined) throw new InputError('--enforce', `"${bad}" is not one of ${ENFORCE_LEVELS.join(', ')}`);
    const suiteThreshold = str(values['suite-threshold']) ? parseThreshold(str(values['suite-threshold']) ?? '', 'suite-threshold') : 0.3;
    const suites = suiteVerdicts(result, suiteThreshold);
    const ratioThreshold = str(values['ratio-threshold']) ? parseThreshold(str(values['ratio-threshold']) ?? '', 'ratio-threshold') : 0.2;
    const ratios = ratioVerdicts(baseline, current, ratioThreshold);
    const ratioSuitesText = str(values['ratio-suites']);
    const ratioSuites = ratioSuitesText ? new Set(ratioSuitesText.split(',').map((s) => s.trim()).filter((s) => s !== '')) : undefined;
    const unknownSuite = [...(ratioSuites ?? [])].find((s) => !RATIO_RULES.some((r) => r.suite === s));
    if (unknownSuite !== undefined) throw new InputError('--ratio-suites', `"${unknownSuite}" defines no ratios (suites with ratios: ${[...new Set(RATIO_RULES.map((r) => r.suite))].join(', ')})`);
    // Written once every flag is known good: a run that exits 2 leaves no file behind.
    const bench = str(values['benchmark-json']);
    if (bench) writeFileAtomic(checkOutputFile('benchmark-json', bench), JSON.stringify(githubBenchmarkJson(result), null, 2) + '\n');
    process.stdout.write(values.json ? JSON.stringify({ ...result, suites, ratios, enforce }, null, 2) + '\n'
      : formatGate(result) + '\n' + formatSuiteVerdicts(suites, suiteThreshold) + '\n' + formatRatioVerdicts(ratios, ratioThreshold, ratioSuites));
    // Every level is always printed; only the enforced ones decide the exit code.
    const failed = (enforce.includes('measurements') && result.counts.regressed > 0) || (enforce.includes('suites') && suites.some((v) => v.regressed))
      || (enforce.includes('ratios') && ratios.some((v) => v.regressed && (ratioSuites?.has(v.suite) ?? true)));
    if (!values.json && !enforce.includes('measurements') && result.counts.regressed > 0) process.stdout.write(`(${result.counts.regressed} single measurements past --threshold are shown above for information; --enforce ${enforce.join(',')} gates on ${enforce.join(' and ')})\n`);
    return failed ? EXIT.failed : EXIT.ok;
  },
};
