// kube-proxy's IPVS mode loaded into a sandbox's node namespace: the
// kube-ipvs0 dummy device and its addresses, the ipsets, the iptables rules
// that match them, then the virtual and real servers. Runs only where the
// kernel has ip_vs and dummy devices; elsewhere it is skipped with the reason.
//
// A sync after the first is what kube-proxy's IPVS proxier does: the iptables
// payload is rewritten whole (it is small: set matches, not per-Service rules),
// while ipsets and virtual/real servers change by difference.
import { performance } from 'node:perf_hooks';
import type { Capabilities } from '../../host/capabilities.js';
import type { ClusterModel, NodeContext } from '../../model/types.js';
import { DataplaneError } from '../backend.js';
import type { Availability, DataplaneBackend, ModelDelta, ObjectCounts, SyncTiming, VerifyResult } from '../backend.js';
import type { Sandbox } from '../sandbox.js';
import { iptablesNftBackend } from '../iptables/backend.js';
import { renderIpvs, renderIpvsJumps } from './render.js';
import type { IpvsProgram, IpvsVirtualServer } from './types.js';

/** ipvsadm's service flag for a virtual server: -t (TCP), -u (UDP), --sctp-service. */
function serviceFlag(vs: IpvsVirtualServer): string[] {
  const addr = `${vs.address}:${vs.port}`;
  return vs.protocol === 'TCP' ? ['-t', addr] : vs.protocol === 'UDP' ? ['-u', addr] : ['--sctp-service', addr];
}

const vsKey = (vs: IpvsVirtualServer): string => `${vs.protocol} ${vs.address}:${vs.port}`;

/**
 * The ipvsadm-restore lines that take the kernel from `before` to `after`:
 * virtual servers deleted, added or edited, and their real servers by difference.
 */
