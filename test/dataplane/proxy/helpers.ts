// Small builders for model objects with upstream's test defaults, so each
// test states only what it is about.

import type { Endpoint, EndpointSlice, Service, ServicePort } from '../../../src/model/types.js';

export function svc(namespace: string, name: string, patch: Partial<Service> = {}): Service {
  return {
    namespace,
    name,
    type: 'ClusterIP',
    clusterIP: '',
    clusterIPs: [],
    ipFamilies: [],
    externalIPs: [],
    loadBalancerIngressIPs: [],
    loadBalancerSourceRanges: [],
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: 10800,
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    healthCheckNodePort: 0,
    ports: [],
    ...patch,
  };
}

export function port(name: string, portNum: number, patch: Partial<ServicePort> = {}): ServicePort {
  return { name, protocol: 'TCP', port: portNum, targetPort: portNum, nodePort: 0, ...patch };
}

export function ep(address: string, patch: Partial<Endpoint> & { ready?: boolean; serving?: boolean; terminating?: boolean } = {}): Endpoint {
  const { ready = true, serving, terminating = false, ...rest } = patch;
  return {
    addresses: [address],
    conditions: { ready, serving: serving ?? ready, terminating },
    nodeName: '',
    zone: '',
    zoneHints: [],
    ...rest,
  };
}

export function slice(
  namespace: string,
  serviceName: string,
  n: number,
  endpoints: Endpoint[],
  ports: EndpointSlice['ports'],
  patch: Partial<EndpointSlice> = {},
): EndpointSlice {
  return {
    namespace,
    name: `${serviceName}-${n}`,
    serviceName,
    addressType: 'IPv4',
    ports,
    endpoints,
    ...patch,
  };
}
