// Assemble the ProxyState for one node from the cluster model.

import type { ClusterModel, NodeContext, Service } from '../../model/types.js';
import { buildEndpointsMap, buildEndpointsMapMemo, newEndpointsMemo } from './endpoints.js';
import type { EndpointsMemo } from './endpoints.js';
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

/**
 * What buildProxyStateMemo keeps between builds for one node: service ports
 * per Service object and endpoint lists per slice (see EndpointsMemo).
 * Model objects must not be mutated in place once built from; models share
 * the ones that did not change (as delta.ts makes them).
 */
export class ProxyStateMemo {
  readonly #ports = new WeakMap<Service, ServicePortInfo[]>();
  #endpoints: EndpointsMemo | null = null;

  /** buildProxyState, reusing what earlier builds computed for the same objects. */
  build(model: ClusterModel, node: NodeContext, opts: ProxyStateOptions = {}): ProxyState {
    const preferSame = opts.preferSameTrafficDistribution ?? true;
    if (this.#endpoints === null || this.#endpoints.nodeName !== node.nodeName || this.#endpoints.preferSameTrafficDistribution !== preferSame) {
      this.#endpoints = newEndpointsMemo(node.nodeName, { preferSameTrafficDistribution: preferSame });
    }
    const servicePorts: ServicePortInfo[] = [];
    for (const svc of model.services) {
      let ports = this.#ports.get(svc);
      if (ports === undefined) {
        ports = servicePortsOf(svc);
        this.#ports.set(svc, ports);
      }
      for (const sp of ports) servicePorts.push(sp);
    }
    const endpoints = buildEndpointsMapMemo(model.endpointSlices, this.#endpoints);
    let totalEndpoints = 0;
    for (const sp of servicePorts) totalEndpoints += endpoints.get(sp.key)?.length ?? 0;
    return { ipFamily: 'IPv4', node: { nodeName: node.nodeName, zone: node.zone ?? '' }, servicePorts, endpoints, totalEndpoints };
  }
}
