// Runs suites with a profile and writes one results document. The shell around
// the suites: capabilities, provenance, run id and prefix, progress, atomic output.
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { probeCapabilities } from '../host/capabilities.js';
import { gitSha, hostProvenance } from '../host/provenance.js';
import { interruptedBy, onCleanup, runCleanup } from '../host/cleanup.js';
import { writeFileAtomic, writeResults } from '../results/write.js';
import { SCHEMA_VERSION } from '../results/types.js';
import type { Measurement, RunResults } from '../results/types.js';
import { renderSummaryMarkdown } from '../report/markdown.js';
import { writeReport } from '../report/index.js';
import { claimPrefix } from '../host/owner.js';
import type { Progress } from './progress.js';
import { sweepLeftovers } from './sweep.js';
import type { Profile, Suite, SuiteContext } from './types.js';

export interface RunOptions {
  profile: Profile;
  suites: Suite[];
  seed: number;
  outDir: string;
  dataDir?: string;
  /** Where the run shows how far it is (progressFor). */
  progress: Progress;
  command: string[];
  repoRoot: string;
}

export interface RunOutcome {
  results: RunResults;
  resultsPath: string;
  summaryPath: string;
}

/** Run ids sort by time and stay unique across concurrent runs: 20261202-101500-3fa2c1. */
export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(3).toString('hex')}`;
}

export async function runBench(opts: RunOptions): Promise<RunOutcome> {
  const runId = newRunId();
  const runDir = resolve(opts.outDir, runId);
  const dataDir = resolve(opts.dataDir ?? opts.outDir);
  mkdirSync(runDir, { recursive: true });
  // An interrupted run leaves no run directory: a results file is complete or absent, never partial.
  onCleanup(`run directory ${runDir}`, () => {
    if (interruptedBy()) rmSync(runDir, { recursive: true, force: true });
  });
  mkdirSync(dataDir, { recursive: true });
  const { progress } = opts;
  const startedAt = new Date().toISOString();
  const prefix = `kscale-${runId.slice(-6)}`;
  const releasePrefix = claimPrefix(prefix);
  const swept = await sweepLeftovers();
  // Say so: a leftover means an earlier run was killed before it could clean up.
  for (const line of swept.removed) process.stderr.write(`kscale: removed leftover of an earlier run: ${line}\n`);
  for (const line of swept.errors) process.stderr.write(`kscale: could not sweep leftovers: ${line}\n`);
  const caps = await probeCapabilities();
  const [host, sha] = await Promise.all([hostProvenance(dataDir, caps), gitSha(opts.repoRoot)]);
  const measurements: Measurement[] = [];
  const ctx: SuiteContext = {
    profile: opts.profile,
    caps,
    runId,
    prefix,
    seed: opts.seed,
    runDir,
    dataDir,
    progress,
    record(m) {
      measurements.push(m);
      if (m.status !== 'ok') progress.note(`${m.suite}/${m.name} ${m.status}: ${m.reason ?? ''}`);
    },
  };
  progress.plan(opts.suites.reduce((n, s) => n + s.steps(opts.profile), 0));
  try {
    for (const suite of opts.suites) {
      try {
        await suite.run(ctx);
      } catch (err) {
        // A suite that throws is a failed measurement, not a failed run: the others still run.
        ctx.record({ suite: suite.name, name: 'suite', unit: 'none', params: {}, status: 'failed', reason: (err as Error).message });
      }
    }
  } finally {
    progress.done();
    await runCleanup();
    releasePrefix();
  }
  const results: RunResults = {
    schemaVersion: SCHEMA_VERSION,
    runId,
    seed: opts.seed,
    command: opts.command,
    gitSha: sha,
    profile: opts.profile.name,
    suites: opts.suites.map((s) => s.name),
    startedAt,
    endedAt: new Date().toISOString(),
    host,
    capabilities: Object.values(caps),
    measurements,
  };
  const resultsPath = join(runDir, 'results.json');
  const summaryPath = join(runDir, 'summary.md');
  try {
    writeResults(resultsPath, results);
  } catch (err) {
    rmSync(runDir, { recursive: true, force: true }); // no partial run directory either
    throw new Error(`results not written to ${resultsPath}: ${(err as Error).message}`);
  }
  try {
    writeFileAtomic(summaryPath, renderSummaryMarkdown(results));
  } catch (err) {
    // results.json is complete and valid: keep the measurements, but the run did not finish writing, so it fails.
    throw new Error(`results written to ${resultsPath}, but the summary not to ${summaryPath}: ${(err as Error).message}`);
  }
  pointLatestAt(opts.outDir, runId);
  // The report is derived from results.json; failing to draw it never loses the measurements.
  await writeReport(runDir).catch((err: Error) => process.stderr.write(`kscale: report not written: ${err.message}\n`));
  return { results, resultsPath, summaryPath };
}

/** results/runs/latest → the newest run, replaced atomically. */
function pointLatestAt(outDir: string, runId: string): void {
  const tmp = join(outDir, `.latest.${process.pid}`);
  try {
    rmSync(tmp, { force: true });
    symlinkSync(runId, tmp);
    writeFileSync(join(outDir, 'LATEST'), runId + '\n');
    renameSync(tmp, join(outDir, 'latest')); // rename over an existing symlink is atomic
  } catch {
    /* best effort: LATEST still names the run */
  }
}
