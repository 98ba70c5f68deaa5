// Focused cases. Inputs follow upstream tests of the same name; upstream
// checks those by tracing packets through the rules, so the expected lines
// here are what upstream's syncProxyRules writes for that input (read from
// its source), not stored upstream output. Names of chains whose hash the
// overall fixture already pins are spelled out; others use our (pinned)
// name helpers.

import { describe, expect, it } from 'vitest';

import {
  endpointChainBase,
  masqueradeMarkFor,
  renderNftables,
  renderNftablesIncremental,
} from '../../../src/dataplane/nftables/index.js';
import type { NftRenderOptions } from '../../../src/dataplane/nftables/index.js';
import type { ClusterModel } from '../../../src/model/types.js';
import { TEST_NODE, ep, port, svc, tcpSlice } from '../helpers.js';
import { dumpAfter, UPSTREAM_OPTS } from './helpers.js';

const T = 'ip kube-proxy';

function linesOf(m: ClusterModel, opts: NftRenderOptions = UPSTREAM_OPTS, node = TEST_NODE): readonly string[] {
  return renderNftables(m, node, opts).lines;
}

function epChain(ip: string, port = 80, ns = 'ns1', name = 'svc1', portName = 'p80'): string {
  return `endpoint-${endpointChainBase(ns, name, 'tcp', portName, ip, port)}`;
}

describe('TestNoEndpointsReject', () => {
  const m: ClusterModel = {
    services: [
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.41',
        externalIPs: ['192.168.99.11'],
        ports: [port('p80', 80, { nodePort: 3001 })],
        loadBalancerIngressIPs: ['1.2.3.4'],
      }),
    ],
    endpointSlices: [],
  };
  const lines = linesOf(m);

  it('rejects on every address of the service through the no-endpoint maps', () => {
    for (const key of ['172.30.0.41', '192.168.99.11', '1.2.3.4']) {
      expect(lines).toContain(`add element ${T} no-endpoint-services { ${key} . tcp . 80 comment "ns1/svc1:p80" : goto reject-chain }`);
    }
    expect(lines).toContain(`add element ${T} no-endpoint-nodeports { tcp . 3001 comment "ns1/svc1:p80" : goto reject-chain }`);
    expect(lines).toContain(`add element ${T} cluster-ips { 172.30.0.41 }`);
  });

  it('creates no service chains and no dispatch elements', () => {
    expect(lines.filter((l) => l.includes('/svc1/') && l.startsWith('add chain'))).toEqual([]);
    expect(lines.some((l) => l.startsWith(`add element ${T} service-ips`) || l.startsWith(`add element ${T} service-nodeports`))).toBe(false);
  });
});

