// Upstream test inputs rewritten as model objects, shared by several test files.

import type { ClusterModel } from '../../../src/model/types.js';
import { ep, slice, svc, tcp } from './helpers.js';

/** The services and slices of upstream's TestOverallNFTablesRules. */
export const OVERALL_MODEL: ClusterModel = {
  services: [
    svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [tcp('p80', 80)] }),
    svc('ns2', 'svc2', {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      clusterIP: '172.30.0.42',
      ports: [tcp('p80', 80, { nodePort: 3001 })],
      loadBalancerIngressIPs: ['1.2.3.4'],
      externalIPs: ['192.168.99.22'],
      healthCheckNodePort: 30000,
    }),
    svc('ns3', 'svc3', { type: 'NodePort', clusterIP: '172.30.0.43', ports: [tcp('p80', 80, { nodePort: 3003 })] }),
    // Upstream's svc4 is type NodePort without an allocated NodePort (the fake has no allocator).
    svc('ns4', 'svc4', { type: 'NodePort', clusterIP: '172.30.0.44', externalIPs: ['192.168.99.33'], ports: [tcp('p80', 80)] }),
    svc('ns5', 'svc5', {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Cluster',
      clusterIP: '172.30.0.45',
      ports: [tcp('p80', 80, { nodePort: 3002 })],
      loadBalancerIngressIPs: ['5.6.7.8'],
      healthCheckNodePort: 30000,
      // The leading space is upstream's: invalid-looking input must still parse.
      loadBalancerSourceRanges: [' 203.0.113.0/25'],
      sessionAffinity: 'ClientIP',
      sessionAffinityTimeoutSeconds: 10800,
    }),
    svc('ns6', 'svc6', { clusterIP: '172.30.0.46', ports: [tcp('p80', 80)] }),
  ],
  endpointSlices: [
    slice('ns1', 'svc1', 'p80', 80, [ep('10.180.0.1')]),
    // No nodeName: non-local, so ETP Local has no usable endpoint here.
    slice('ns2', 'svc2', 'p80', 80, [ep('10.180.0.2')]),
    slice('ns3', 'svc3', 'p80', 80, [ep('10.180.0.3')]),
    slice('ns4', 'svc4', 'p80', 80, [ep('10.180.0.4'), ep('10.180.0.5', { nodeName: 'test-node' })]),
    slice('ns5', 'svc5', 'p80', 80, [ep('10.180.0.3')]),
  ],
};
