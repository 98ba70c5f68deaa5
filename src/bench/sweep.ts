// Leftovers of earlier runs that died without cleaning up (SIGKILL, a crash, a
// power cut): every kind of object a run creates has a sweep here, and each
// touches only objects whose prefix's owner process is gone (src/host/owner.ts),
// so a run going on concurrently keeps its own.
import { sweepLeftoverNetns } from '../dataplane/sandbox.js';
import { sweepOwnerFiles } from '../host/owner.js';
import { sweepLeftoverBpffs } from '../dataplane/ebpf/bpffs.js';
import { sweepLeftoverEtcd } from '../etcd/server.js';

export interface SweepReport {
  /** What was removed, one line per object ("netns kscale-3fa2c1-node"). */
  removed: string[];
  /** Sweeps that could not finish, with why. */
  errors: string[];
}

const SWEEPS: { kind: string; sweep: () => Promise<string[]> }[] = [
  { kind: 'netns', sweep: sweepLeftoverNetns },
  { kind: 'bpffs', sweep: sweepLeftoverBpffs },
  { kind: 'etcd', sweep: () => sweepLeftoverEtcd() },
];

export async function sweepLeftovers(): Promise<SweepReport> {
  const report: SweepReport = { removed: [], errors: [] };
  for (const { kind, sweep } of SWEEPS) {
    try {
      for (const name of await sweep()) report.removed.push(`${kind} ${name}`);
    } catch (err) {
      report.errors.push(`${kind}: ${(err as Error).message}`);
    }
  }
  sweepOwnerFiles();
  return report;
}
