// Loads the rendered IPVS-mode program with the real tools — ip, ipset,
// iptables-restore and (when the kernel has ip_vs) ipvsadm-restore — inside a
// network namespace this test creates and always deletes. Nothing runs in the
// host namespace. Skips when not root or a tool is missing.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { renderIpvs } from '../../../src/dataplane/ipvs/index.js';
import { generateCluster } from '../../../src/model/index.js';
import { TEST_NODE, overallModel } from '../helpers.js';

const find = (name: string): string | undefined => ['/usr/sbin/', '/sbin/', '/usr/bin/'].map((d) => d + name).find((p) => existsSync(p));
const IP = find('ip');
const IPSET = find('ipset');
const IPT_RESTORE = find('iptables-restore');
const IPT_SAVE = find('iptables-save');
const IPVSADM_RESTORE = find('ipvsadm-restore');
const IPVSADM = find('ipvsadm');

function skipReason(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root to create a network namespace';
  for (const [n, p] of [['ip', IP], ['ipset', IPSET], ['iptables-restore', IPT_RESTORE], ['iptables-save', IPT_SAVE]] as const) {
    if (p === undefined) return `${n} not installed`;
  }
  return null;
}
const reason = skipReason();
if (reason !== null) console.warn(`skipping IPVS-mode kernel checks: ${reason}`);

describe.skipIf(reason !== null)('the IPVS-mode program loads with the real tools (in a private netns)', () => {
  const ns = `kscale-${randomBytes(3).toString('hex')}`;
  const ip = IP ?? 'ip';
  /** Runs a tool inside our namespace; returns exit status and stderr. */
  const run = (tool: string, args: string[], input = ''): { status: number; stdout: string; stderr: string } => {
    const r = spawnSync(ip, ['netns', 'exec', ns, tool, ...args], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(() => execFileSync(ip, ['netns', 'add', ns]));
  afterAll(() => execFileSync(ip, ['netns', 'del', ns]));

  it('really checks: ipset refuses a set of an unknown type', () => {
    expect(run(IPSET ?? 'ipset', ['restore'], 'create KUBE-BROKEN hash:nonsense\n').status).not.toBe(0);
  });

  it('kube-ipvs0 and its addresses are created when the kernel has dummy devices', (ctx) => {
    const p = renderIpvs(overallModel(), TEST_NODE);
    const r = run(ip, ['-batch', '-'], p.ipBatch);
    // The first line creates the dummy device; a kernel without the dummy driver refuses exactly that.
    if (r.status !== 0 && /Unknown device type/.test(r.stderr)) return ctx.skip();
    expect(r).toMatchObject({ status: 0 });
    const addrs = run(ip, ['-4', '-o', 'addr', 'show', 'dev', 'kube-ipvs0']).stdout;
    for (const a of p.addresses) expect(addrs).toContain(` ${a}/32 `);
  });

  it('ipsets and iptables rules of the upstream overall model load, and read back', () => {
    const p = renderIpvs(overallModel(), TEST_NODE);
    expect(run(IPSET ?? 'ipset', ['restore', '-exist'], p.ipsetRestore)).toMatchObject({ status: 0, stderr: '' });
    let payload = p.iptablesRestore;
    let withoutIpvsMatch = 0;
    let r = run(IPT_RESTORE ?? 'iptables-restore', ['--noflush'], payload);
    if (r.status !== 0 && /Extension ipvs .*not supported/.test(r.stderr)) {
      // `-m ipvs` (KUBE-IPVS-OUT-FILTER) needs xt_ipvs, which needs ip_vs: without it
      // kube-proxy's own restore fails too. Check everything else.
      const lines = payload.split('\n');
      withoutIpvsMatch = lines.filter((l) => l.includes(' -m ipvs ')).length;
      expect(withoutIpvsMatch).toBeGreaterThan(0);
      payload = lines.filter((l) => !l.includes(' -m ipvs ')).join('\n');
      r = run(IPT_RESTORE ?? 'iptables-restore', ['--noflush'], payload);
    }
    expect(r).toMatchObject({ status: 0, stderr: '' });

    const sets = run(IPSET ?? 'ipset', ['list', '-n']).stdout.trim().split('\n').sort();
    expect(sets).toEqual(p.ipsets.map((s) => s.name).sort());
    const members = run(IPSET ?? 'ipset', ['list', 'KUBE-LOAD-BALANCER-SOURCE-CIDR']).stdout;
    expect(members).toContain('5.6.7.8,tcp:80,203.0.113.0/25');
    const saved = run(IPT_SAVE ?? 'iptables-save', []).stdout;
    const ruleCount = saved.split('\n').filter((l) => l.startsWith('-A ')).length;
    expect(ruleCount).toBe(p.counts.iptablesRules - withoutIpvsMatch);
  });

  it('a 2,000-service synthetic cluster loads too (the sets take every entry)', () => {
    const m = generateCluster({ services: 2000, endpointsPerService: 3, seed: 7, layout: 'realistic', nodeName: 'node1' });
    const node = { ...TEST_NODE, nodeName: 'node1' };
    const p = renderIpvs(m, node);
    expect(run(IPSET ?? 'ipset', ['flush']).status).toBe(0);
    expect(run(IPSET ?? 'ipset', ['restore', '-exist'], p.ipsetRestore)).toMatchObject({ status: 0, stderr: '' });
    const clusterIPs = run(IPSET ?? 'ipset', ['list', 'KUBE-CLUSTER-IP']).stdout;
    expect(clusterIPs).toContain(`Number of entries: ${p.ipsets.find((s) => s.name === 'KUBE-CLUSTER-IP')?.entries.length}`);
  });

  it('virtual servers load with ipvsadm-restore when the kernel has ip_vs', (ctx) => {
    if (IPVSADM === undefined || IPVSADM_RESTORE === undefined) return ctx.skip();
    // Probing is the only reliable test: the module may be absent or not loadable here.
    if (run(IPVSADM, ['-Ln']).status !== 0) return ctx.skip();
    const p = renderIpvs(overallModel(), TEST_NODE);
    expect(run(IPVSADM_RESTORE, [], p.ipvsadmRestore)).toMatchObject({ status: 0, stderr: '' });
    const listed = run(IPVSADM, ['-Ln']).stdout;
    expect(listed.split('\n').filter((l) => /^(TCP|UDP|SCTP) /.test(l))).toHaveLength(p.counts.virtualServers);
  });
});
