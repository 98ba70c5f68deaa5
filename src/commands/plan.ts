// `kscale plan --cluster-profile profile.yaml [--run RUN_DIR] [--snapshot DIR]`:
// the user's cluster projected from a run's measured fits.
import { dirname, resolve } from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { loadRun } from '../report/load.js';
import { readSingleDocument } from '../model/manifests.js';
import { snapshotOf, validateProfile } from '../plan/profile.js';
import { planCluster } from '../plan/project.js';
import { formatPlan } from '../plan/format.js';
import { snapshotCounts } from '../snapshot/summary.js';
import { str } from './options.js';
import type { Command } from '../cli.js';

export const planCommand: Command = {
  summary: 'project your cluster (profile.yaml or a snapshot) from measured fits, per backend',
  usage: 'kscale plan --cluster-profile profile.yaml [--run RUN_DIR] [--snapshot DIR] [--json]',
  options: { 'cluster-profile': { type: 'string' }, run: { type: 'string' }, snapshot: { type: 'string' }, json: { type: 'boolean' } },
  async run(values) {
    const file = str(values['cluster-profile']);
    if (!file) throw new InputError('--cluster-profile', 'is required (a YAML file with nodes, pods, services, endpointsPerService, serviceChurnPerSecond, newConnectionsPerSecondPerNode, podBurst)');
    // Read as manifests are (encoding, merge keys, duplicate keys, nesting): one reader for every input file.
    const doc = await readSingleDocument(file);
    // A snapshot named in the file is relative to the file; one on the command line to the working directory.
    const inFile = snapshotOf(doc, file);
    const snapshot = str(values.snapshot) ? resolve(str(values.snapshot) ?? '') : inFile ? resolve(dirname(file), inFile) : undefined;
    const counts = snapshot ? await snapshotCounts(snapshot) : {};
    const profile = validateProfile(doc, file, counts);
    const plan = planCluster(loadRun(str(values.run)).results, profile);
    process.stdout.write(values.json ? JSON.stringify(plan, null, 2) + '\n' : formatPlan(plan));
    return EXIT.ok;
  },
};
