// What this host can do, probed for real (a netns is created and removed, the
// addon asks the kernel through libbpf). `kscale doctor` prints this table and
// every suite consults it before a measurement, so a missing capability becomes
// a `skipped` measurement with this reason rather than a crash.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { randomBytes } from 'node:crypto';
import { onCleanup } from './cleanup.js';
import { exec } from './exec.js';
import { claimPrefix } from './owner.js';
import { loadNative } from '../native/index.js';

export type CapabilityId =
  | 'root' | 'cap_net_admin' | 'cap_bpf' | 'bpf_syscall' | 'bpf_jit' | 'btf' | 'bpffs' | 'tc_clsact'
  | 'netns_veth' | 'iptables_nft' | 'iptables_legacy' | 'nftables' | 'ip_vs' | 'ipset' | 'conntrack'
  | 'etcd' | 'etcdctl' | 'fio' | 'clang_bpf' | 'libbpf' | 'native_addon' | 'kernel';

export interface Capability {
  id: CapabilityId;
  available: boolean;
  /** Why it is unavailable, or a short note on what was found. */
  reason: string;
  version?: string;
}

export type Capabilities = Record<CapabilityId, Capability>;

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;
const CAP_BPF = 39;
const BPF_PROG_TYPE_SCHED_CLS = 3;
const BPF_MAP_TYPE_HASH = 1;

function cap(id: CapabilityId, available: boolean, reason: string, version?: string): Capability {
  return version === undefined ? { id, available, reason } : { id, available, reason, version };
}

/** Effective capability set of this process, from /proc/self/status. */
export function effectiveCaps(statusText: string): bigint {
  const line = statusText.split('\n').find((l) => l.startsWith('CapEff:'));
  return line ? BigInt('0x' + line.slice('CapEff:'.length).trim()) : 0n;
}

const hasCap = (caps: bigint, bit: number): boolean => (caps & (1n << BigInt(bit))) !== 0n;

/** First line of a tool's version output, or the reason it could not be run. */
async function toolVersion(id: CapabilityId, cmd: string, args: string[], pkg: string): Promise<Capability> {
  const r = await exec(cmd, args, { timeoutMs: 10_000 });
  if (r.code === 127) return cap(id, false, `${cmd} not found (install package ${pkg})`);
  const text = (r.stdout + r.stderr).trim();
  const first = text.split('\n')[0] ?? '';
  if (r.code !== 0) return cap(id, false, `${cmd} ${args.join(' ')} exited ${r.code}: ${first}`);
  return cap(id, true, first, first.match(/v?(\d+\.\d+(\.\d+)?)/)?.[1] ?? first);
}

/** ip_vs is there when the kernel exposes it now, or a module for it exists for this kernel. */
export function probeIpvs(): Capability {
  if (existsSync('/proc/net/ip_vs')) return cap('ip_vs', true, 'IP Virtual Server loaded (/proc/net/ip_vs)');
  const rel = release();
  const modulesDir = `/lib/modules/${rel}`;
  if (existsSync(`${modulesDir}/modules.builtin`) && readFileSync(`${modulesDir}/modules.builtin`, 'utf8').includes('/ip_vs.ko')) {
    return cap('ip_vs', true, 'ip_vs built into the kernel');
  }
  if (existsSync(`${modulesDir}/modules.dep`) && /\/ip_vs\.ko/.test(readFileSync(`${modulesDir}/modules.dep`, 'utf8'))) {
    return cap('ip_vs', true, `ip_vs module available for ${rel} (loaded on first use)`);
  }
  return cap('ip_vs', false, `kernel ${rel} lacks IP Virtual Server: no /proc/net/ip_vs and no ip_vs module under ${modulesDir}`);
}

function probeBpfSyscall(): Capability {
  const n = loadNative();
  if (!n.ok) return cap('bpf_syscall', false, n.reason);
  const r = n.addon.probeMapType(BPF_MAP_TYPE_HASH);
  if (r === 1) return cap('bpf_syscall', true, 'bpf() created a hash map');
  return cap('bpf_syscall', false, r === 0 ? 'kernel refused BPF_MAP_TYPE_HASH' : `bpf() failed (errno ${-r}; needs root or CAP_BPF)`);
}

