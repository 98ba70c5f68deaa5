import { describe, expect, it } from 'vitest';
import { masqueradeMarkFor, probability, renderIptables, renderIptablesJumps } from '../../../src/dataplane/iptables/render.js';
import type { IptablesProgram } from '../../../src/dataplane/iptables/render.js';
import type { ClusterModel, Endpoint } from '../../../src/model/types.js';
import { FAKE_MARK, TEST_NODE, ep, port, slice, svc } from '../helpers.js';
import { normalise } from './normalise.js';

const render = (model: ClusterModel, opts: Parameters<typeof renderIptables>[2] = {}): IptablesProgram =>
  renderIptables(model, TEST_NODE, { masqueradeMark: FAKE_MARK, ...opts });

const rulesOf = (lines: readonly string[], chain: string): string[] => lines.filter((l) => l.startsWith(`-A ${chain} `));

const tcp = (name: string, p: number) => [{ name, protocol: 'TCP' as const, port: p }];

describe('TestSyncProxyRulesLargeClusterMode (upstream)', () => {
  // Upstream builds endpoint IPs as 10.0.(i%256).(i/256).
  const many = (prefix: string, n: number): Endpoint[] =>
    Array.from({ length: n }, (_, i) => ep(`${prefix}.${i % 256}.${Math.floor(i / 256)}`));
  const services = [
    svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [port('p80', 80)] }),
    svc('ns2', 'svc2', { clusterIP: '172.30.0.42', ports: [port('p8080', 8080)] }),
    svc('ns3', 'svc3', { clusterIP: '172.30.0.43', ports: [port('p8081', 8081)] }),
  ];
  const half = 1000 / 2 - 1;
  const base = [slice('ns1', 'svc1', 1, many('10.0', half), tcp('p80', 80)), slice('ns2', 'svc2', 1, many('10.1', half), tcp('p8080', 8080))];
  const dnat = (p: IptablesProgram): string[] => p.nat.filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes('-j DNAT'));

  it('keeps comments at or below the threshold', () => {
    const p = render({ services, endpointSlices: base }, { masqueradeAll: true });
    const lines = dnat(p);
    expect(p.largeClusterMode).toBe(false);
    expect(lines).toHaveLength(2 * half);
    expect(lines.filter((l) => l.includes('--comment'))).toHaveLength(2 * half);
    expect(lines).toContain('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80');
  });

  it('drops endpoint comments above it (upstream checks this after a forced full resync)', () => {
    const three = slice('ns3', 'svc3', 1, [ep('203.0.113.4'), ep('203.0.113.8'), ep('203.0.113.12')], tcp('p8081', 8081));
    const p = render({ services, endpointSlices: [...base, three] }, { masqueradeAll: true });
    const lines = dnat(p);
    expect(p.largeClusterMode).toBe(true);
    expect(lines).toHaveLength(2 * half + 3);
    expect(lines.filter((l) => l.includes('--comment'))).toHaveLength(0);
    expect(lines).toContain('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80');
    expect(lines).toContain('-A KUBE-SEP-RUVVH7YV3PHQBDOS -m tcp -p tcp -j DNAT --to-destination 203.0.113.4:8081');
    // Only per-endpoint comments go: the KUBE-SERVICES comments stay.
    expect(p.nat.some((l) => l.startsWith('-A KUBE-SERVICES -m comment --comment "ns3/svc3:p8081 cluster IP" '))).toBe(true);
    // masqueradeAll: the SVC chain masquerades unconditionally (no "! -s" pod-CIDR match).
    expect(p.nat.filter((l) => l.startsWith('-A KUBE-SVC-') && l.endsWith('-j KUBE-MARK-MASQ')).every((l) => !l.includes('! -s'))).toBe(true);
  });
});

