// `kscale bench` (what `npm run bench` runs): suites × profile → results.json + summary.md.
import { join } from 'node:path';
import { InputError, EXIT } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { progressFor } from '../bench/progress.js';
import { runBench } from '../bench/runner.js';
import { PROFILES, isProfileName } from '../../bench/profiles.js';
import { SUITES } from '../../bench/suites/index.js';
import { checkOutputDir, parseList, parseSize, str } from './options.js';
import type { Command } from '../cli.js';
import type { Measurement } from '../results/types.js';

/**
 * The run's skips, one line per measurement and reason: a backend this host
 * cannot run is skipped at every size and position, and says so once, with
 * how many points and the first of them.
 */
export function skipLines(measurements: readonly Pick<Measurement, 'suite' | 'name' | 'params' | 'status' | 'reason'>[]): string[] {
  const groups = new Map<string, { what: string; reason: string; first: string; count: number }>();
  for (const m of measurements) {
    if (m.status !== 'skipped') continue;
    const what = `${m.suite}/${m.name}`;
    const reason = m.reason ?? '';
    const key = JSON.stringify([what, reason]);
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { what, reason, first: Object.values(m.params).join(' '), count: 1 });
    else g.count++;
  }
  return [...groups.values()].map((g) => {
    const points = g.count === 1 ? `(${g.first})` : `(${g.count} points, the first ${g.first})`;
    return `skipped ${g.what} ${points}: ${g.reason}`;
  });
}

export const benchCommand: Command = {
  summary: 'run benchmark suites with a profile (smoke | quick | full | ci) and write results',
  usage: 'kscale bench [--profile smoke|quick|full|ci] [--suites a,b] [--seed N] [--out DIR] [--data-dir DIR] [--json]',
  options: {
    profile: { type: 'string', default: 'quick' },
    suites: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'data-dir': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values) {
    const profileName = str(values.profile) ?? 'quick';
    if (!isProfileName(profileName)) throw new InputError('--profile', `unknown profile "${profileName}" (known: ${Object.keys(PROFILES).join(', ')})`);
    const profile = PROFILES[profileName];
    const suiteNames = str(values.suites) ? parseList('suites', str(values.suites) ?? '', Object.keys(SUITES)) : profile.defaultSuites;
    const suites = suiteNames.map((n) => SUITES[n]).filter((s) => s !== undefined);
    const seed = str(values.seed) ? parseSize('seed', str(values.seed) ?? '', 2 ** 31 - 1, 0) : 1;
    const outDir = checkOutputDir('out', str(values.out) ?? join(PACKAGE_ROOT, 'results', 'runs'));
    const dataDir = str(values['data-dir']) === undefined ? undefined : checkOutputDir('data-dir', str(values['data-dir']) as string);
    const json = values.json === true;
    const outcome = await runBench({
      profile,
      suites,
      seed,
      outDir,
      ...(dataDir === undefined ? {} : { dataDir }),
      progress: progressFor(json),
      command: ['kscale', 'bench', ...process.argv.slice(3)],
      repoRoot: PACKAGE_ROOT,
    });
    const counts = { ok: 0, skipped: 0, failed: 0 };
    for (const m of outcome.results.measurements) counts[m.status]++;
    if (json) {
      process.stdout.write(JSON.stringify({ runId: outcome.results.runId, resultsPath: outcome.resultsPath, summaryPath: outcome.summaryPath, counts }) + '\n');
    } else {
      for (const line of skipLines(outcome.results.measurements)) process.stderr.write(`${line}\n`);
      process.stderr.write(`${counts.ok} ok, ${counts.skipped} skipped, ${counts.failed} failed\nresults: ${outcome.resultsPath}\nsummary: ${outcome.summaryPath}\n`);
    }
    return counts.failed > 0 ? EXIT.failed : EXIT.ok;
  },
};
