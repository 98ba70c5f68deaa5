// Assemble the ProxyState for one node from the cluster model.

import type { ClusterModel, NodeContext } from '../../model/types.js';
import { buildEndpointsMap } from './endpoints.js';
import { servicePortsOf } from './serviceports.js';
import type { EndpointInfo, ProxyState, ProxyStateOptions, ServicePortInfo } from './types.js';

const NO_ENDPOINTS: readonly EndpointInfo[] = [];

/**
 * Compute what kube-proxy's IPv4 change trackers hold for `node` after a full
 * sync: proxied service ports (in model order) and their endpoints.
 */
export function buildProxyState(
  model: ClusterModel,
  node: NodeContext,
  opts: ProxyStateOptions = {},
): ProxyState {
  const servicePorts: ServicePortInfo[] = [];
  for (const svc of model.services) {
    for (const sp of servicePortsOf(svc)) servicePorts.push(sp);
  }
  const endpoints = buildEndpointsMap(model.endpointSlices, node.nodeName, {
    preferSameTrafficDistribution: opts.preferSameTrafficDistribution ?? true,
  });
  let totalEndpoints = 0;
  for (const sp of servicePorts) totalEndpoints += endpoints.get(sp.key)?.length ?? 0;
  return {
    ipFamily: 'IPv4',
    node: { nodeName: node.nodeName, zone: node.zone ?? '' },
    servicePorts,
    endpoints,
    totalEndpoints,
  };
}

/** All endpoints (any condition) of a service port; empty when it has none. */
export function endpointsOf(state: ProxyState, sp: ServicePortInfo): readonly EndpointInfo[] {
  return state.endpoints.get(sp.key) ?? NO_ENDPOINTS;
}