function probeTcProg(): Capability {
  const n = loadNative();
  if (!n.ok) return cap('tc_clsact', false, n.reason);
  const r = n.addon.probeProgType(BPF_PROG_TYPE_SCHED_CLS);
  return r === 1
    ? cap('tc_clsact', true, 'kernel loads BPF_PROG_TYPE_SCHED_CLS (tc) programs')
    : cap('tc_clsact', false, r === 0 ? 'kernel refused a tc program' : `probe failed (errno ${-r})`);
}

function probeJit(): Capability {
  try {
    const v = readFileSync('/proc/sys/net/core/bpf_jit_enable', 'utf8').trim();
    return v === '0' ? cap('bpf_jit', false, 'bpf_jit_enable is 0 (programs run interpreted)') : cap('bpf_jit', true, `bpf_jit_enable=${v}`);
  } catch {
    return cap('bpf_jit', false, 'no /proc/sys/net/core/bpf_jit_enable (kernel without BPF JIT)');
  }
}

function probeBpffs(): Capability {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[2] === 'bpf');
  if (mounts.length > 0) return cap('bpffs', true, `bpffs mounted at ${mounts.map((l) => l.split(' ')[1]).join(', ')}`);
  // kscale pins into a bpffs of its own per run (/run/kscale/bpffs/<prefix>-…), so what matters is that the kernel can mount one.
  let known = false;
  try {
    known = /\tbpf$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    /* no /proc */
  }
  return known
    ? cap('bpffs', true, 'none mounted at /sys/fs/bpf; the kernel supports bpffs and kscale mounts its own per run')
    : cap('bpffs', false, 'the kernel has no bpf filesystem (not in /proc/filesystems)');
}

/**
 * Create a throwaway namespace with a veth pair and try each rule tool inside it,
 * so "available" means "works here", not merely "installed". Removed before returning.
 */
async function probeInNetns(root: boolean): Promise<Capability[]> {
  const ids: CapabilityId[] = ['netns_veth', 'iptables_nft', 'iptables_legacy', 'nftables'];
  if (!root) return ids.map((id) => cap(id, false, 'needs root to create a network namespace'));
  const ns = `kscale-doctor-${randomBytes(3).toString('hex')}`;
  // Claimed, so a sweep by a concurrent run leaves this namespace alone.
  const release = claimPrefix(ns);
  // Registered before it exists, so a signal at any point of the probe removes it (deleting a missing one is a no-op).
  const remove = onCleanup(`netns ${ns}`, async () => {
    if (existsSync(`/run/netns/${ns}`)) await exec('ip', ['netns', 'del', ns], { timeoutMs: 10_000 });
  });
  const add = await exec('ip', ['netns', 'add', ns], { timeoutMs: 10_000 });
  if (add.code !== 0) {
    await remove();
    release();
    return ids.map((id) => cap(id, false, `ip netns add failed: ${add.stderr.trim()}`));
  }
  try {
    const veth = await exec('ip', ['link', 'add', 'kd0', 'type', 'veth', 'peer', 'name', 'kd1'], { netns: ns, timeoutMs: 10_000 });
    const tool = async (id: CapabilityId, cmd: string, args: string[], pkg: string): Promise<Capability> => {
      const v = await toolVersion(id, cmd, ['--version'], pkg);
      if (!v.available) return v;
      const r = await exec(cmd, args, { netns: ns, timeoutMs: 10_000 });
      return r.code === 0 ? v : cap(id, false, `${cmd} ${args.join(' ')} in a test namespace failed: ${r.stderr.trim()}`);
    };
    return [
      veth.code === 0 ? cap('netns_veth', true, 'created a namespace and a veth pair') : cap('netns_veth', false, `veth: ${veth.stderr.trim()}`),
      await tool('iptables_nft', 'iptables-nft', ['-t', 'nat', '-S'], 'iptables'),
      await tool('iptables_legacy', 'iptables-legacy', ['-t', 'nat', '-S'], 'iptables'),
      await tool('nftables', 'nft', ['list', 'ruleset'], 'nftables'),
    ];
  } finally {
    await remove();
    release();
  }
}

