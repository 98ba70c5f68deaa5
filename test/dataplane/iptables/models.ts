// Upstream test inputs rewritten as kscale model objects.

import type { ClusterModel, NodeContext } from '../../../src/model/types.js';
import { DEFAULT_NODE_CONTEXT } from '../../../src/model/types.js';
import { ep, port, slice, svc } from '../proxy/helpers.js';

/** Upstream NewFakeProxier: node "test-node" at 192.168.0.2, pod CIDR 10.0.0.0/8, mark bit 14. */
export const TEST_NODE: NodeContext = { ...DEFAULT_NODE_CONTEXT, nodeName: 'test-node', nodeIP: '192.168.0.2', clusterCIDR: '10.0.0.0/8' };

/** The fake proxier hard-codes the mark as "0x4000" rather than formatting it with %#08x. */
export const FAKE_MARK = '0x4000';

const p80 = [{ name: 'p80', protocol: 'TCP' as const, port: 80 }];

/** Inputs of upstream TestOverallIPTablesRules. */
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
      slice('ns1', 'svc1', 1, [ep('10.180.0.1')], p80),
      // No nodeName: non-local, so ETP Local finds no local endpoint.
      slice('ns2', 'svc2', 1, [ep('10.180.0.2')], p80),
      slice('ns3', 'svc3', 1, [ep('10.180.0.3')], p80),
      slice('ns4', 'svc4', 1, [ep('10.180.0.4'), ep('10.180.0.5', { nodeName: 'test-node' })], p80),
      slice('ns5', 'svc5', 1, [ep('10.180.0.3')], p80),
    ],
  };
}
