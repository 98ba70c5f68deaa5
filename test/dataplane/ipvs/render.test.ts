// IPVS-mode renderer against upstream pkg/proxy/ipvs/proxier_test.go: its
// inputs rewritten as models, its expectations (virtual servers, real servers,
// ipset entries, and the ordered set-matching jumps of checkIptables) as data.
import { describe, expect, it } from 'vitest';
import type { IpvsProgram } from '../../../src/dataplane/ipvs/index.js';
import { formatIpvsadmRestore, formatIpvsProgram, IPSETS, renderIpvs, renderIpvsJumps } from '../../../src/dataplane/ipvs/index.js';
import { InputError } from '../../../src/errors.js';
import type { ClusterModel } from '../../../src/model/types.js';
import { FAKE_MARK, TEST_NODE, ep, overallModel, port, slice, svc, tcpSlice } from '../helpers.js';

const render = (m: ClusterModel, opts: Parameters<typeof renderIpvs>[2] = {}): IpvsProgram =>
  renderIpvs(m, TEST_NODE, { masqueradeMark: FAKE_MARK, ...opts });

const entries = (p: IpvsProgram, name: string): readonly string[] => p.ipsets.find((s) => s.name === name)?.entries ?? [];
const nonEmptySets = (p: IpvsProgram): Record<string, readonly string[]> =>
  Object.fromEntries(p.ipsets.filter((s) => s.entries.length > 0).map((s) => [s.name, s.entries]));

/** Like upstream checkIptables: per chain, the (jump target, matched set) of each rule, in order. */
function jumps(p: IpvsProgram, chain: string, table: 'nat' | 'filter' = 'nat'): Array<{ jump: string; set: string }> {
  const [nat = '', filter = ''] = p.iptablesRestore.split('*filter\n');
  return (table === 'nat' ? nat : filter)
    .split('\n')
    .filter((l) => l.startsWith(`-A ${chain} `) && l.includes(' -j '))
    .filter((l) => !l.includes('-s 127.0.0.0/8'))
    .map((l) => ({ jump: /-j (\S+)/.exec(l)?.[1] ?? '', set: /--match-set (\S+)/.exec(l)?.[1] ?? '' }));
}

const vsOf = (p: IpvsProgram, ip: string, portNum: number) => p.virtualServers.find((v) => v.address === ip && v.port === portNum);

describe('TestLoadBalancerSourceRanges (upstream)', () => {
  const p = render({
    services: [
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        clusterIP: '10.20.30.41',
        ports: [port('p80', 80)],
        loadBalancerIngressIPs: ['1.2.3.4'],
        loadBalancerSourceRanges: ['10.0.0.0/8'],
      }),
    ],
    endpointSlices: [tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.180.0.1')])],
  });

  it('creates the cluster IP and LB virtual servers with the endpoint', () => {
    expect(p.virtualServers).toHaveLength(2);
    expect(vsOf(p, '1.2.3.4', 80)?.realServers).toEqual([{ address: '10.180.0.1', port: 80, weight: 1 }]);
  });

  it('fills the LB, FW and source-CIDR sets', () => {
    expect(entries(p, 'KUBE-LOAD-BALANCER')).toEqual(['1.2.3.4,tcp:80']);
    expect(entries(p, 'KUBE-LOAD-BALANCER-FW')).toEqual(['1.2.3.4,tcp:80']);
    expect(entries(p, 'KUBE-LOAD-BALANCER-SOURCE-CIDR')).toEqual(['1.2.3.4,tcp:80,10.0.0.0/8']);
    // The node (192.168.0.2) is outside 10.0.0.0/8: no source-IP allowance, and node access is dropped.
    expect(entries(p, 'KUBE-LOAD-BALANCER-SOURCE-IP')).toEqual([]);
    expect(p.iptablesRestore).toContain('-A KUBE-IPVS-OUT-FILTER -s 1.2.3.4 -m ipvs --vaddr 1.2.3.4 --vproto tcp --vport 80 -j DROP\n');
  });

  it('writes the jumps upstream checks, in order', () => {
    expect(jumps(p, 'KUBE-SERVICES')).toEqual([
      { jump: 'KUBE-LOAD-BALANCER', set: 'KUBE-LOAD-BALANCER' },
      { jump: 'KUBE-MARK-MASQ', set: 'KUBE-CLUSTER-IP' },
      { jump: 'KUBE-NODE-PORT', set: '' },
      { jump: 'ACCEPT', set: 'KUBE-CLUSTER-IP' },
      { jump: 'ACCEPT', set: 'KUBE-LOAD-BALANCER' },
    ]);
    expect(jumps(p, 'KUBE-PROXY-FIREWALL', 'filter')).toEqual([{ jump: 'KUBE-SOURCE-RANGES-FIREWALL', set: 'KUBE-LOAD-BALANCER-FW' }]);
    expect(jumps(p, 'KUBE-SOURCE-RANGES-FIREWALL', 'filter')).toEqual([
      { jump: 'RETURN', set: 'KUBE-LOAD-BALANCER-SOURCE-CIDR' },
      { jump: 'DROP', set: '' },
    ]);
  });

  it('allows node-originated traffic when the node is inside a source range', () => {
    const q = renderIpvs(
      { services: [svc('ns1', 'svc1', { type: 'LoadBalancer', clusterIP: '10.20.30.41', ports: [port('p80', 80)], loadBalancerIngressIPs: ['1.2.3.4'], loadBalancerSourceRanges: ['192.168.0.0/24'] })], endpointSlices: [] },
      TEST_NODE,
    );
    expect(entries(q, 'KUBE-LOAD-BALANCER-SOURCE-IP')).toEqual(['1.2.3.4,tcp:80,1.2.3.4']);
    expect(q.iptablesRestore).not.toContain('KUBE-IPVS-OUT-FILTER -s');
  });
});

