// Shared test builders for every dataplane renderer: model objects with the
// defaults of upstream's test helpers (makeTestService, makeTestEndpointSlice,
// NewFakeProxier), and upstream test inputs rewritten as kscale models, so
// each test states only what it is about.

import type { ClusterModel, Endpoint, EndpointSlice, NodeContext, Service, ServicePort } from '../../src/model/types.js';
import { DEFAULT_NODE_CONTEXT } from '../../src/model/types.js';

/** Upstream NewFakeProxier: node "test-node" at 192.168.0.2, pod CIDR 10.0.0.0/8, mark bit 14. */
export const TEST_NODE: NodeContext = { ...DEFAULT_NODE_CONTEXT, nodeName: 'test-node', nodeIP: '192.168.0.2', clusterCIDR: '10.0.0.0/8' };

/** The fake proxiers hard-code the mark as "0x4000" rather than formatting it with %#08x. */
export const FAKE_MARK = '0x4000';

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

/** A TCP service port (override `protocol` in the patch for UDP/SCTP). */
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

/** A slice named like upstream's makeTestEndpointSlice ("<svc>-<n>"). */
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

/** The common case: slice "<svc>-1" with one TCP port. */
export function tcpSlice(namespace: string, serviceName: string, portName: string, portNum: number, endpoints: Endpoint[]): EndpointSlice {
  return slice(namespace, serviceName, 1, endpoints, [{ name: portName, protocol: 'TCP', port: portNum }]);
}

/** Inputs of upstream TestOverallIPTablesRules / TestOverallNFTablesRules (the same six Services). */
export function overallModel(): ClusterModel {
  return {
    services: [
      svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [port('p80', 80)] }),
      svc('ns2', 'svc2', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '172.30.0.42',
        ports: [port('p80', 80, { nodePort: 3001 })],
        loadBalancerIngressIPs: ['1.2.3.4'],
        externalIPs: ['192.168.99.22'],
        healthCheckNodePort: 30000,
      }),
      svc('ns3', 'svc3', { type: 'NodePort', clusterIP: '172.30.0.43', ports: [port('p80', 80, { nodePort: 3003 })] }),
      // Upstream's svc4 is type NodePort without an allocated NodePort (the fake has no allocator).
      svc('ns4', 'svc4', { type: 'NodePort', clusterIP: '172.30.0.44', externalIPs: ['192.168.99.33'], ports: [port('p80', 80)] }),
      svc('ns5', 'svc5', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Cluster',
        clusterIP: '172.30.0.45',
        ports: [port('p80', 80, { nodePort: 3002 })],
        loadBalancerIngressIPs: ['5.6.7.8'],
        healthCheckNodePort: 30000,
        // Leading whitespace on purpose, as upstream: must be tolerated.
        loadBalancerSourceRanges: [' 203.0.113.0/25'],
        sessionAffinity: 'ClientIP',
        sessionAffinityTimeoutSeconds: 10800,
      }),
      svc('ns6', 'svc6', { clusterIP: '172.30.0.46', ports: [port('p80', 80)] }),
    ],
    endpointSlices: [
      tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.180.0.1')]),
      // No nodeName: non-local, so ETP Local finds no local endpoint.
      tcpSlice('ns2', 'svc2', 'p80', 80, [ep('10.180.0.2')]),
      tcpSlice('ns3', 'svc3', 'p80', 80, [ep('10.180.0.3')]),
      tcpSlice('ns4', 'svc4', 'p80', 80, [ep('10.180.0.4'), ep('10.180.0.5', { nodeName: 'test-node' })]),
      tcpSlice('ns5', 'svc5', 'p80', 80, [ep('10.180.0.3')]),
    ],
  };
}
