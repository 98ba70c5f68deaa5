// The network-namespace topology every dataplane is loaded and measured in:
//
//   client ns  c0 198.18.0.1/24 ──veth── n0 198.18.0.2/24  node ns  n1 198.18.1.1/24 ──veth── b0 198.18.1.2/24  backend ns
//   (traffic source)                      (rules live here, forwards)                          (owns every endpoint address)
//
// Addresses come from 198.18.0.0/15, the range RFC 2544 reserves for benchmarks,
// so they cannot clash with a real network. The backend namespace owns the
// endpoint CIDRs as local routes on lo (any address in them is local there), so
// 500,000 endpoints need no 500,000 addresses. Every namespace is named with
// the run's prefix, created from the host without creating anything in the
// host's own namespace (veth ends are born inside their namespaces), and
// destroyed on exit, error or signal through src/host/cleanup.ts.
import { readdirSync } from 'node:fs';
import { exec } from '../host/exec.js';
import type { ExecOptions, ExecResult } from '../host/exec.js';
import { onCleanup } from '../host/cleanup.js';
import { claimPrefix, prefixIsLive, prefixOf, sweepOwnerFiles } from '../host/owner.js';

export interface Netns {
  name: string;
  /** Bind-mount path, for setns() in the native addon. */
  path: string;
}

export interface SandboxOptions {
  /** The run's prefix, kscale-<6hex>; every namespace name starts with it. */
  prefix: string;
  /** Label inside the prefix, so one run can hold several sandboxes (e.g. one per backend). */
  label?: string;
  /** CIDRs the backend namespace answers for (the model's endpoint addresses). */
  endpointCidrs: readonly string[];
  /** Deadline for each tool run through sandbox.exec unless the call sets its own; default 30 minutes. */
  toolTimeoutMs?: number;
}

export const ADDR = {
  client: '198.18.0.1',
  nodeClientSide: '198.18.0.2',
  nodeBackendSide: '198.18.1.1',
  backend: '198.18.1.2',
} as const;

/** Interface names inside the namespaces (short: they only have to be unique per namespace). */
export const IFACE = { client: 'c0', nodeFromClient: 'n0', nodeToBackend: 'n1', backend: 'b0' } as const;

export interface Sandbox {
  prefix: string;
  client: Netns;
  node: Netns;
  backend: Netns;
  /** The node's address as the client sees it (NodePort traffic goes here). */
  nodeIP: string;
  /** Run a tool inside one of the namespaces. */
  exec(ns: Netns, cmd: string, args: readonly string[], opts?: Omit<ExecOptions, 'netns'>): Promise<ExecResult>;
  /** Remove every namespace of this sandbox (idempotent). */
  destroy(): Promise<void>;
}

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
}

function netns(name: string): Netns {
  return { name, path: `/run/netns/${name}` };
}

async function must(what: string, r: Promise<ExecResult>): Promise<ExecResult> {
  const res = await r;
  if (res.code !== 0) throw new SandboxError(`${what}: exit ${res.code}: ${res.stderr.trim()}`);
  return res;
}

/** Names of network namespaces on this host (`ip netns list` without the "(id: N)" suffix). */
export function listNetns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

async function deleteNetns(name: string): Promise<void> {
  // Deleting a namespace removes its veth ends (and the peers in other namespaces with them).
  const r = await exec('ip', ['netns', 'delete', name], { timeoutMs: 30_000 });
  if (r.code !== 0 && listNetns().includes(name)) throw new SandboxError(`ip netns delete ${name}: ${r.stderr.trim()}`);
}

/**
 * Remove namespaces left by earlier runs that died without cleaning up (SIGKILL,
 * power loss). Only prefixes whose owning process is gone are touched, so a
 * concurrent run keeps its sandbox. Returns the namespaces removed.
 */
export async function sweepLeftoverNetns(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of listNetns()) {
    const prefix = prefixOf(name);
    if (!prefix || prefixIsLive(prefix)) continue;
    await deleteNetns(name);
    removed.push(name);
  }
  sweepOwnerFiles();
  return removed;
}

function sysctls(ns: Netns, settings: Record<string, string>): Promise<ExecResult> {
  const args = Object.entries(settings).flatMap(([k, v]) => ['-w', `${k}=${v}`]);
  return must(`sysctl in ${ns.name}`, exec('sysctl', ['-q', ...args], { netns: ns.name }));
}

export async function createSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const base = opts.label ? `${opts.prefix}-${opts.label}` : opts.prefix;
  const client = netns(`${base}-client`);
  const node = netns(`${base}-node`);
  const backend = netns(`${base}-backend`);
  const all = [client, node, backend];
  const release = claimPrefix(opts.prefix);
  // Run again after a failure (cleanup.ts): it deletes whichever of the three are still there.
  const destroyAll = async (): Promise<void> => {
    for (const ns of all) if (listNetns().includes(ns.name)) await deleteNetns(ns.name);
  };
  const undo = onCleanup(`sandbox ${base}`, destroyAll);
  const run = (ns: Netns, cmd: string, args: readonly string[], o: Omit<ExecOptions, 'netns'> = {}): Promise<ExecResult> =>
    exec(cmd, args, { timeoutMs: opts.toolTimeoutMs ?? 30 * 60_000, ...o, netns: ns.name });
  try {
    for (const ns of all) await must(`ip netns add ${ns.name}`, exec('ip', ['netns', 'add', ns.name]));
    await must('veth client↔node', exec('ip', ['-n', client.name, 'link', 'add', IFACE.client, 'type', 'veth', 'peer', 'name', IFACE.nodeFromClient, 'netns', node.name]));
    await must('veth node↔backend', exec('ip', ['-n', node.name, 'link', 'add', IFACE.nodeToBackend, 'type', 'veth', 'peer', 'name', IFACE.backend, 'netns', backend.name]));
    const batch = async (ns: Netns, lines: string[]): Promise<void> => {
      await must(`ip -batch in ${ns.name}`, exec('ip', ['-n', ns.name, '-batch', '-'], { input: lines.join('\n') + '\n' }));
    };
    await batch(client, [
      'link set lo up', `link set ${IFACE.client} up`,
      `addr add ${ADDR.client}/24 dev ${IFACE.client}`,
      `route add default via ${ADDR.nodeClientSide}`,
    ]);
    await batch(node, [
      'link set lo up', `link set ${IFACE.nodeFromClient} up`, `link set ${IFACE.nodeToBackend} up`,
      `addr add ${ADDR.nodeClientSide}/24 dev ${IFACE.nodeFromClient}`,
      `addr add ${ADDR.nodeBackendSide}/24 dev ${IFACE.nodeToBackend}`,
      // Endpoints live behind the backend namespace; everything else is the client side.
      `route add default via ${ADDR.backend}`,
    ]);
    await batch(backend, [
      'link set lo up', `link set ${IFACE.backend} up`,
      `addr add ${ADDR.backend}/24 dev ${IFACE.backend}`,
      `route add default via ${ADDR.nodeBackendSide}`,
      ...opts.endpointCidrs.map((c) => `route add local ${c} dev lo`),
    ]);
    await sysctls(node, { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.default.rp_filter': '0', 'net.ipv4.conf.all.route_localnet': '1' });
    await sysctls(backend, { 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.lo.rp_filter': '0' });
  } catch (err) {
    await undo();
    release();
    throw err;
  }
  return {
    prefix: opts.prefix,
    client,
    node,
    backend,
    nodeIP: ADDR.nodeClientSide,
    exec: run,
    async destroy() {
      await undo();
      release();
    },
  };
}
