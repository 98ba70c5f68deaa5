// What kube-proxy's iptables proxier hands to iptables-restore on a sync after
// the first: a full payload, or (KEP-3453, MinimizeIPTablesRestore, default on
// since v1.27) a partial one. Pure functions over rendered programs.
//
// Upstream facts this follows (pkg/proxy/iptables/proxier.go, syncProxyRules):
// - A partial sync still writes the whole filter table and every top-level nat
//   chain (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ…),
//   because those are shared by all Services; it omits the per-Service chains
//   (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-, KUBE-SEP-) of Services whose
//   Service and endpoints did not change since the last sync.
// - Chains no longer used are deleted (":CHAIN - [0:0]" then "-X CHAIN") after
//   an `iptables-save -t nat` that lists what exists, but only when the cluster
//   is below the large-cluster threshold (1,000 endpoints) or a sync period has
//   passed; in a large cluster they stay behind, empty and unreferenced.
import type { ProxyState, ServicePortInfo } from '../proxy/index.js';
import { serviceKey } from '../proxy/changes.js';
import { endpointsOf } from '../proxy/state.js';
import { endpointChainHash, servicePortChainHash } from '../proxy/chainhash.js';
import { payloadFromFragments } from './render.js';
import type { IptablesProgram } from './types.js';

const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP)-/;

/** The per-Service nat chains of one service port: its policy/external/firewall chains and one per endpoint. */
export function serviceChainsOf(state: ProxyState, sp: ServicePortInfo): string[] {
  const hash = servicePortChainHash(sp);
  const chains = [`KUBE-SVC-${hash}`, `KUBE-SVL-${hash}`, `KUBE-EXT-${hash}`, `KUBE-FW-${hash}`];
  const endpoints = endpointsOf(state, sp);
  for (const ep of endpoints) chains.push(`KUBE-SEP-${endpointChainHash(sp, endpoints, ep)}`);
  return chains;
}

/** Per-Service chains, grouped by the Service ("namespace/name") they belong to. */
export function chainsByService(state: ProxyState): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const sp of state.servicePorts) {
    const key = `${sp.namespace}/${sp.serviceName}`;
    const list = out.get(key) ?? [];
    list.push(...serviceChainsOf(state, sp));
    out.set(key, list);
  }
  return out;
}

/** The chain a nat payload line declares (":NAME …") or appends to ("-A NAME …"), if any. */
function chainOfLine(line: string): string | undefined {
  if (line.startsWith(':')) return line.slice(1, line.indexOf(' '));
  if (line.startsWith('-A ')) {
    const end = line.indexOf(' ', 3);
    return line.slice(3, end < 0 ? undefined : end);
  }
  return undefined;
}

/**
 * The partial-sync payload: `full` (rendered from the new state) without the
 * per-Service chains of Services outside `updated`.
 */
export function partialPayload(full: IptablesProgram, after: ProxyState, updated: ReadonlySet<string>): string {
  // A program from an IptablesRenderer is assembled from its parts: no pass over every nat line.
  if (full.fragments !== undefined && full.fragments.ports.length === after.servicePorts.length) {
    return payloadFromFragments(full.fragments, after.servicePorts.map(serviceKey), updated);
  }
  const skip = new Set<string>();
  for (const [svc, chains] of chainsByService(after)) if (!updated.has(svc)) for (const c of chains) skip.add(c);
  const nat = full.nat.filter((line) => {
    const chain = chainOfLine(line);
    return chain === undefined || !skip.has(chain);
  });
  return [...full.filter, ...nat].join('\n') + '\n';
}

/** Per-Service chains that existed before and are not used any more (candidates for "-X"). */
export function staleServiceChains(existing: Iterable<string>, after: ProxyState): string[] {
  const active = new Set<string>();
  for (const chains of chainsByService(after).values()) for (const c of chains) active.add(c);
  return [...existing].filter((c) => SERVICE_CHAIN.test(c) && !active.has(c));
}

/** Chain names declared in `iptables-save -t nat` output. */
export function chainsInSave(saved: string): string[] {
  const out: string[] = [];
  for (const line of saved.split('\n')) if (line.startsWith(':')) out.push(line.slice(1, line.indexOf(' ')));
  return out;
}

/** Insert the deletion of stale chains into a payload's nat table, as upstream appends them to natChains/natRules. */
export function withChainDeletions(payload: string, stale: readonly string[]): string {
  if (stale.length === 0) return payload;
  const natStart = payload.indexOf('*nat\n');
  const commit = payload.lastIndexOf('COMMIT\n');
  if (natStart < 0 || commit < natStart) throw new Error('payload has no nat table');
  const decls = stale.map((c) => `:${c} - [0:0]\n`).join('');
  const deletes = stale.map((c) => `-X ${c}\n`).join('');
  const headerEnd = natStart + '*nat\n'.length;
  return payload.slice(0, headerEnd) + decls + payload.slice(headerEnd, commit) + deletes + payload.slice(commit);
}