describe('session affinity', () => {
  const m: ClusterModel = {
    services: [
      svc('ns1', 'svc1', {
        clusterIP: '172.30.0.41',
        ports: [port('p80', 80)],
        sessionAffinity: 'ClientIP',
        sessionAffinityTimeoutSeconds: 300,
      }),
    ],
    endpointSlices: [tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.180.0.2'), ep('10.180.0.1')])],
  };
  const lines = linesOf(m);
  const e1 = epChain('10.180.0.1');
  const e2 = epChain('10.180.0.2');
  const a1 = e1.replace('endpoint-', 'affinity-');
  const a2 = e2.replace('endpoint-', 'affinity-');
  const svcChain = 'service-ULMVA6XW-ns1/svc1/tcp/p80';

  it('gives each endpoint a timeout set, checked before the random pick', () => {
    expect(lines).toContain(`add set ${T} ${a1} { type ipv4_addr ; flags dynamic,timeout ; timeout 300s ; }`);
    const rules = lines.filter((l) => l.startsWith(`add rule ${T} ${svcChain} `)).map((l) => l.slice(`add rule ${T} ${svcChain} `.length));
    // Endpoints are ordered by "ip:port" string, as upstream sorts them.
    expect(rules).toEqual([
      'ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade',
      `ip saddr @${a1} goto ${e1}`,
      `ip saddr @${a2} goto ${e2}`,
      `numgen random mod 2 vmap { 0 : goto ${e1} , 1 : goto ${e2} }`,
    ]);
    expect(lines).toContain(`add rule ${T} ${e1} update @${a1} { ip saddr }`);
  });

  it('deletes the affinity sets at once when affinity is turned off', () => {
    const off: ClusterModel = { ...m, services: [{ ...m.services[0]!, sessionAffinity: 'None' }] };
    const r = renderNftablesIncremental(m, off, TEST_NODE, UPSTREAM_OPTS);
    expect(r.program.lines).toContain(`delete set ${T} ${a1}`);
    expect(r.program.lines).toContain(`delete set ${T} ${a2}`);
    // Chains are rewritten first, so no rule still references a set being deleted.
    const flushAt = r.program.lines.indexOf(`flush chain ${T} ${e1}`);
    expect(flushAt).toBeGreaterThanOrEqual(0);
    expect(flushAt).toBeLessThan(r.program.lines.indexOf(`delete set ${T} ${a1}`));
    expect(() => dumpAfter(renderNftables(m, TEST_NODE, UPSTREAM_OPTS), r.program)).not.toThrow();
  });
});

describe('TestExternalTrafficPolicyLocal', () => {
  const m: ClusterModel = {
    services: [
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '172.30.0.41',
        externalIPs: ['192.168.99.11'],
        ports: [port('p80', 80, { nodePort: 3001 })],
        healthCheckNodePort: 30000,
        loadBalancerIngressIPs: ['1.2.3.4'],
      }),
    ],
    endpointSlices: [tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.180.0.1'), ep('10.180.2.1', { nodeName: 'test-node' })])],
  };
  const lines = linesOf(m);
  const cluster = 'service-ULMVA6XW-ns1/svc1/tcp/p80';
  const local = 'local-ULMVA6XW-ns1/svc1/tcp/p80';
  const external = 'external-ULMVA6XW-ns1/svc1/tcp/p80';

  it('short-circuits pod and node traffic to all endpoints, else only the local one', () => {
    const rules = lines.filter((l) => l.startsWith(`add rule ${T} ${external} `)).map((l) => l.slice(`add rule ${T} ${external} `.length));
    expect(rules).toEqual([
      `ip saddr 10.0.0.0/8 goto ${cluster} comment "short-circuit pod traffic"`,
      'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
      `fib saddr type local goto ${cluster} comment "short-circuit local traffic"`,
      `goto ${local}`,
    ]);
    expect(lines).toContain(`add rule ${T} ${local} numgen random mod 1 vmap { 0 : goto ${epChain('10.180.2.1')} }`);
    expect(lines).toContain(
      `add rule ${T} ${cluster} numgen random mod 2 vmap { 0 : goto ${epChain('10.180.0.1')} , 1 : goto ${epChain('10.180.2.1')} }`,
    );
  });

  it('dispatches every external address to the external chain and drops nothing', () => {
    for (const ip of ['192.168.99.11', '1.2.3.4']) {
      expect(lines).toContain(`add element ${T} service-ips { ${ip} . tcp . 80 : goto ${external} }`);
    }
    expect(lines).toContain(`add element ${T} service-nodeports { tcp . 3001 : goto ${external} }`);
    expect(lines.some((l) => l.includes('no-endpoint-') && l.startsWith('add element'))).toBe(false);
  });
});