describe('TestSyncProxyRulesRepeated, first sync (upstream)', () => {
  // This expectation is from the upstream version of the test that predates the
  // nfacct counters, so it is rendered with nfacct off.
  const expected = `*filter
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-SNQ3ZNILQDEJNDQO - [0:0]
:KUBE-SEP-UHEGFW77JX3KXTOV - [0:0]
:KUBE-SVC-2VJB64SDSIJUP5T6 - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p8080 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 8080 -j KUBE-SVC-2VJB64SDSIJUP5T6
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80
-A KUBE-SEP-UHEGFW77JX3KXTOV -m comment --comment ns2/svc2:p8080 -s 10.0.2.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-UHEGFW77JX3KXTOV -m comment --comment ns2/svc2:p8080 -m tcp -p tcp -j DNAT --to-destination 10.0.2.1:8080
-A KUBE-SVC-2VJB64SDSIJUP5T6 -m comment --comment "ns2/svc2:p8080 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 8080 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-2VJB64SDSIJUP5T6 -m comment --comment "ns2/svc2:p8080 -> 10.0.2.1:8080" -j KUBE-SEP-UHEGFW77JX3KXTOV
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.0.1.1:80" -j KUBE-SEP-SNQ3ZNILQDEJNDQO
COMMIT
`;
  it('matches', () => {
    const p = render(
      {
        services: [
          svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [port('p80', 80)] }),
          svc('ns2', 'svc2', { clusterIP: '172.30.0.42', ports: [port('p8080', 8080)] }),
        ],
        endpointSlices: [slice('ns1', 'svc1', 1, [ep('10.0.1.1')], tcp('p80', 80)), slice('ns2', 'svc2', 1, [ep('10.0.2.1')], tcp('p8080', 8080))],
      },
      { nfacct: false },
    );
    expect(normalise(p.payload)).toBe(expected);
  });
});

describe('no endpoints → REJECT (upstream TestNoEndpointsReject inputs)', () => {
  // Upstream checks this with packet-flow simulation; we pin the rules that
  // produce REJECT for each of its six flows.
  const p = render({
    services: [
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.41',
        externalIPs: ['192.168.99.11'],
        loadBalancerIngressIPs: ['1.2.3.4'],
        ports: [port('p80', 80, { nodePort: 3001 })],
      }),
    ],
    endpointSlices: [],
  });
  it('rejects cluster IP, external IP, NodePort and LB IP in filter, and writes no nat chains', () => {
    expect(rulesOf(p.filter, 'KUBE-SERVICES')).toEqual([
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j REJECT',
    ]);
    expect(rulesOf(p.filter, 'KUBE-EXTERNAL-SERVICES')).toEqual([
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j REJECT',
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j REJECT',
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j REJECT',
    ]);
    expect(p.nat.filter((l) => l.includes('ns1/svc1'))).toEqual([]);
    expect(p.nat.filter((l) => l.startsWith(':')).length).toBe(4);
  });
});

describe('LoadBalancer source ranges (upstream TestLoadBalancer inputs)', () => {
  const p = render({
    services: [
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.41',
        loadBalancerIngressIPs: ['1.2.3.4', '5.6.7.8'],
        // Whitespace is ignored, as upstream's regression case checks.
        loadBalancerSourceRanges: ['192.168.0.0/24', ' 203.0.113.0/25'],
        ports: [port('p80', 80, { nodePort: 3001 })],
      }),
    ],
    endpointSlices: [slice('ns1', 'svc1', 1, [ep('10.180.0.1')], tcp('p80', 80))],
  });
  it('allows the ranges, and the LB IPs themselves because the node IP is in a range', () => {
    expect(rulesOf(p.nat, 'KUBE-FW-XPGD46QRK7WJZT7O')).toEqual([
      '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 192.168.0.0/24 -j KUBE-EXT-XPGD46QRK7WJZT7O',
      '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-XPGD46QRK7WJZT7O',
      '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 1.2.3.4 -j KUBE-EXT-XPGD46QRK7WJZT7O',
      '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 5.6.7.8 -j KUBE-EXT-XPGD46QRK7WJZT7O',
      '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "other traffic to ns1/svc1:p80 will be dropped by KUBE-PROXY-FIREWALL"',
    ]);
    expect(rulesOf(p.filter, 'KUBE-PROXY-FIREWALL')).toEqual([
      '-A KUBE-PROXY-FIREWALL -m comment --comment "ns1/svc1:p80 traffic not accepted by KUBE-FW-XPGD46QRK7WJZT7O" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP',
      '-A KUBE-PROXY-FIREWALL -m comment --comment "ns1/svc1:p80 traffic not accepted by KUBE-FW-XPGD46QRK7WJZT7O" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP',
    ]);
    // LB VIPs go through the firewall chain; the NodePort bypasses it.
    expect(p.nat.filter((l) => l.includes('loadbalancer IP" -m tcp'))).toHaveLength(2);
    expect(rulesOf(p.nat, 'KUBE-NODEPORTS').at(-1)).toBe('-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-XPGD46QRK7WJZT7O');
  });
});