async function probeClangBpf(): Promise<Capability> {
  const r = await exec('clang', ['-print-targets'], { timeoutMs: 10_000 });
  if (r.code === 127) return cap('clang_bpf', false, 'clang not found (install package clang)');
  const version = (await exec('clang', ['--version'])).stdout.split('\n')[0] ?? '';
  return /\bbpf\b/.test(r.stdout)
    ? cap('clang_bpf', true, version, version.match(/(\d+\.\d+\.\d+)/)?.[1])
    : cap('clang_bpf', false, 'clang has no bpf target');
}

function probeLibbpf(): Capability {
  const n = loadNative();
  if (!n.ok) return cap('libbpf', false, n.reason);
  const v = n.addon.libbpfVersion();
  return cap('libbpf', true, `linked libbpf ${v}`, v.replace(/^v/, ''));
}

function probeConntrackKernel(tool: Capability): Capability {
  if (!tool.available) return tool;
  return existsSync('/proc/sys/net/netfilter/nf_conntrack_max')
    ? tool
    : cap('conntrack', true, `${tool.reason}; nf_conntrack is loaded on first use`, tool.version);
}

export async function probeCapabilities(): Promise<Capabilities> {
  const status = readFileSync('/proc/self/status', 'utf8');
  const caps = effectiveCaps(status);
  const root = process.getuid?.() === 0;
  const native = loadNative();
  const [netnsCaps, ipset, conntrack, etcd, etcdctl, fio, clang] = await Promise.all([
    probeInNetns(root && hasCap(caps, CAP_NET_ADMIN)),
    toolVersion('ipset', 'ipset', ['--version'], 'ipset'),
    toolVersion('conntrack', 'conntrack', ['--version'], 'conntrack'),
    toolVersion('etcd', 'etcd', ['--version'], 'etcd-server'),
    toolVersion('etcdctl', 'etcdctl', ['version'], 'etcd-client'),
    toolVersion('fio', 'fio', ['--version'], 'fio'),
    probeClangBpf(),
  ]);
  const list: Capability[] = [
    cap('root', root, root ? 'running as uid 0' : `running as uid ${process.getuid?.()}; kernel measurements need root`),
    cap('cap_net_admin', hasCap(caps, CAP_NET_ADMIN), hasCap(caps, CAP_NET_ADMIN) ? 'CAP_NET_ADMIN effective' : 'CAP_NET_ADMIN not in the effective set'),
    cap('cap_bpf', hasCap(caps, CAP_BPF) || hasCap(caps, CAP_SYS_ADMIN),
      hasCap(caps, CAP_BPF) ? 'CAP_BPF effective' : hasCap(caps, CAP_SYS_ADMIN) ? 'CAP_SYS_ADMIN effective (covers BPF)' : 'neither CAP_BPF nor CAP_SYS_ADMIN effective'),
    probeBpfSyscall(),
    probeJit(),
    existsSync('/sys/kernel/btf/vmlinux') ? cap('btf', true, 'kernel BTF at /sys/kernel/btf/vmlinux') : cap('btf', false, 'no /sys/kernel/btf/vmlinux (kernel built without CONFIG_DEBUG_INFO_BTF)'),
    probeBpffs(),
    probeTcProg(),
    ...netnsCaps,
    probeIpvs(),
    ipset,
    probeConntrackKernel(conntrack),
    etcd,
    etcdctl,
    fio,
    clang,
    probeLibbpf(),
    native.ok ? cap('native_addon', true, 'build/Release/kscale.node loaded') : cap('native_addon', false, native.reason),
    cap('kernel', true, `Linux ${release()}`, release()),
  ];
  return Object.fromEntries(list.map((c) => [c.id, c])) as Capabilities;
}