describe('TestLoadBalancer (source ranges)', () => {
  const m: ClusterModel = {
    services: [
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.41',
        ports: [port('p80', 80, { nodePort: 3001 })],
        loadBalancerIngressIPs: ['1.2.3.4', '5.6.7.8'],
        loadBalancerSourceRanges: ['192.168.0.0/24', ' 203.0.113.0/25'],
      }),
    ],
    endpointSlices: [tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.180.0.1')])],
  };
  const lines = linesOf(m);
  const fw = 'firewall-ULMVA6XW-ns1/svc1/tcp/p80';

  it('drops sources outside the ranges, allowing the VIPs when a range holds the node IP', () => {
    expect(lines).toContain(`add rule ${T} ${fw} ip saddr != { 192.168.0.0/24 , 203.0.113.0/25 , 1.2.3.4 , 5.6.7.8 } drop`);
    for (const ip of ['1.2.3.4', '5.6.7.8']) {
      expect(lines).toContain(`add element ${T} firewall-ips { ${ip} . tcp . 80 : goto ${fw} }`);
    }
  });

  it('does not add the VIPs when no range holds the node IP', () => {
    const other = { ...m, services: [{ ...m.services[0]!, loadBalancerSourceRanges: ['203.0.113.0/25'] }] };
    expect(linesOf(other)).toContain(`add rule ${T} ${fw} ip saddr != { 203.0.113.0/25 } drop`);
  });

  it('leaves NodePorts outside the firewall', () => {
    expect(lines).toContain(`add element ${T} service-nodeports { tcp . 3001 : goto external-ULMVA6XW-ns1/svc1/tcp/p80 }`);
    expect(lines.filter((l) => l.startsWith(`add element ${T} firewall-ips`)).length).toBe(2);
  });
});

describe('internalTrafficPolicy Local without local endpoints', () => {
  const m: ClusterModel = {
    services: [
      svc('ns1', 'svc1', {
        type: 'NodePort',
        internalTrafficPolicy: 'Local',
        clusterIP: '172.30.0.41',
        ports: [port('p80', 80, { nodePort: 3001 })],
      }),
    ],
    endpointSlices: [tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.180.0.1')])],
  };
  const lines = linesOf(m);

  it('drops ClusterIP traffic but still serves the NodePort', () => {
    expect(lines).toContain(`add element ${T} no-endpoint-services { 172.30.0.41 . tcp . 80 comment "ns1/svc1:p80" : drop }`);
    expect(lines).toContain(`add element ${T} service-nodeports { tcp . 3001 : goto external-ULMVA6XW-ns1/svc1/tcp/p80 }`);
    // No masquerade rule: it would go into the unused local chain.
    expect(lines.some((l) => l.includes('ip daddr 172.30.0.41'))).toBe(false);
  });
});

describe('terminating endpoints', () => {
  it('fall back to serving-terminating endpoints when none is ready', () => {
    const m: ClusterModel = {
      services: [svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [port('p80', 80)] })],
      endpointSlices: [
        tcpSlice('ns1', 'svc1', 'p80', 80, [
          ep('10.180.0.1', { ready: false, serving: true, terminating: true }),
          ep('10.180.0.2', { ready: false, serving: false, terminating: true }),
        ]),
      ],
    };
    const lines = linesOf(m);
    expect(lines).toContain(`add rule ${T} service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto ${epChain('10.180.0.1')} }`);
    expect(lines.some((l) => l.includes('10.180.0.2'))).toBe(false);
  });
});

