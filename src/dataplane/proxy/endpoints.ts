// EndpointSlices → endpoints per service port, as kube-proxy's
// EndpointSliceCache merges them for a single-family (IPv4) proxier.

import type { EndpointSlice } from '../../model/types.js';
import { normalizeIPv4 } from './ip.js';
import { endpointsKey, servicePortNameString } from './serviceports.js';
import type { EndpointInfo } from './types.js';

function hintSet(values: readonly string[] | undefined): ReadonlySet<string> | null {
  return values !== undefined && values.length > 0 ? new Set(values) : null;
}

/** Options for building the endpoints map. */
export interface EndpointsMapOptions {
  /** Feature gate PreferSameTrafficDistribution: node hints are ignored when false. */
  readonly preferSameTrafficDistribution: boolean;
}

/**
 * Endpoints of every service port found in IPv4 EndpointSlices, keyed like
 * ServicePortInfo.key. Within a key, endpoints are de-duplicated by "ip:port"
 * (a non-terminating copy wins over a terminating one, as upstream) and sorted
 * by that string, so "10.0.0.10:80" sorts before "10.0.0.2:80" exactly as Go's
 * string sort does.
 */
export function buildEndpointsMap(
  slices: readonly EndpointSlice[],
  nodeName: string,
  opts: EndpointsMapOptions,
): Map<string, EndpointInfo[]> {
  const sets = new Map<string, Map<string, EndpointInfo>>();
  for (const slice of slices) {
    // The IPv4 proxier only subscribes to IPv4 slices; FQDN slices are never proxied.
    if (slice.addressType !== 'IPv4' || slice.serviceName === '') continue;
    for (const port of slice.ports) {
      if (port.port === 0) continue;
      const key = endpointsKey(servicePortNameString(slice.namespace, slice.serviceName, port.name), port.protocol);
      let set = sets.get(key);
      if (set === undefined) {
        set = new Map();
        sets.set(key, set);
      }
      for (const ep of slice.endpoints) {
        const first = ep.addresses[0];
        if (first === undefined) continue;
        const ip = normalizeIPv4(first);
        // Upstream would render Go's "<nil>" for an unparsable address; we drop it instead.
        if (ip === null) continue;
        const endpoint = `${ip}:${port.port}`;
        const terminating = ep.conditions.terminating;
        if (set.has(endpoint) && terminating) continue;
        set.set(endpoint, {
          ip,
          port: port.port,
          endpoint,
          isLocal: nodeName !== '' && ep.nodeName === nodeName,
          ready: ep.conditions.ready,
          serving: ep.conditions.serving,
          terminating,
          zoneHints: hintSet(ep.zoneHints),
          nodeHints: opts.preferSameTrafficDistribution ? hintSet(ep.nodeHints) : null,
        });
      }
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, set] of sets) {
    if (set.size === 0) continue;
    const list = [...set.values()];
    list.sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
    out.set(key, list);
  }
  return out;
}