describe('externalTrafficPolicy Local with a local endpoint', () => {
  const p = render({
    services: [
      svc('ns2', 'svc2', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '172.30.0.42',
        loadBalancerIngressIPs: ['1.2.3.4'],
        healthCheckNodePort: 30000,
        ports: [port('p80', 80, { nodePort: 3001 })],
      }),
    ],
    endpointSlices: [slice('ns2', 'svc2', 1, [ep('10.180.0.2', { nodeName: 'test-node' }), ep('10.180.2.1', { nodeName: 'node2' })], tcp('p80', 80))],
  });
  const h = 'GNZBNJ2PO5MGZ6GT';
  it('sends external traffic to KUBE-SVL (local endpoints only) and internal to KUBE-SVC', () => {
    expect(rulesOf(p.nat, `KUBE-EXT-${h}`)).toEqual([
      `-A KUBE-EXT-${h} -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-${h}`,
      `-A KUBE-EXT-${h} -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-${h} -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-${h}`,
      `-A KUBE-EXT-${h} -j KUBE-SVL-${h}`,
    ]);
    const svl = rulesOf(p.nat, `KUBE-SVL-${h}`);
    expect(svl).toHaveLength(1);
    expect(svl[0]).toMatch(/^-A KUBE-SVL-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2\/svc2:p80 -> 10\.180\.0\.2:80" -j KUBE-SEP-/);
    expect(rulesOf(p.nat, `KUBE-SVC-${h}`)).toHaveLength(3);
    expect(rulesOf(p.filter, 'KUBE-NODEPORTS')).toEqual([
      '-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT',
    ]);
    expect(rulesOf(p.filter, 'KUBE-EXTERNAL-SERVICES')).toEqual([]);
    // Both endpoints are reachable (cluster policy for internal traffic): two SEP chains.
    expect(p.nat.filter((l) => l.startsWith(':KUBE-SEP-'))).toHaveLength(2);
  });
});

describe('internalTrafficPolicy Local without local endpoints', () => {
  it('drops cluster-IP traffic in filter rather than rejecting it', () => {
    const p = render({
      services: [svc('ns1', 'svc1', { clusterIP: '172.30.0.41', internalTrafficPolicy: 'Local', ports: [port('p80', 80)] })],
      endpointSlices: [slice('ns1', 'svc1', 1, [ep('10.180.2.1', { nodeName: 'node2' })], tcp('p80', 80))],
    });
    expect(rulesOf(p.filter, 'KUBE-SERVICES')).toEqual([
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no local endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j DROP',
    ]);
    expect(p.nat.filter((l) => l.includes('ns1/svc1'))).toEqual([]);
  });
});