describe('TestAcceptIPVSTraffic (upstream)', () => {
  const types = [
    { type: 'ClusterIP' as const, ip: '10.20.30.40', name: 'svc1' },
    { type: 'LoadBalancer' as const, ip: '10.20.30.41', name: 'svc2' },
    { type: 'NodePort' as const, ip: '10.20.30.42', name: 'svc3' },
  ];
  const p = render({
    services: types.map((t) =>
      svc('ns1', t.name, {
        type: t.type,
        clusterIP: t.ip,
        ports: [port('p80', 80, { nodePort: 80 })],
        loadBalancerIngressIPs: t.type === 'LoadBalancer' ? ['1.2.3.4'] : [],
        externalIPs: t.type === 'ClusterIP' ? ['5.6.7.8'] : [],
      }),
    ),
    endpointSlices: [],
  });
  it('accepts IPVS traffic at the end of KUBE-SERVICES, after the external-IP accepts', () => {
    expect(jumps(p, 'KUBE-SERVICES')).toEqual([
      { jump: 'KUBE-LOAD-BALANCER', set: 'KUBE-LOAD-BALANCER' },
      { jump: 'KUBE-MARK-MASQ', set: 'KUBE-CLUSTER-IP' },
      { jump: 'KUBE-MARK-MASQ', set: 'KUBE-EXTERNAL-IP' },
      { jump: 'ACCEPT', set: 'KUBE-EXTERNAL-IP' },
      { jump: 'ACCEPT', set: 'KUBE-EXTERNAL-IP' },
      { jump: 'KUBE-NODE-PORT', set: '' },
      { jump: 'ACCEPT', set: 'KUBE-CLUSTER-IP' },
      { jump: 'ACCEPT', set: 'KUBE-LOAD-BALANCER' },
    ]);
  });
});

describe('TestOnlyLocalLoadBalancing (upstream)', () => {
  const p = render({
    services: [
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        clusterIP: '10.20.30.41',
        ports: [port('p80', 80, { nodePort: 3001 })],
        loadBalancerIngressIPs: ['1.2.3.4'],
        externalTrafficPolicy: 'Local',
      }),
    ],
    endpointSlices: [tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.180.0.1', { nodeName: 'test-node' }), ep('10.180.1.1', { nodeName: 'other-hostname' })])],
  });
  it('gives the LB VIP only the local endpoint', () => {
    expect(vsOf(p, '1.2.3.4', 80)?.realServers).toEqual([{ address: '10.180.0.1', port: 80, weight: 1 }]);
    // The cluster IP is not subject to ETP: both endpoints.
    expect(vsOf(p, '10.20.30.41', 80)?.realServers.map((r) => r.address)).toEqual(['10.180.0.1', '10.180.1.1']);
  });
  it('marks the VIP and node port local', () => {
    expect(entries(p, 'KUBE-LOAD-BALANCER')).toEqual(['1.2.3.4,tcp:80']);
    expect(entries(p, 'KUBE-LOAD-BALANCER-LOCAL')).toEqual(['1.2.3.4,tcp:80']);
    expect(entries(p, 'KUBE-NODE-PORT-LOCAL-TCP')).toEqual(['3001']);
    expect(jumps(p, 'KUBE-LOAD-BALANCER')).toEqual([
      { jump: 'RETURN', set: 'KUBE-LOAD-BALANCER-LOCAL' },
      { jump: 'KUBE-MARK-MASQ', set: '' },
    ]);
    // Local before plain, so RETURN wins for Local node ports.
    expect(jumps(p, 'KUBE-NODE-PORT')).toEqual([
      { jump: 'RETURN', set: 'KUBE-NODE-PORT-LOCAL-TCP' },
      { jump: 'KUBE-MARK-MASQ', set: 'KUBE-NODE-PORT-TCP' },
    ]);
  });
  it('falls back to cluster endpoints when none is local (kubernetes#97081), unlike iptables mode', () => {
    const q = render({
      services: [svc('ns1', 'svc1', { type: 'LoadBalancer', clusterIP: '10.20.30.41', ports: [port('p80', 80)], loadBalancerIngressIPs: ['1.2.3.4'], externalTrafficPolicy: 'Local' })],
      endpointSlices: [tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.180.1.1', { nodeName: 'other-hostname' })])],
    });
    expect(vsOf(q, '1.2.3.4', 80)?.realServers.map((r) => r.address)).toEqual(['10.180.1.1']);
  });
});

