// A bpf filesystem of the run's own, for pins: mounted at
// /run/kscale/bpffs/<prefix>[-label], never /sys/fs/bpf, so the host's pins are
// never touched. Unmounting it releases every pin in it at once; the mount
// point goes too. Mounts left by a run that died are swept by prefix ownership.
import { mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '../../host/exec.js';
import { onCleanup } from '../../host/cleanup.js';
import { OWNER_DIR, claimPrefix, prefixIsLive, prefixOf } from '../../host/owner.js';

export const BPFFS_ROOT = join(OWNER_DIR, 'bpffs');

export interface Bpffs {
  /** The mount point; pin paths go under it. */
  dir: string;
  /** Unmount and remove the mount point (idempotent). */
  release(): Promise<void>;
}

/** Mount points of bpf filesystems, from /proc/self/mounts (octal escapes decoded). */
export function bpffsMounts(mountsText: string = readFileSync('/proc/self/mounts', 'utf8')): string[] {
  return mountsText
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'bpf' && f[1] !== undefined)
    .map((f) => (f[1] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

async function unmount(dir: string): Promise<void> {
  if (bpffsMounts().includes(dir)) {
    const r = await exec('umount', [dir], { timeoutMs: 10_000 });
    if (r.code !== 0 && bpffsMounts().includes(dir)) throw new Error(`umount ${dir}: ${r.stderr.trim()}`);
  }
  try {
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // The shared parent goes too once no run uses it, so nothing of kscale's stays in /run.
  try {
    rmdirSync(BPFFS_ROOT);
  } catch {
    /* another run's mount is still in it, or it is already gone */
  }
}

/** Mount a fresh bpffs for this run (and label); unmounted on release, exit, error or signal. */
export async function mountBpffs(prefix: string, label?: string): Promise<Bpffs> {
  if (!prefixOf(prefix)) throw new Error(`not a run prefix: ${prefix}`);
  const dir = join(BPFFS_ROOT, label ? `${prefix}-${label}` : prefix);
  const releasePrefix = claimPrefix(prefix);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const undo = onCleanup(`bpffs ${dir}`, () => unmount(dir));
  if (!bpffsMounts().includes(dir)) {
    const r = await exec('mount', ['-t', 'bpf', 'bpf', dir], { timeoutMs: 10_000 });
    if (r.code !== 0) {
      await undo();
      releasePrefix();
      throw new Error(`mount -t bpf bpf ${dir}: exit ${r.code}: ${r.stderr.trim()}`);
    }
  }
  return {
    dir,
    async release() {
      await undo();
      releasePrefix();
    },
  };
}

/** Unmount and remove bpffs mount points of runs whose owner is gone; returns those removed. */
export async function sweepLeftoverBpffs(): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(BPFFS_ROOT);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const prefix = prefixOf(name);
    if (!prefix || prefixIsLive(prefix)) continue;
    await unmount(join(BPFFS_ROOT, name));
    removed.push(name);
  }
  return removed;
}

/** Remove a pin (unlink on bpffs); a pin already gone is fine. */
export function unpin(path: string): void {
  rmSync(path, { force: true });
}
