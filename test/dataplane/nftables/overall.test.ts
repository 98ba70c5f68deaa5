// Reproduces upstream's TestOverallNFTablesRules: six services covering
// ClusterIP, LoadBalancer with externalTrafficPolicy Local, NodePort,
// externalIPs, LoadBalancer with source ranges and ClientIP affinity, and a
// service without endpoints. Inputs are rewritten as our model objects; the
// expected rules are upstream's, stored verbatim under test/fixtures.
//
// Upstream compares knftables.Fake's Dump() (the state after the transaction)
// after sorting both sides; we apply our transaction to a ruleset model,
// dump it, and sort both sides the same way.

import { describe, expect, it } from 'vitest';

import { renderNftables } from '../../../src/dataplane/nftables/index.js';
import type { ClusterModel } from '../../../src/model/types.js';
import { dumpAfter, ep, fixture, normalize, slice, svc, tcp, UPSTREAM_NODE, UPSTREAM_OPTS } from './helpers.js';

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

describe('TestOverallNFTablesRules (upstream, v1.34 profile)', () => {
  const program = renderNftables(OVERALL_MODEL, UPSTREAM_NODE, UPSTREAM_OPTS);

  it('leaves exactly the rules upstream expects', () => {
    const expected = fixture('v1.34/base-rules.nft') + fixture('v1.34/overall.nft');
    expect(normalize(dumpAfter(program))).toBe(normalize(expected));
  });

  it('is one transaction of one operation per line, as knftables writes it', () => {
    expect(program.lines[0]).toBe('add table ip kube-proxy { comment "rules for kube-proxy" ; }');
    expect(program.payload).toBe(`${program.lines.join('\n')}\n`);
    for (const line of program.lines) expect(line).toMatch(/^(add|flush|delete) (table|chain|rule|set|map|element) ip kube-proxy /);
  });

  it('resets base chains on the first sync and flushes every chain it creates', () => {
    // add+delete of each base chain precedes its real creation.
    const i = program.lines.indexOf('add chain ip kube-proxy filter-input');
    expect(program.lines[i + 1]).toBe('delete chain ip kube-proxy filter-input');
    expect(program.lines).toContain('add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }');
    const created = program.lines.filter((l) => l.startsWith('add chain ')).map((l) => l.split(' ')[4]);
    for (const name of new Set(created)) expect(program.lines).toContain(`flush chain ip kube-proxy ${name}`);
  });

  it('writes map elements after the chains they jump to', () => {
    const at = (l: string): number => program.lines.indexOf(l);
    const chain = at('add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80');
    const elem = at('add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }');
    expect(chain).toBeGreaterThan(0);
    expect(elem).toBeGreaterThan(chain);
  });

  it('counts what the transaction creates', () => {
    // 8 base + 8 fixed regular chains, 9 service/external, 1 firewall and 6 endpoint chains.
    expect(program.counts.chains).toBe(32);
    expect(program.counts.sets).toBe(3); // cluster-ips, nodeport-ips, one affinity set
    expect(program.counts.maps).toBe(5);
    expect(program.counts.setElements).toBe(7); // 6 cluster IPs + the node IP
    expect(program.counts.mapElements).toBe(17);
    expect(program.servicePorts).toBe(6);
    expect(program.endpointChains).toBe(6);
  });
});