describe('the overall upstream model (TestOverallIPTablesRules inputs) in IPVS mode', () => {
  const p = render(overallModel());

  it('binds cluster, external and LB IPs to kube-ipvs0 and lists them in KUBE-IPVS-IPS', () => {
    expect(p.addresses).toEqual(['172.30.0.41', '172.30.0.42', '192.168.99.22', '1.2.3.4', '172.30.0.43', '172.30.0.44', '192.168.99.33', '172.30.0.45', '5.6.7.8', '172.30.0.46']);
    expect(entries(p, 'KUBE-IPVS-IPS')).toEqual([...p.addresses].sort());
    expect(p.ipBatch.split('\n')[0]).toBe('link add kube-ipvs0 type dummy');
    expect(p.ipBatch).toContain('addr add 172.30.0.41/32 dev kube-ipvs0\n');
  });

  it('fills every set as upstream would', () => {
    expect(nonEmptySets(p)).toEqual({
      // 10.180.0.5 is the only endpoint on test-node.
      'KUBE-LOOP-BACK': ['10.180.0.5,tcp:80,10.180.0.5'],
      'KUBE-CLUSTER-IP': ['172.30.0.41,tcp:80', '172.30.0.42,tcp:80', '172.30.0.43,tcp:80', '172.30.0.44,tcp:80', '172.30.0.45,tcp:80', '172.30.0.46,tcp:80'],
      'KUBE-EXTERNAL-IP': ['192.168.99.33,tcp:80'],
      'KUBE-EXTERNAL-IP-LOCAL': ['192.168.99.22,tcp:80'],
      'KUBE-LOAD-BALANCER': ['1.2.3.4,tcp:80', '5.6.7.8,tcp:80'],
      'KUBE-LOAD-BALANCER-FW': ['5.6.7.8,tcp:80'],
      'KUBE-LOAD-BALANCER-LOCAL': ['1.2.3.4,tcp:80'],
      'KUBE-LOAD-BALANCER-SOURCE-CIDR': ['5.6.7.8,tcp:80,203.0.113.0/25'],
      'KUBE-NODE-PORT-TCP': ['3001', '3002', '3003'],
      'KUBE-NODE-PORT-LOCAL-TCP': ['3001'],
      // svc5 is ETP Cluster, so upstream does not give it a health check port.
      'KUBE-HEALTH-CHECK-NODE-PORT': ['30000'],
      'KUBE-IPVS-IPS': ['1.2.3.4', '172.30.0.41', '172.30.0.42', '172.30.0.43', '172.30.0.44', '172.30.0.45', '172.30.0.46', '192.168.99.22', '192.168.99.33', '5.6.7.8'],
    });
    expect(p.ipsets.map((s) => s.name)).toEqual(IPSETS.map((s) => s.name));
  });

  it('writes ipvsadm-restore with persistence for ClientIP affinity and node-port servers on the node IP', () => {
    const lines = p.ipvsadmRestore.split('\n');
    expect(lines).toContain('-A -t 172.30.0.45:80 -s rr -p 10800');
    expect(lines).toContain('-a -t 172.30.0.45:80 -r 10.180.0.3:80 -m -w 1');
    expect(lines).toContain('-A -t 192.168.0.2:3002 -s rr -p 10800');
    expect(lines).toContain('-A -t 172.30.0.41:80 -s rr');
    // svc2 (ETP Local, no local endpoint) falls back to its remote endpoint on the node port.
    expect(lines).toContain('-a -t 192.168.0.2:3001 -r 10.180.0.2:80 -m -w 1');
    // svc6 has no endpoints: a virtual server without real servers.
    expect(lines).toContain('-A -t 172.30.0.46:80 -s rr');
    expect(lines.filter((l) => l.startsWith('-a -t 172.30.0.46:80'))).toEqual([]);
    // 6 cluster IPs, 2 external IPs, 2 LB IPs, 3 node ports on the one node IP.
    expect(p.counts.virtualServers).toBe(13);
  });

  it('writes the iptables payload in upstream order: nat then filter', () => {
    const text = p.iptablesRestore;
    expect(text.startsWith('*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-NODE-PORT - [0:0]\n:KUBE-LOAD-BALANCER - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN\n')).toBe(true);
    expect(text).toContain(
      '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE\n',
    );
    expect(text).toContain('-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n');
    expect(text).toContain('-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ\n');
    expect(text).toContain('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT\n');
    expect(text).toContain('-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT\n');
    expect(text.endsWith('-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT\nCOMMIT\n')).toBe(true);
    expect(text.indexOf('*filter')).toBeGreaterThan(text.indexOf('COMMIT'));
  });

  it('labels the four parts in the CLI form', () => {
    const text = formatIpvsProgram(p);
    for (const h of ['# kube-ipvs0 addresses', '# ipsets', '# iptables', '# IPVS virtual and real servers']) expect(text).toContain(h);
  });
});

