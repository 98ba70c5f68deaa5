// `kscale snapshot --kubeconfig F [--context C] [--out DIR]`: read-only capture of a live cluster.
import { resolve } from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { str } from './options.js';
import type { Command } from '../cli.js';

export const snapshotCommand: Command = {
  summary: 'capture Services, EndpointSlices, Nodes and Pods of a live cluster (read-only) as replayable manifests',
  usage: 'kscale snapshot --kubeconfig FILE (default: the first file in $KUBECONFIG) [--context NAME] [--out DIR] [--json]',
  options: { kubeconfig: { type: 'string' }, context: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
  async run(values) {
    const kubeconfig = str(values.kubeconfig) ?? process.env.KUBECONFIG?.split(':')[0];
    if (!kubeconfig) throw new InputError('--kubeconfig', 'is required (or set KUBECONFIG)');
    // Loaded on use: the Kubernetes client is a large module graph every other command can do without.
    const { clusterLists, takeSnapshot } = await import('../snapshot/capture.js');
    const { server, context, lists } = clusterLists(kubeconfig, str(values.context));
    const outDir = resolve(str(values.out) ?? `snapshot-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
    const s = await takeSnapshot(lists, outDir, { server, context });
    if (values.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    else {
      process.stdout.write(`snapshot of ${s.server} (context ${s.context}) in ${s.outDir}\n`);
      for (const [kind, n] of Object.entries(s.counts)) process.stdout.write(`  ${String(n).padStart(7)} ${kind}s\n`);
      process.stdout.write(`plan with it: kscale plan --cluster-profile profile.yaml --snapshot ${s.outDir}\n`);
    }
    return EXIT.ok;
  },
};
