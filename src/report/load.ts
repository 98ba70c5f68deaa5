// Reading a run back: RUN_DIR (or results/runs/latest, or a results.json path)
// → a schema-checked RunResults. Shared by report, gate and plan.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { schemaErrors } from '../results/write.js';
import type { RunResults } from '../results/types.js';

export const DEFAULT_RUN_DIR = join(PACKAGE_ROOT, 'results', 'runs', 'latest');

/** The directory and results file a RUN_DIR argument stands for. */
export function resolveRun(arg: string | undefined): { runDir: string; resultsPath: string } {
  const given = resolve(arg ?? DEFAULT_RUN_DIR);
  if (!existsSync(given)) {
    throw new InputError(arg ?? 'results/runs/latest', arg ? 'no such run directory or results file' : 'no run yet: run `npm run bench` first, or name a run directory');
  }
  const real = realpathSync(given);
  if (statSync(real).isDirectory()) {
    const resultsPath = join(real, 'results.json');
    if (!existsSync(resultsPath)) throw new InputError(given, 'has no results.json (not a kscale run directory)');
    return { runDir: real, resultsPath };
  }
  return { runDir: resolve(real, '..'), resultsPath: real };
}

/** Parse and schema-check a results document; anything wrong with it is the input's fault (InputError). */
export function loadResultsFile(path: string): RunResults {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(path, `cannot read results: ${(err as Error).message.split('\n')[0]}`);
  }
  const problems = schemaErrors(doc);
  if (problems.length > 0) throw new InputError(path, `not a valid kscale results document: ${problems.slice(0, 3).join('; ')}`);
  return doc as RunResults;
}

export function loadRun(arg: string | undefined): { runDir: string; resultsPath: string; results: RunResults } {
  const where = resolveRun(arg);
  return { ...where, results: loadResultsFile(where.resultsPath) };
}