describe('details', () => {
  it('masquerades VIP-sourced traffic when no cluster CIDR is known, and everything with --masquerade-all', () => {
    const m: ClusterModel = { services: [svc('ns1', 'svc1', { clusterIP: '10.20.30.41', ports: [port('p80', 80)] })], endpointSlices: [] };
    expect(renderIpvs(m, { ...TEST_NODE, clusterCIDR: '' }).iptablesRestore).toContain('--match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ');
    expect(render(m, { masqueradeAll: true }).iptablesRestore).toContain('--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ');
    // Real kube-proxy formats the mark with %#08x.
    expect(renderIpvs(m, TEST_NODE).iptablesRestore).toContain('-j MARK --or-mark 0x00004000');
  });

  it('uses hash:ip,port node-port sets for SCTP, one entry per node IP', () => {
    const m: ClusterModel = {
      services: [svc('ns1', 's', { type: 'NodePort', clusterIP: '10.20.30.41', ports: [port('p', 7777, { protocol: 'SCTP', nodePort: 30007 })] })],
      endpointSlices: [slice('ns1', 's', 1, [ep('10.180.0.1')], [{ name: 'p', protocol: 'SCTP', port: 7777 }])],
    };
    const p = render(m, { nodePortIPs: ['192.168.0.2', '192.168.1.2'] });
    expect(entries(p, 'KUBE-NODE-PORT-SCTP-HASH')).toEqual(['192.168.0.2,sctp:30007', '192.168.1.2,sctp:30007']);
    expect(p.ipvsadmRestore).toContain('-A --sctp-service 192.168.1.2:30007 -s rr\n');
    expect(p.iptablesRestore).toContain('-A KUBE-NODE-PORT -p sctp -m comment');
  });

  it('does not bind an external IP the node already owns', () => {
    const m: ClusterModel = { services: [svc('ns1', 's', { clusterIP: '10.20.30.41', externalIPs: ['192.168.0.2'], ports: [port('p', 80)] })], endpointSlices: [] };
    expect(render(m).addresses).toEqual(['10.20.30.41']);
  });

  it('honours internalTrafficPolicy Local on the cluster IP', () => {
    const p = render({
      services: [svc('ns1', 's', { clusterIP: '10.20.30.41', internalTrafficPolicy: 'Local', ports: [port('p', 80)] })],
      endpointSlices: [tcpSlice('ns1', 's', 'p', 80, [ep('10.180.0.1', { nodeName: 'test-node' }), ep('10.180.0.2')])],
    });
    expect(vsOf(p, '10.20.30.41', 80)?.realServers.map((r) => r.address)).toEqual(['10.180.0.1']);
  });

  it('sets mh-port for the mh scheduler', () => {
    const vs = [{ protocol: 'UDP' as const, address: '10.0.0.1', port: 53, scheduler: 'mh', persistentTimeout: 0, schedFlags: ['mh-port'], realServers: [], role: 'cluster-ip' as const, servicePort: 'a/b' }];
    expect(formatIpvsadmRestore(vs)).toBe('-A -u 10.0.0.1:53 -s mh -b mh-port\n');
    const p = render({ services: [svc('ns1', 's', { clusterIP: '10.20.30.41', ports: [port('p', 80)] })], endpointSlices: [] }, { scheduler: 'mh' });
    expect(p.ipvsadmRestore).toBe('-A -t 10.20.30.41:80 -s mh -b mh-port\n');
  });

  it('rejects a bad node-port address with an InputError', () => {
    expect(() => render(overallModel(), { nodePortIPs: ['not-an-ip'] })).toThrow(InputError);
  });

  it('returns the built-in chain jumps kube-proxy prepends', () => {
    const j = renderIpvsJumps();
    expect(j).toHaveLength(9);
    expect(j[0]).toEqual({ table: 'nat', chain: 'OUTPUT', target: 'KUBE-SERVICES', args: ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] });
  });
});
