// What changed between two proxy states, as upstream's service and endpoint
// change trackers report it (UpdatedServices): the unit both the iptables
// proxier's partial restore and the nftables proxier's partial transaction
// rewrite. Pure, and cheap when the models share unchanged objects.

import { endpointsOf } from './state.js';
import type { EndpointInfo, ProxyState, ServicePortInfo } from './types.js';

/** NamespacedName of a service port, the unit upstream tracks changes in. */
export function serviceKey(sp: ServicePortInfo): string {
  return sp.serviceKey;
}

function sameHints(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.size !== b.size) return false;
  for (const v of a) if (!b.has(v)) return false;
  return true;
}

function sameEndpoints(a: readonly EndpointInfo[], b: readonly EndpointInfo[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return false;
    if (
      x.endpoint !== y.endpoint ||
      x.isLocal !== y.isLocal ||
      x.ready !== y.ready ||
      x.serving !== y.serving ||
      x.terminating !== y.terminating ||
      !sameHints(x.zoneHints, y.zoneHints) ||
      !sameHints(x.nodeHints, y.nodeHints)
    ) {
      return false;
    }
  }
  return true;
}

/** The parts of a service port kube-proxy's change tracker compares (not the raw Service). */
function portFingerprint(sp: ServicePortInfo): string {
  return [
    sp.name,
    sp.protocol,
    sp.clusterIP,
    sp.port,
    sp.nodePort,
    sp.externalIPs.join(','),
    sp.loadBalancerVIPs.join(','),
    sp.loadBalancerSourceRanges.map((c) => c.text).join(','),
    sp.sessionAffinity,
    sp.stickyMaxAgeSeconds,
    sp.externalPolicyLocal,
    sp.internalPolicyLocal,
    sp.healthCheckNodePort,
  ].join('|');
}

function portsByService(state: ProxyState): Map<string, ServicePortInfo[]> {
  const out = new Map<string, ServicePortInfo[]>();
  for (const sp of state.servicePorts) {
    const key = serviceKey(sp);
    const list = out.get(key);
    if (list === undefined) out.set(key, [sp]);
    else list.push(sp);
  }
  return out;
}

function serviceChanged(prev: ProxyState, next: ProxyState, a: readonly ServicePortInfo[], b: readonly ServicePortInfo[]): boolean {
  if (a.length !== b.length) return true;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return true;
    // Same Service object (generated models share unchanged ones): the port info is identical.
    if (x.service !== y.service && portFingerprint(x) !== portFingerprint(y)) return true;
    if (!sameEndpoints(endpointsOf(prev, x), endpointsOf(next, y))) return true;
  }
  return false;
}

/**
 * Services (namespace/name) whose service ports or endpoints differ, i.e.
 * what upstream's change trackers report as UpdatedServices.
 */
export function changedServices(prev: ProxyState, next: ProxyState): Set<string> {
  const a = portsByService(prev);
  const b = portsByService(next);
  const out = new Set<string>();
  for (const [key, ports] of b) {
    const old = a.get(key);
    if (old === undefined || serviceChanged(prev, next, old, ports)) out.add(key);
  }
  for (const key of a.keys()) if (!b.has(key)) out.add(key);
  return out;
}
