// Two runs at once on one host (root): separate prefixes, neither sweeps the
// other's live sandbox, both finish with their own measurements.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { listNetns } from '../../src/dataplane/sandbox.js';

const root = process.getuid?.() === 0;

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/kscale.js', 'dataplane', 'sync', '--backends', 'nftables,iptables-nft', '--services', '50,200', '--endpoints', '3', '--repeats', '2', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe.skipIf(!root)('concurrent runs (root)', () => {
  it('do not collide', async () => {
    const before = new Set(listNetns());
    const [a, b] = await Promise.all([run(), run()]);
    for (const r of [a, b]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/removed leftover/);
    }
    const pa = JSON.parse(a.stdout) as { prefix: string; measurements: { status: string }[] };
    const pb = JSON.parse(b.stdout) as { prefix: string; measurements: { status: string }[] };
    expect(pa.prefix).not.toBe(pb.prefix);
    for (const p of [pa, pb]) expect(p.measurements.every((m) => m.status === 'ok')).toBe(true);
    expect(listNetns().filter((n) => !before.has(n))).toEqual([]);
  }, 120_000);
});
