// The iptables chain-name hashes of a service port and its endpoints, computed
// on first use and cached for as long as the service port object lives. Only
// the iptables renderer names chains by hash; computing them while building
// the proxy state made every other backend pay for 50,000 + 500,000 sha256 at
// 50k Services × 10 endpoints.

import { endpointHash, portProtoHash } from './hash.js';
import type { EndpointInfo, ServicePortInfo } from './types.js';

interface PortHashes {
  /** portProtoHash of the port. */
  readonly port: string;
  /** The endpoint list the endpoint hashes below are for. */
  list: readonly EndpointInfo[] | null;
  /** KUBE-SEP- suffix per endpoint object of `list`. */
  endpoints: Map<EndpointInfo, string>;
}

// Keyed by the service port object: ProxyStateMemo keeps those across syncs,
// so a partial sync hashes only the ports and endpoints that are new.
const cache = new WeakMap<ServicePortInfo, PortHashes>();

function hashesOf(sp: ServicePortInfo): PortHashes {
  let h = cache.get(sp);
  if (h === undefined) {
    h = { port: portProtoHash(sp.name, sp.protocolLower), list: null, endpoints: new Map() };
    cache.set(sp, h);
  }
  return h;
}

/** portProtoHash(name, protocolLower): the 16-character suffix of the port's KUBE-SVC-/SVL-/EXT-/FW- chains. */
export function servicePortChainHash(sp: ServicePortInfo): string {
  return hashesOf(sp).port;
}

/**
 * endpointHash(port name, protocolLower, "ip:port"): the 16-character suffix
 * of the KUBE-SEP- chain of `ep`, one of `list` (the port's endpoints in the
 * state being rendered). The cache holds the hashes of one list per port: a
 * Service whose slices change sync after sync keeps its service port object,
 * and would otherwise keep every endpoint object it ever had.
 */
export function endpointChainHash(sp: ServicePortInfo, list: readonly EndpointInfo[], ep: EndpointInfo): string {
  const cached = hashesOf(sp);
  if (cached.list !== list) {
    cached.list = list;
    cached.endpoints = new Map();
  }
  const { endpoints } = cached;
  let h = endpoints.get(ep);
  if (h === undefined) {
    h = endpointHash(sp.name, sp.protocolLower, ep.endpoint);
    endpoints.set(ep, h);
  }
  return h;
}