describe('terminating endpoints', () => {
  it('fall back to serving-terminating endpoints when none is ready, never to non-serving ones', () => {
    const p = render({
      services: [svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [port('p80', 80)] })],
      endpointSlices: [
        slice('ns1', 'svc1', 1, [
          ep('10.0.1.1', { ready: false, serving: true, terminating: true }),
          ep('10.0.1.2', { ready: false, serving: true, terminating: true }),
          ep('10.0.1.3', { ready: false, serving: false, terminating: true }),
          ep('10.0.1.4', { ready: false, serving: false, terminating: false }),
        ], tcp('p80', 80)),
      ],
    });
    const svcRules = p.nat.filter((l) => l.startsWith('-A KUBE-SVC-') && l.includes(' -> '));
    expect(svcRules.map((l) => /-> ([0-9.:]+)"/.exec(l)?.[1])).toEqual(['10.0.1.1:80', '10.0.1.2:80']);
    expect(svcRules[0]).toContain('--probability 0.5000000000');
  });

  it('are ignored while a ready endpoint exists', () => {
    const p = render({
      services: [svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [port('p80', 80)] })],
      endpointSlices: [slice('ns1', 'svc1', 1, [ep('10.0.1.1', { ready: false, serving: true, terminating: true }), ep('10.0.1.2')], tcp('p80', 80))],
    });
    expect(p.nat.filter((l) => l.startsWith(':KUBE-SEP-'))).toHaveLength(1);
  });
});

describe('session affinity and the probability cascade', () => {
  it('writes all recent-checks before the cascade, in endpoint order', () => {
    const p = render({
      services: [svc('ns1', 'svc1', { clusterIP: '172.30.0.41', sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 300, ports: [port('', 80)] })],
      endpointSlices: [slice('ns1', 'svc1', 1, [ep('10.0.1.3'), ep('10.0.1.1'), ep('10.0.1.2')], tcp('', 80))],
    });
    const rules = p.nat.filter((l) => l.startsWith('-A KUBE-SVC-') && l.includes(' -> '));
    // Unnamed port: the name has no ":port" suffix.
    expect(rules.every((l) => l.includes('--comment "ns1/svc1 -> '))).toBe(true);
    expect(rules.map((l) => (l.includes('--rcheck') ? 'recent' : (/--probability (\S+)/.exec(l)?.[1] ?? 'last')))).toEqual([
      'recent', 'recent', 'recent', '0.3333333333', '0.5000000000', 'last',
    ]);
    expect(rules[0]).toContain('--rcheck --seconds 300 --reap');
    const dnat = p.nat.filter((l) => l.includes('-j DNAT'));
    expect(dnat.every((l) => /-m recent --name KUBE-SEP-\w{16} --set -m tcp -p tcp -j DNAT/.test(l))).toBe(true);
  });

  it('formats probabilities like Go %0.10f, including its half-to-even tie', () => {
    expect(probability(3)).toBe('0.3333333333');
    expect(probability(7)).toBe('0.1428571429');
    expect(probability(1000)).toBe('0.0010000000');
    // 1/2048 = 0.00048828125 exactly: Go rounds to even, JS toFixed would give ...813.
    expect(probability(2048)).toBe('0.0004882812');
  });
});

