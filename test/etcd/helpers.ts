import { readdirSync, readFileSync } from 'node:fs';

/** Pids of etcd processes whose command line carries the prefix (what a leak check looks for). */
export function etcdProcessesOf(prefix: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('etcd') && argv.some((a) => a.includes(prefix))) pids.push(pid);
    } catch {
      /* gone */
    }
  }
  return pids;
}
