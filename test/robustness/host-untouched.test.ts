// The host is never touched (root): its rules in both iptables backends and
// nftables, its links, routes, BPF programs and maps, network namespaces and
// mounts are identical before and after a whole `smoke` run of every suite.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = process.getuid?.() === 0;
const out = (cmd: string, ...args: string[]): string => spawnSync(cmd, args, { encoding: 'utf8' }).stdout;

function hostState(): Record<string, string> {
  return {
    'iptables-nft-save': out('iptables-nft-save').replace(/\[\d+:\d+\]/g, '').replace(/^#.*$/gm, ''),
    'iptables-legacy-save': out('iptables-legacy-save').replace(/\[\d+:\d+\]/g, '').replace(/^#.*$/gm, ''),
    'nft list ruleset': out('nft', 'list', 'ruleset'),
    'ip link': out('ip', '-o', 'link').replace(/\s+link\/.*$/gm, ''),
    'ip route': out('ip', 'route'),
    'bpftool prog': out('bpftool', 'prog', 'list', '--json'),
    'bpftool map': out('bpftool', 'map', 'list', '--json'),
    'ip netns': out('ip', 'netns', 'list'),
    mounts: readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes('kscale')).join('\n'),
  };
}

describe.skipIf(!root)('host untouched by a full smoke run (root)', () => {
  it('every suite runs and the host looks exactly as before', () => {
    const before = hostState();
    const dir = mkdtempSync(join(tmpdir(), 'kscale-host-'));
    const r = spawnSync(process.execPath, ['bin/kscale.js', 'bench', '--profile', 'smoke', '--out', dir, '--json'], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const after = hostState();
    for (const k of Object.keys(before)) expect(after[k], k).toBe(before[k]);
    // And no process of the run is left (etcd, tools).
    expect(out('pgrep', '-f', dir)).toBe('');
  }, 300_000);
});
