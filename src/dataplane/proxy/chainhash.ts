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
  /** KUBE-SEP- suffix per endpoint object served through this port. */
  readonly endpoints: Map<EndpointInfo, string>;
}

// Keyed by the service port object: ProxyStateMemo keeps those across syncs,
// so a partial sync hashes only the ports and endpoints that are new.
const cache = new WeakMap<ServicePortInfo, PortHashes>();

function hashesOf(sp: ServicePortInfo): PortHashes {
  let h = cache.get(sp);
  if (h === undefined) {
    h = { port: portProtoHash(sp.name, sp.protocolLower), endpoints: new Map() };
    cache.set(sp, h);
  }
  return h;
}

/** portProtoHash(name, protocolLower): the 16-character suffix of the port's KUBE-SVC-/SVL-/EXT-/FW- chains. */
export function servicePortChainHash(sp: ServicePortInfo): string {
  return hashesOf(sp).port;
}

/** endpointHash(port name, protocolLower, "ip:port"): the 16-character suffix of the endpoint's KUBE-SEP- chain under `sp`. */
export function endpointChainHash(sp: ServicePortInfo, ep: EndpointInfo): string {
  const { endpoints } = hashesOf(sp);
  let h = endpoints.get(ep);
  if (h === undefined) {
    h = endpointHash(sp.name, sp.protocolLower, ep.endpoint);
    endpoints.set(ep, h);
  }
  return h;
}