describe('options and node settings', () => {
  const m: ClusterModel = {
    services: [svc('ns1', 'svc1', { type: 'NodePort', clusterIP: '172.30.0.41', ports: [port('', 80, { nodePort: 3001 })] })],
    endpointSlices: [tcpSlice('ns1', 'svc1', '', 80, [ep('10.180.0.1')])],
  };

  it('formats the mark as NewProxier does (Go %#08x)', () => {
    expect(masqueradeMarkFor(14)).toBe('0x00004000');
    expect(masqueradeMarkFor(0)).toBe('0x00000001');
    expect(linesOf(m, {})).toContain(`add rule ${T} mark-for-masquerade mark set mark or 0x00004000`);
    expect(() => masqueradeMarkFor(32)).toThrow(/masqueradeBit/);
  });

  it('names chains of an unnamed port with a trailing slash and comments it as ns/name', () => {
    const lines = linesOf(m);
    const chains = lines.filter((l) => /^add chain ip kube-proxy (service|external)-[A-Z2-7]{8}-/.test(l));
    expect(chains).toHaveLength(2);
    for (const c of chains) expect(c).toMatch(/-[A-Z2-7]{8}-ns1\/svc1\/tcp\/$/);
    const empty: ClusterModel = { ...m, endpointSlices: [] };
    expect(linesOf(empty)).toContain(`add element ${T} no-endpoint-nodeports { tcp . 3001 comment "ns1/svc1" : goto reject-chain }`);
  });

  it('masquerades all ClusterIP traffic with masqueradeAll', () => {
    const lines = linesOf(m, { ...UPSTREAM_OPTS, masqueradeAll: true });
    expect(lines.some((l) => l.endsWith('/tcp/ ip daddr 172.30.0.41 jump mark-for-masquerade'))).toBe(true);
  });

  it('omits local-traffic rules without a cluster CIDR', () => {
    const lines = linesOf(m, UPSTREAM_OPTS, { ...TEST_NODE, clusterCIDR: '' });
    expect(lines.some((l) => l.includes('ip daddr 172.30.0.41'))).toBe(false);
    expect(lines.some((l) => l.includes('ip saddr != 10.0.0.0/8'))).toBe(false);
  });

  it('with NodePorts on all addresses, deletes nodeport-ips and matches local destinations', () => {
    const lines = linesOf(m, { ...UPSTREAM_OPTS, nodePortAddresses: 'all' });
    const setAdd = lines.indexOf(`add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`);
    expect(lines[setAdd + 1]).toBe(`delete set ${T} nodeport-ips`);
    expect(lines).toContain(
      `add rule ${T} services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports`,
    );
    expect(lines).toContain(`add rule ${T} nodeport-endpoints-check ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports`);
  });

  it('skips loopback NodePort addresses and rejects malformed ones', () => {
    const lines = linesOf(m, { ...UPSTREAM_OPTS, nodePortAddresses: ['127.0.0.1', '192.168.0.2', '192.168.1.2'] });
    expect(lines.filter((l) => l.startsWith(`add element ${T} nodeport-ips`))).toEqual([
      `add element ${T} nodeport-ips { 192.168.0.2 }`,
      `add element ${T} nodeport-ips { 192.168.1.2 }`,
    ]);
    expect(() => linesOf(m, { nodePortAddresses: ['nope'] })).toThrow(/nodePortAddresses/);
    expect(() => linesOf(m, { serviceCIDRs: ['10.0.0.0/33'] })).toThrow(/serviceCIDRs/);
  });
});

describe('v1.33 profile (post-dnat filter chains)', () => {
  const m: ClusterModel = {
    services: [svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [port('p80', 80)] })],
    endpointSlices: [tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.180.0.1')])],
  };
  const lines = linesOf(m, { ...UPSTREAM_OPTS, profile: 'v1.33' });

  it('uses the older base chains and jumps', () => {
    expect(lines).toContain(`add chain ${T} filter-prerouting { type filter hook prerouting priority -110 ; }`);
    expect(lines).toContain(`add chain ${T} filter-input { type filter hook input priority -110 ; }`);
    expect(lines).toContain(`add chain ${T} filter-output-post-dnat { type filter hook output priority -90 ; }`);
    expect(lines).toContain(`add rule ${T} filter-output-post-dnat ct state new jump cluster-ips-check`);
    expect(lines).toContain(`add rule ${T} filter-output ct state new jump firewall-check`);
    expect(lines.some((l) => l.includes('pre-dnat'))).toBe(false);
  });

  it('matches the port in the masquerade rule and flushes every map and set', () => {
    expect(lines).toContain(`add rule ${T} service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade`);
    for (const name of ['service-ips', 'firewall-ips', 'no-endpoint-services', 'no-endpoint-nodeports', 'service-nodeports']) {
      expect(lines).toContain(`flush map ${T} ${name}`);
    }
    expect(lines).toContain(`flush set ${T} cluster-ips`);
  });

  it('v1.34 flushes no map on a fresh table', () => {
    expect(linesOf(m).some((l) => l.startsWith('flush map'))).toBe(false);
  });
});