export function ipvsadmDiff(before: IpvsProgram, after: IpvsProgram): string {
  const lines: string[] = [];
  const old = new Map(before.virtualServers.map((v) => [vsKey(v), v]));
  const cur = new Map(after.virtualServers.map((v) => [vsKey(v), v]));
  for (const [k, v] of old) if (!cur.has(k)) lines.push(['-D', ...serviceFlag(v)].join(' '));
  for (const [k, v] of cur) {
    const prev = old.get(k);
    const sched = ['-s', v.scheduler, ...(v.schedFlags.length ? ['-b', v.schedFlags.join(',')] : []), ...(v.persistentTimeout > 0 ? ['-p', String(v.persistentTimeout)] : [])];
    if (!prev) lines.push(['-A', ...serviceFlag(v), ...sched].join(' '));
    else if (prev.scheduler !== v.scheduler || prev.persistentTimeout !== v.persistentTimeout) lines.push(['-E', ...serviceFlag(v), ...sched].join(' '));
    const had = new Set((prev?.realServers ?? []).map((r) => `${r.address}:${r.port}`));
    const has = new Set(v.realServers.map((r) => `${r.address}:${r.port}`));
    for (const r of had) if (!has.has(r)) lines.push(['-d', ...serviceFlag(v), '-r', r].join(' '));
    for (const r of v.realServers) if (!had.has(`${r.address}:${r.port}`)) lines.push(['-a', ...serviceFlag(v), '-r', `${r.address}:${r.port}`, '-m', '-w', String(r.weight)].join(' '));
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** The `ipset restore` lines that take every set from `before` to `after`. */
export function ipsetDiff(before: IpvsProgram, after: IpvsProgram): string {
  const lines: string[] = [];
  const old = new Map(before.ipsets.map((s) => [s.name, new Set(s.entries)]));
  for (const set of after.ipsets) {
    const had = old.get(set.name) ?? new Set<string>();
    const has = new Set(set.entries);
    for (const e of had) if (!has.has(e)) lines.push(`del ${set.name} ${e}`);
    for (const e of set.entries) if (!had.has(e)) lines.push(`add ${set.name} ${e}`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Virtual and real servers in `ipvsadm -Sn` output. */
export function countIpvsadmSave(saved: string): { virtualServers: number; realServers: number } {
  let virtualServers = 0;
  let realServers = 0;
  for (const line of saved.split('\n')) {
    if (line.startsWith('-A ')) virtualServers++;
    else if (line.startsWith('-a ')) realServers++;
  }
  return { virtualServers, realServers };
}

/** Sum of "Number of entries: N" over `ipset list -t` output. */
export function countIpsetEntries(listed: string): number {
  let n = 0;
  for (const m of listed.matchAll(/^Number of entries: (\d+)$/gm)) n += Number(m[1]);
  return n;
}

export const ipvsBackend: DataplaneBackend<IpvsProgram> = {
  name: 'ipvs',
  probe(caps: Capabilities): Availability {
    if (!caps.root.available) return { available: false, reason: `needs root: ${caps.root.reason}` };
    if (!caps.ip_vs.available) return { available: false, reason: caps.ip_vs.reason };
    if (!caps.ipset.available) return { available: false, reason: caps.ipset.reason };
    return { available: true };
  },
  render(model: ClusterModel, node: NodeContext): IpvsProgram {
    return renderIpvs(model, node);
  },
  counts(p: IpvsProgram): ObjectCounts {
    return { rules: p.counts.iptablesRules + p.counts.virtualServers + p.counts.realServers, chains: p.counts.iptablesChains, setElements: p.counts.ipsetEntries };
  },
  async load(sandbox: Sandbox, p: IpvsProgram): Promise<SyncTiming> {
    const steps: [string, string[], string][] = [
      ['ip', ['-batch', '-'], p.ipBatch],
      ['ipset', ['restore', '-exist'], p.ipsetRestore],
      ['iptables-nft-restore', ['-w', '5', '--noflush', '--counters'], p.iptablesRestore],
      ['ipvsadm-restore', [], p.ipvsadmRestore],
    ];
    let wallMs = 0;
    let cpu = 0;
    for (const j of renderIpvsJumps()) {
      await sandbox.exec(sandbox.node, 'iptables-nft', ['-w', '5', '-t', j.table, '-N', j.target]);
      const r = await sandbox.exec(sandbox.node, 'iptables-nft', ['-w', '5', '-t', j.table, '-I', j.chain, ...j.args]);
      if (r.code !== 0) throw new DataplaneError('ipvs', `iptables-nft -I ${j.chain}: ${r.stderr.trim()}`);
      wallMs += r.wallMs;
      cpu += r.cpuMs;
    }
    for (const [cmd, args, input] of steps) {
      const r = await sandbox.exec(sandbox.node, cmd, args, { input });
      if (r.code !== 0) throw new DataplaneError('ipvs', `${cmd} exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
      wallMs += r.wallMs;
      cpu += r.cpuMs;
    }
    const payloadBytes = steps.reduce((n, [, , input]) => n + Buffer.byteLength(input), 0);
    return { wallMs, loaderCpuMs: cpu, payloadBytes, overheadMs: 0 };
  },
  async update(sandbox: Sandbox, before: IpvsProgram, after: IpvsProgram, _delta: ModelDelta): Promise<SyncTiming> {
    const t0 = performance.now();
    const newAddresses = after.addresses.filter((a) => !before.addresses.includes(a));
    const steps: [string, string[], string][] = [
      ['ip', ['-batch', '-'], newAddresses.map((a) => `addr add ${a}/32 dev ${after.dummyDevice}`).join('\n') + '\n'],
      ['ipset', ['restore', '-exist'], ipsetDiff(before, after)],
      ['iptables-nft-restore', ['-w', '5', '--noflush', '--counters'], after.iptablesRestore],
      ['ipvsadm-restore', [], ipvsadmDiff(before, after)],
    ];
    const overheadMs = performance.now() - t0;
    let wallMs = 0;
    let cpu = 0;
    let payloadBytes = 0;
    for (const [cmd, args, input] of steps) {
      if (input.trim() === '') continue;
      const r = await sandbox.exec(sandbox.node, cmd, args, { input });
      if (r.code !== 0) throw new DataplaneError('ipvs', `${cmd} exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
      wallMs += r.wallMs;
      cpu += r.cpuMs;
      payloadBytes += Buffer.byteLength(input);
    }
    return { wallMs, loaderCpuMs: cpu, payloadBytes, overheadMs };
  },
  async verify(sandbox: Sandbox, p: IpvsProgram): Promise<VerifyResult> {
    const saved = await sandbox.exec(sandbox.node, 'ipvsadm', ['-Sn']);
    const sets = await sandbox.exec(sandbox.node, 'ipset', ['list', '-t']);
    const mismatches: string[] = [];
    if (saved.code !== 0) mismatches.push(`ipvsadm -Sn exited ${saved.code}: ${saved.stderr.trim()}`);
    if (sets.code !== 0) mismatches.push(`ipset list exited ${sets.code}: ${sets.stderr.trim()}`);
    const got = countIpvsadmSave(saved.stdout);
    const entries = countIpsetEntries(sets.stdout);
    if (got.virtualServers !== p.counts.virtualServers) mismatches.push(`virtual servers: kernel ${got.virtualServers}, rendered ${p.counts.virtualServers}`);
    if (got.realServers !== p.counts.realServers) mismatches.push(`real servers: kernel ${got.realServers}, rendered ${p.counts.realServers}`);
    if (entries !== p.counts.ipsetEntries) mismatches.push(`ipset entries: kernel ${entries}, rendered ${p.counts.ipsetEntries}`);
    return { ok: mismatches.length === 0, counts: { rules: got.virtualServers + got.realServers, setElements: entries }, mismatches };
  },
  async flush(sandbox: Sandbox): Promise<SyncTiming> {
    // kube-proxy --cleanup for IPVS mode: virtual servers, the dummy device, then the rules and sets.
    const started = performance.now();
    let cpu = 0;
    for (const [cmd, args] of [['ipvsadm', ['-C']], ['ip', ['link', 'del', 'kube-ipvs0']]] as const) {
      const r = await sandbox.exec(sandbox.node, cmd, [...args]);
      cpu += r.cpuMs;
    }
    // The rules go the way iptables mode's do; then the sets they referenced can be destroyed.
    cpu += (await iptablesNftBackend.flush(sandbox)).loaderCpuMs;
    cpu += (await sandbox.exec(sandbox.node, 'ipset', ['destroy'])).cpuMs;
    return { wallMs: performance.now() - started, loaderCpuMs: cpu, payloadBytes: 0, overheadMs: 0 };
  },
};
