// Interrupted runs (root): SIGINT/SIGTERM during a long sync → the process exits
// within 5 s and nothing of its sandbox or its tools remains; SIGKILL → the next
// run sweeps the leftovers and says so.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { listNetns } from '../../src/dataplane/sandbox.js';
import { OWNER_DIR, prefixOf } from '../../src/host/owner.js';

const root = process.getuid?.() === 0;

function startLongSync(): ChildProcess {
  // 1,000 Services × 10 endpoints keeps iptables-nft-restore busy for seconds.
  return spawn(process.execPath, ['bin/kscale.js', 'dataplane', 'sync', '--backends', 'iptables-nft', '--services', '1000', '--endpoints', '10', '--repeats', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Wait until the run's sandbox exists; returns its namespaces. */
async function sandboxOf(before: Set<string>, timeoutMs = 20_000): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const fresh = listNetns().filter((n) => n.startsWith('kscale-') && !before.has(n));
    if (fresh.length >= 3) return fresh;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the run never created its sandbox');
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** Pids of the tools the run has started (its direct children: `ip netns exec` execs the tool in place). */
const toolsOf = (pid: number): number[] => spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
/** The run's tools once it has some, polled for up to timeoutMs ([] if it never starts one). */
async function toolsRunning(pid: number, timeoutMs = 15_000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const tools = toolsOf(pid);
    if (tools.length > 0 || Date.now() > until) return tools;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Owner files that name this pid (a claim the run never let go of). */
function ownerFilesOf(pid: number): string[] {
  if (!existsSync(OWNER_DIR)) return [];
  return readdirSync(OWNER_DIR).filter((f) => f.endsWith('.owner')).filter((f) => {
    try {
      return readFileSync(join(OWNER_DIR, f), 'utf8').split(' ')[0] === String(pid);
    } catch {
      return false;
    }
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!root)('interruptions (root)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s during a sync: exit within 5 s, sandbox and tools gone', async (signal) => {
    const before = new Set(listNetns());
    const child = startLongSync();
    const exited = exitOf(child);
    const mine = await sandboxOf(before);
    // Into a restore: a tool of the run's is running (polled: a loaded machine takes longer to get there).
    const tools = await toolsRunning(child.pid ?? 0);
    expect(tools.length).toBeGreaterThan(0);
    const sentAt = Date.now();
    child.kill(signal);
    const { code, stderr } = await exited;
    expect(Date.now() - sentAt).toBeLessThan(5000);
    expect(code).toBe(signal === 'SIGINT' ? 130 : 143);
    expect(stderr).toMatch(new RegExp(`${signal} received, cleaning up`));
    const left = new Set(listNetns());
    expect(mine.filter((n) => left.has(n))).toEqual([]);
    expect(tools.filter(alive)).toEqual([]);
    // The run's claim on its prefix goes too (it was left behind by every signal once).
    expect(existsSync(join(OWNER_DIR, `${prefixOf(mine[0] ?? '')}.owner`))).toBe(false);
  }, 40_000);

  it('SIGINT in the first moments of a connect run (probe, sandboxes going up, first rounds): nothing of the run is left', async () => {
    // Early signals once left the base sandbox half deleted: the code's own destroy and the cleanup overlapped.
    for (const delayMs of [150, 600, 1500, 3000]) {
      const before = new Set(listNetns());
      const child = spawn(process.execPath, ['bin/kscale.js', 'dataplane', 'connect', '--backends', 'nftables,ebpf', '--services', '100,1000', '--position', 'first,last', '--rounds', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = exitOf(child);
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGINT');
      const { code, stderr } = await exited;
      expect(code, `${delayMs} ms: ${stderr}`).toBe(130);
      const left = listNetns().filter((n) => n.startsWith('kscale-') && !before.has(n));
      expect(left, `${delayMs} ms`).toEqual([]);
      expect(ownerFilesOf(child.pid ?? 0), `${delayMs} ms`).toEqual([]);
    }
  }, 90_000);

  it('SIGINT while the capability probe has its throwaway namespace: it goes, with its owner file', async () => {
    const child = spawn(process.execPath, ['bin/kscale.js', 'dataplane', 'connect', '--backends', 'nftables', '--services', '10', '--rounds', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = exitOf(child);
    const until = Date.now() + 20_000;
    let probe: string | undefined;
    while (probe === undefined && Date.now() < until) {
      probe = listNetns().find((n) => n.startsWith('kscale-doctor-'));
      if (probe === undefined) await new Promise((r) => setTimeout(r, 2));
    }
    expect(probe).toBeDefined();
    child.kill('SIGINT');
    const { code } = await exited;
    expect(code).toBe(130);
    expect(listNetns()).not.toContain(probe);
    expect(ownerFilesOf(child.pid ?? 0)).toEqual([]);
  }, 40_000);

  it('SIGKILL leaves the sandbox; the next run removes it and says so', async () => {
    const before = new Set(listNetns());
    const child = startLongSync();
    const exited = exitOf(child);
    const mine = await sandboxOf(before);
    await new Promise((r) => setTimeout(r, 500));
    const tools = toolsOf(child.pid ?? 0);
    child.kill('SIGKILL');
    await exited;
    // SIGKILL gives the run no chance to stop its tools; stop them so they do not outlive the test.
    for (const pid of tools) if (alive(pid)) process.kill(pid, 'SIGKILL');
    expect(mine.every((n) => listNetns().includes(n))).toBe(true);
    const next = spawnSync(process.execPath, ['bin/kscale.js', 'dataplane', 'sync', '--backends', 'nftables', '--services', '5', '--endpoints', '1', '--repeats', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(next.status, next.stderr).toBe(0);
    for (const n of mine) expect(next.stderr).toContain(`removed leftover of an earlier run: netns ${n}`);
    expect(mine.filter((n) => listNetns().includes(n))).toEqual([]);
  }, 60_000);

  it('SIGINT during `bench` leaves no run directory and no results file', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kscale-int-'));
    const before = new Set(listNetns());
    const child = spawn(process.execPath, ['bin/kscale.js', 'bench', '--profile', 'quick', '--suites', 'sync', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = exitOf(child);
    await sandboxOf(before);
    child.kill('SIGINT');
    const { code } = await exited;
    expect(code).toBe(130);
    const runs = readdirSync(out).filter((f) => !f.startsWith('.'));
    expect(runs).toEqual([]);
    expect(existsSync(join(out, 'latest'))).toBe(false);
  }, 60_000);
});

describe('interrupting the scheduler', () => {
  it.each(['0', '2'])('SIGINT during `kscale schedule --workers %s` exits within 5 s', async (workers) => {
    const child = spawn(process.execPath, ['bin/kscale.js', 'schedule', '--nodes', '5000', '--pods', '150000', '--workload', 'mixed', '--workers', workers], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = exitOf(child);
    await new Promise((r) => setTimeout(r, 3000)); // into the scheduling loop
    const sentAt = Date.now();
    child.kill('SIGINT');
    const { code, signal } = await exited;
    expect(Date.now() - sentAt).toBeLessThan(5000);
    // Nothing to undo in a scheduling run: the default SIGINT death is as good as a cleanup exit.
    expect([130, 'SIGINT']).toContain(code ?? signal);
  }, 60_000);

  it('SIGINT during the scheduler suite of `bench` (cleanup handlers installed) exits within 5 s', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kscale-int-'));
    const child = spawn(process.execPath, ['bin/kscale.js', 'bench', '--profile', 'full', '--suites', 'scheduler', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = exitOf(child);
    await new Promise((r) => setTimeout(r, 6000)); // past set-up, into scheduling
    const sentAt = Date.now();
    child.kill('SIGINT');
    const { code } = await exited;
    expect(Date.now() - sentAt).toBeLessThan(5000);
    expect(code).toBe(130);
    expect(readdirSync(out).filter((f) => !f.startsWith('.'))).toEqual([]);
  }, 60_000);
});