describe('options', () => {
  const model: ClusterModel = {
    services: [svc('ns1', 'svc1', { type: 'NodePort', clusterIP: '172.30.0.41', ports: [port('p80', 80, { nodePort: 3001 })] })],
    endpointSlices: [slice('ns1', 'svc1', 1, [ep('10.180.0.1')], tcp('p80', 80))],
  };

  it('formats the default mark as Go %#08x does', () => {
    expect(masqueradeMarkFor(14)).toBe('0x00004000');
    const p = renderIptables(model, TEST_NODE);
    expect(p.nat).toContain('-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000');
  });

  it('localhost NodePorts off: no KUBE-FIREWALL, no localhost rule, loopback excluded (upstream TestNodePorts)', () => {
    const p = render(model, { localhostNodePorts: false });
    expect(p.filter.some((l) => l.includes('KUBE-FIREWALL'))).toBe(false);
    expect(rulesOf(p.nat, 'KUBE-NODEPORTS')).toEqual(['-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-XPGD46QRK7WJZT7O']);
    expect(p.nat).toContain(
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS',
    );
  });

  it('--nodeport-addresses: one jump per node IP, localhost NodePorts forced off without a loopback address', () => {
    const p = render(model, { nodePortIPs: ['192.168.0.2', '192.168.1.2'] });
    expect(rulesOf(p.nat, 'KUBE-SERVICES').slice(-2)).toEqual([
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 192.168.0.2 -j KUBE-NODEPORTS',
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 192.168.1.2 -j KUBE-NODEPORTS',
    ]);
    expect(p.filter.some((l) => l.includes('KUBE-FIREWALL'))).toBe(false);
  });

  it('random-fully, liberal conntrack, no nfacct, no cluster CIDR', () => {
    const p = renderIptables(model, { ...TEST_NODE, clusterCIDR: '' }, { randomFully: true, conntrackTCPLiberal: true, nfacct: false });
    expect(p.nat).toContain('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
    expect(p.filter.some((l) => l.includes('INVALID'))).toBe(false);
    expect(p.payload.includes('nfacct')).toBe(false);
    // Without local-traffic detection the SVC chain has no masquerade rule at all.
    expect(p.nat.filter((l) => l.startsWith('-A KUBE-SVC-'))).toHaveLength(1);
  });
});

describe('jumps from built-in chains', () => {
  it('lists upstream’s EnsureRule jumps in order, as argv', () => {
    const jumps = renderIptablesJumps();
    expect(jumps).toHaveLength(14);
    expect(jumps[0]).toEqual({
      table: 'filter',
      chain: 'INPUT',
      target: 'KUBE-EXTERNAL-SERVICES',
      args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES'],
    });
    expect(jumps.filter((j) => j.table === 'nat').map((j) => `${j.chain}->${j.target}`)).toEqual([
      'OUTPUT->KUBE-SERVICES',
      'PREROUTING->KUBE-SERVICES',
      'POSTROUTING->KUBE-POSTROUTING',
    ]);
    expect(jumps.at(-1)).toEqual({ table: 'filter', chain: 'OUTPUT', target: 'KUBE-FIREWALL', args: ['-j', 'KUBE-FIREWALL'] });
  });
});

describe('externalTrafficPolicy Local on a ClusterIP service with externalIPs (apiservice.ExternalPolicyLocal)', () => {
  const model = (endpoints: Endpoint[]): ClusterModel => ({
    services: [
      svc('ns1', 'svc1', { clusterIP: '172.30.0.41', externalIPs: ['192.168.99.11'], externalTrafficPolicy: 'Local', ports: [port('p80', 80)] }),
    ],
    endpointSlices: [slice('ns1', 'svc1', 1, endpoints, tcp('p80', 80))],
  });

  it('drops external-IP traffic when no endpoint is local, but keeps the cluster IP working', () => {
    const p = render(model([ep('10.180.0.1', { nodeName: 'other-node' })]));
    expect(rulesOf(p.filter, 'KUBE-EXTERNAL-SERVICES')).toEqual([
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j DROP',
    ]);
    const ext = p.nat.filter((l) => l.startsWith('-A KUBE-EXT-'));
    // Local policy: pods and the host are short-circuited to the cluster chain, nothing is masqueraded wholesale.
    expect(ext.some((l) => l.includes('pod traffic for ns1/svc1:p80 external destinations'))).toBe(true);
    expect(ext.some((l) => l.includes('"masquerade traffic for ns1/svc1:p80 external destinations"'))).toBe(false);
    expect(rulesOf(p.nat, 'KUBE-SERVICES').some((l) => l.includes('cluster IP') && l.includes('-j KUBE-SVC-'))).toBe(true);
  });

  it('sends external-IP traffic to the local endpoint chain when there is one', () => {
    const p = render(model([ep('10.180.0.1', { nodeName: 'test-node' }), ep('10.180.0.2', { nodeName: 'other-node' })]));
    const ext = p.nat.filter((l) => l.startsWith('-A KUBE-EXT-'));
    expect(ext[ext.length - 1]).toMatch(/-j KUBE-SVL-/);
    expect(p.nat.filter((l) => l.startsWith('-A KUBE-SVL-') && l.includes('-j KUBE-SEP-'))).toHaveLength(1);
  });
});
