import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base32Prefix,
  buildProxyState,
  categorizeEndpoints,
  compareEndpoints,
  endpointChainHash,
  endpointHash,
  endpointsOf,
  portProtoHash,
  servicePortChainHash,
  servicePortNameString,
  servicePortsOf,
} from '../../../src/dataplane/proxy/index.js';
import type { EndpointInfo, ProxyNode, ServicePortInfo } from '../../../src/dataplane/proxy/index.js';
import { parseCIDRv4Sloppy, parseIPv4 } from '../../../src/model/ip.js';
import { DEFAULT_NODE_CONTEXT } from '../../../src/model/types.js';
import type { NodeContext } from '../../../src/model/types.js';
import { ep, port, slice, svc } from '../helpers.js';

const NODE: NodeContext = { ...DEFAULT_NODE_CONTEXT, nodeName: 'test-node' };

describe('chain hashes', () => {
  // Chain names below are taken from upstream's TestOverallIPTablesRules expectations.
  it('matches upstream service-port hashes', () => {
    expect(portProtoHash('ns1/svc1:p80', 'tcp')).toBe('XPGD46QRK7WJZT7O');
    expect(portProtoHash('ns2/svc2:p80', 'tcp')).toBe('GNZBNJ2PO5MGZ6GT');
    expect(portProtoHash('ns5/svc5:p80', 'tcp')).toBe('NUKIZ6OKUXPJNT4C');
  });
  it('matches upstream endpoint hashes', () => {
    expect(endpointHash('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('SXIVWICOYRO3J4NJ');
    expect(endpointHash('ns4/svc4:p80', 'tcp', '10.180.0.5:80')).toBe('C6EBXVWJJZMIWKLZ');
  });
  it('encodes base32 like RFC 4648', () => {
    expect(base32Prefix(new TextEncoder().encode('foobar'), 10)).toBe('MZXW6YTBOI');
    expect(base32Prefix(new TextEncoder().encode('f'), 2)).toBe('MY');
  });
});

describe('service ports', () => {
  it('omits ":port" for an unnamed port', () => {
    expect(servicePortNameString('ns', 'svc', '')).toBe('ns/svc');
    expect(servicePortNameString('ns', 'svc', 'http')).toBe('ns/svc:http');
  });

  it('skips headless, ExternalName, IP-less and IPv6-only services', () => {
    const skipped = [
      svc('ns', 'headless', { clusterIP: 'None', ports: [port('p', 80)] }),
      svc('ns', 'none', { clusterIP: '', ports: [port('p', 80)] }),
      svc('ns', 'ext', { type: 'ExternalName', clusterIP: '172.30.0.1', ports: [port('p', 80)] }),
      svc('ns', 'v6', { clusterIP: 'fd00::1', clusterIPs: ['fd00::1'], ipFamilies: ['IPv6'], ports: [port('p', 80)] }),
    ];
    for (const s of skipped) expect(servicePortsOf(s)).toEqual([]);
  });

  it('uses the IPv4 member of a dual-stack service and drops other-family IPs', () => {
    const [sp] = servicePortsOf(
      svc('ns', 'ds', {
        clusterIP: 'fd00::1',
        clusterIPs: ['fd00::1', '172.30.0.9'],
        ipFamilies: ['IPv6', 'IPv4'],
        externalIPs: ['192.168.99.1', '2001:db8::5', 'garbage'],
        loadBalancerIngressIPs: ['1.2.3.4', '2001:db8::6'],
        loadBalancerSourceRanges: [' 203.0.113.7/25', '2001:db8::/64', 'junk'],
        ports: [port('p', 80)],
      }),
    );
    expect(sp?.clusterIP).toBe('172.30.0.9');
    expect(sp?.externalIPs).toEqual(['192.168.99.1']);
    expect(sp?.loadBalancerVIPs).toEqual(['1.2.3.4']);
    // Trimmed and masked like Go's ParseCIDR + IPNet.String().
    expect(sp?.loadBalancerSourceRanges.map((c) => c.text)).toEqual(['203.0.113.0/25']);
  });

  it('applies traffic policy and health-check rules as apiservice does', () => {
    const [np] = servicePortsOf(
      svc('ns', 'np', { type: 'NodePort', clusterIP: '172.30.0.1', externalTrafficPolicy: 'Local', healthCheckNodePort: 30000, ports: [port('p', 80, { nodePort: 3001 })] }),
    );
    // ETP Local applies to NodePort, but only LoadBalancer services get a health check port.
    expect(np?.externalPolicyLocal).toBe(true);
    expect(np?.healthCheckNodePort).toBe(0);
    const [cip] = servicePortsOf(svc('ns', 'c', { clusterIP: '172.30.0.2', externalTrafficPolicy: 'Local', ports: [port('p', 80)] }));
    expect(cip?.externalPolicyLocal).toBe(false);
    const [lb] = servicePortsOf(
      svc('ns', 'lb', { type: 'LoadBalancer', clusterIP: '172.30.0.3', externalTrafficPolicy: 'Local', healthCheckNodePort: 30000, ports: [port('p', 80, { nodePort: 3002 })] }),
    );
    expect(lb?.healthCheckNodePort).toBe(30000);
    expect(lb?.usesClusterEndpoints).toBe(true);
    expect(lb?.usesLocalEndpoints).toBe(true);
    const [itp] = servicePortsOf(svc('ns', 'i', { clusterIP: '172.30.0.4', internalTrafficPolicy: 'Local', ports: [port('p', 80)] }));
    expect(itp?.usesClusterEndpoints).toBe(false);
    expect(itp?.usesLocalEndpoints).toBe(true);
  });

  it('honours externalTrafficPolicy Local on a ClusterIP service with externalIPs (apiservice.ExternallyAccessible)', () => {
    const [sp] = servicePortsOf(
      svc('ns', 'eip', { clusterIP: '172.30.0.5', externalIPs: ['192.168.99.5'], externalTrafficPolicy: 'Local', healthCheckNodePort: 30000, ports: [port('p', 80)] }),
    );
    expect(sp?.externallyAccessible).toBe(true);
    expect(sp?.externalPolicyLocal).toBe(true);
    // External-IP traffic uses local endpoints; the cluster IP still uses all of them.
    expect(sp?.usesLocalEndpoints).toBe(true);
    expect(sp?.usesClusterEndpoints).toBe(true);
    // Health checks stay a LoadBalancer-only thing (apiservice.NeedsHealthCheck).
    expect(sp?.healthCheckNodePort).toBe(0);
  });

  it('keeps the affinity timeout only for ClientIP affinity', () => {
    const [none] = servicePortsOf(svc('ns', 'a', { clusterIP: '172.30.0.1', ports: [port('p', 80)] }));
    const [cip] = servicePortsOf(svc('ns', 'b', { clusterIP: '172.30.0.1', sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 600, ports: [port('p', 80)] }));
    expect(none?.stickyMaxAgeSeconds).toBe(0);
    expect(cip?.stickyMaxAgeSeconds).toBe(600);
  });
});

describe('endpoints', () => {
  const model = {
    services: [svc('ns', 's', { clusterIP: '172.30.0.1', ports: [port('http', 80), port('dns', 53, { protocol: 'UDP' })] })],
    endpointSlices: [
      slice('ns', 's', 1, [ep('10.0.0.2'), ep('10.0.0.10', { nodeName: 'test-node' })], [
        { name: 'http', protocol: 'TCP', port: 8080 },
        { name: 'dns', protocol: 'UDP', port: 5353 },
        // Same name, other protocol: must not leak into the UDP port.
        { name: 'dns', protocol: 'TCP', port: 9999 },
      ]),
      // The same endpoint again in another slice, now terminating: the ready copy wins.
      slice('ns', 's', 2, [ep('10.0.0.2', { ready: false, serving: true, terminating: true })], [{ name: 'http', protocol: 'TCP', port: 8080 }]),
      slice('ns', 's', 3, [ep('fd00::1')], [{ name: 'http', protocol: 'TCP', port: 8080 }], { addressType: 'IPv6' }),
    ],
  };

  it('matches slice ports by name and protocol, dedupes and sorts by string', () => {
    const state = buildProxyState(model, NODE);
    const [http, dns] = state.servicePorts as [ServicePortInfo, ServicePortInfo];
    const httpEps = endpointsOf(state, http);
    // Go sorts endpoint strings lexically: "10.0.0.10:8080" < "10.0.0.2:8080".
    expect(httpEps.map((e) => e.endpoint)).toEqual(['10.0.0.10:8080', '10.0.0.2:8080']);
    expect(httpEps.map((e) => e.isLocal)).toEqual([true, false]);
    expect(httpEps[1]?.ready).toBe(true);
    expect(endpointsOf(state, dns).map((e) => e.endpoint)).toEqual(['10.0.0.10:5353', '10.0.0.2:5353']);
    expect(state.totalEndpoints).toBe(4);
  });
});

function epi(endpoint: string, patch: Partial<EndpointInfo> = {}): EndpointInfo {
  const [ip = '', p = '0'] = endpoint.split(':');
  return {
    ip,
    ipv4: parseIPv4(ip) ?? 0,
    port: Number(p),
    endpoint,
    isLocal: false,
    ready: true,
    serving: true,
    terminating: false,
    zoneHints: null,
    nodeHints: null,
    ...patch,
  };
}

function spInfo(patch: Partial<Parameters<typeof svc>[2]> = {}, nodePort = 0): ServicePortInfo {
  const [sp] = servicePortsOf(svc('ns', 's', { clusterIP: '172.30.0.1', ports: [port('p', 80, { nodePort })], ...patch }));
  if (sp === undefined) throw new Error('no service port');
  return sp;
}

const ids = (eps: readonly EndpointInfo[]): string[] => eps.map((e) => e.endpoint);
const node: ProxyNode = { nodeName: 'test-node', zone: 'zone-a' };

// Cases exercise the branches of upstream pkg/proxy/topology.go CategorizeEndpoints.
describe('categorizeEndpoints', () => {
  it('all ready endpoints zone-hinted, some for this zone → those only', () => {
    const eps = [
      epi('10.1.2.3:80', { zoneHints: new Set(['zone-a']) }),
      epi('10.1.2.4:80', { zoneHints: new Set(['zone-b']) }),
      epi('10.1.2.5:80', { zoneHints: new Set(['zone-c']) }),
      epi('10.1.2.6:80', { zoneHints: new Set(['zone-a']) }),
    ];
    const r = categorizeEndpoints(eps, spInfo(), node);
    expect(ids(r.clusterEndpoints)).toEqual(['10.1.2.3:80', '10.1.2.6:80']);
    expect(r.localEndpoints).toEqual([]);
    expect(r.hasAnyEndpoints).toBe(true);
  });

  it('ignores zone hints when one ready endpoint lacks a hint', () => {
    const eps = [epi('10.1.2.3:80', { zoneHints: new Set(['zone-a']) }), epi('10.1.2.4:80')];
    expect(ids(categorizeEndpoints(eps, spInfo(), node).clusterEndpoints)).toEqual(['10.1.2.3:80', '10.1.2.4:80']);
  });

  it('ignores zone hints when none is for this zone', () => {
    const eps = [epi('10.1.2.3:80', { zoneHints: new Set(['zone-b']) }), epi('10.1.2.4:80', { zoneHints: new Set(['zone-c']) })];
    expect(ids(categorizeEndpoints(eps, spInfo(), node).clusterEndpoints)).toEqual(['10.1.2.3:80', '10.1.2.4:80']);
  });

  it('prefers node hints over zone hints', () => {
    const eps = [
      epi('10.1.2.3:80', { zoneHints: new Set(['zone-a']), nodeHints: new Set(['other']) }),
      epi('10.1.2.4:80', { zoneHints: new Set(['zone-a']), nodeHints: new Set(['test-node']) }),
    ];
    expect(ids(categorizeEndpoints(eps, spInfo(), node).clusterEndpoints)).toEqual(['10.1.2.4:80']);
  });

  it('falls back to serving-terminating endpoints when none is ready', () => {
    const eps = [
      epi('10.0.0.0:80', { ready: false, serving: true, terminating: true, isLocal: true }),
      epi('10.0.0.1:80', { ready: false, serving: true, terminating: true }),
      epi('10.0.0.2:80', { ready: false, serving: false, terminating: true }),
    ];
    const r = categorizeEndpoints(eps, spInfo(), node);
    expect(ids(r.clusterEndpoints)).toEqual(['10.0.0.0:80', '10.0.0.1:80']);
    expect(r.hasAnyEndpoints).toBe(true);
  });

  it('externalTrafficPolicy Local: local endpoints for external traffic, cluster for internal', () => {
    const sp = spInfo({ type: 'NodePort', externalTrafficPolicy: 'Local' }, 3001);
    const eps = [epi('10.0.0.0:80', { isLocal: true }), epi('10.0.0.1:80')];
    const r = categorizeEndpoints(eps, sp, node);
    expect(ids(r.clusterEndpoints)).toEqual(['10.0.0.0:80', '10.0.0.1:80']);
    expect(ids(r.localEndpoints)).toEqual(['10.0.0.0:80']);
    expect(ids(r.allReachableEndpoints)).toEqual(['10.0.0.0:80', '10.0.0.1:80']);
  });

  it('ETP Local with only a terminating local endpoint merges both lists', () => {
    const sp = spInfo({ type: 'NodePort', externalTrafficPolicy: 'Local' }, 3001);
    const eps = [epi('10.0.0.0:80', { isLocal: true, ready: false, serving: true, terminating: true }), epi('10.0.0.1:80')];
    const r = categorizeEndpoints(eps, sp, node);
    expect(ids(r.clusterEndpoints)).toEqual(['10.0.0.1:80']);
    expect(ids(r.localEndpoints)).toEqual(['10.0.0.0:80']);
    expect(ids(r.allReachableEndpoints)).toEqual(['10.0.0.1:80', '10.0.0.0:80']);
  });

  it('internalTrafficPolicy Local with no local endpoints still reports remote ones exist', () => {
    const sp = spInfo({ internalTrafficPolicy: 'Local' });
    const r = categorizeEndpoints([epi('10.0.0.1:80')], sp, node);
    expect(r.clusterEndpoints).toEqual([]);
    expect(r.localEndpoints).toEqual([]);
    expect(r.allReachableEndpoints).toEqual([]);
    expect(r.hasAnyEndpoints).toBe(true);
  });

  it('no usable endpoints at all', () => {
    const r = categorizeEndpoints([epi('10.0.0.1:80', { ready: false, serving: false })], spInfo(), node);
    expect(r.hasAnyEndpoints).toBe(false);
    expect(r.allReachableEndpoints).toEqual([]);
  });
});

describe('cidr parsing', () => {
  it('accepts sloppy leading zeros and masks host bits', () => {
    expect(parseCIDRv4Sloppy('010.001.2.3/8')?.text).toBe('10.0.0.0/8');
    expect(parseCIDRv4Sloppy(' 203.0.113.7/25')?.text).toBe('203.0.113.0/25');
    expect(parseCIDRv4Sloppy('1.2.3.4/33')).toBeUndefined();
  });
});

describe('proxy state details', () => {
  it('computes the KUBE-SVC and KUBE-SEP hashes as upstream, once per service port and endpoint', () => {
    const state = buildProxyState(
      {
        services: [svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [port('p80', 80)] })],
        endpointSlices: [slice('ns1', 'svc1', 1, [ep('10.180.0.1')], [{ name: 'p80', protocol: 'TCP', port: 80 }])],
      },
      NODE,
    );
    const [sp] = state.servicePorts;
    const [e] = sp === undefined ? [] : endpointsOf(state, sp);
    if (sp === undefined || e === undefined) throw new Error('no service port or endpoint');
    expect(servicePortChainHash(sp)).toBe('XPGD46QRK7WJZT7O');
    expect(endpointChainHash(sp, endpointsOf(state, sp), e)).toBe('SXIVWICOYRO3J4NJ');
    expect(endpointChainHash(sp, endpointsOf(state, sp), e)).toBe(endpointHash('ns1/svc1:p80', 'tcp', '10.180.0.1:80'));
  });

  it('hashes a shared endpoint object per service port: two Services over one endpoint list get different KUBE-SEP chains', () => {
    const eps = [ep('10.180.0.1'), ep('10.180.0.2')];
    const p80 = [{ name: 'p80', protocol: 'TCP' as const, port: 80 }];
    const state = buildProxyState(
      {
        services: [svc('ns1', 'a', { clusterIP: '172.30.0.41', ports: [port('p80', 80)] }), svc('ns1', 'b', { clusterIP: '172.30.0.42', ports: [port('p80', 80)] })],
        // One array in both slices, as the kube-proxy-scale generator shares it.
        endpointSlices: [slice('ns1', 'a', 1, eps, p80), slice('ns1', 'b', 1, eps, p80)],
      },
      NODE,
    );
    const [a, b] = state.servicePorts;
    if (a === undefined || b === undefined) throw new Error('two service ports expected');
    const ea = endpointsOf(state, a);
    const eb = endpointsOf(state, b);
    expect(ea).toBe(eb);
    expect(ea.map((e) => endpointChainHash(a, ea, e))).toEqual(['10.180.0.1:80', '10.180.0.2:80'].map((x) => endpointHash('ns1/a:p80', 'tcp', x)));
    expect(eb.map((e) => endpointChainHash(b, eb, e))).toEqual(['10.180.0.1:80', '10.180.0.2:80'].map((x) => endpointHash('ns1/b:p80', 'tcp', x)));
  });

  it('lets a later non-terminating copy replace a terminating one', () => {
    const p80 = [{ name: 'p80', protocol: 'TCP' as const, port: 80 }];
    const state = buildProxyState(
      {
        services: [svc('ns', 's', { clusterIP: '172.30.0.1', ports: [port('p80', 80)] })],
        endpointSlices: [
          slice('ns', 's', 1, [ep('10.0.0.1', { ready: false, serving: true, terminating: true })], p80),
          slice('ns', 's', 2, [ep('10.0.0.1', { nodeName: 'test-node' })], p80),
        ],
      },
      NODE,
    );
    const eps = state.servicePorts[0] === undefined ? [] : endpointsOf(state, state.servicePorts[0]);
    expect(eps).toHaveLength(1);
    expect(eps[0]?.ready).toBe(true);
    expect(eps[0]?.isLocal).toBe(true);
  });

  it('uses the node zone and honours node hints only with PreferSameTrafficDistribution', () => {
    const p80 = [{ name: 'p80', protocol: 'TCP' as const, port: 80 }];
    const model = {
      services: [svc('ns', 's', { clusterIP: '172.30.0.1', ports: [port('p80', 80)] })],
      endpointSlices: [
        slice('ns', 's', 1, [
          ep('10.0.0.1', { zoneHints: ['zone-a'], nodeHints: ['other-node'] }),
          ep('10.0.0.2', { zoneHints: ['zone-b'], nodeHints: ['test-node'] }),
        ], p80),
      ],
    };
    const pick = (preferSameTrafficDistribution: boolean): string[] => {
      const state = buildProxyState(model, { ...NODE, zone: 'zone-a' }, { preferSameTrafficDistribution });
      const sp = state.servicePorts[0] as ServicePortInfo;
      return categorizeEndpoints(endpointsOf(state, sp), sp, state.node).clusterEndpoints.map((e) => e.endpoint);
    };
    expect(pick(true)).toEqual(['10.0.0.2:80']);
    expect(pick(false)).toEqual(['10.0.0.1:80']);
  });
});

describe('endpoint order', () => {
  it('compareEndpoints orders exactly as Go sorts the "ip:port" strings', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 255 }));
    const ipArb = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
    const portArb = fc.oneof(fc.constantFrom(8, 80, 800, 8080, 9, 10, 443), fc.integer({ min: 1, max: 65535 }));
    const epArb = fc.record({ ip: ipArb, port: portArb });
    fc.assert(
      fc.property(epArb, epArb, (a, b) => {
        const sa = `${a.ip}:${a.port}`;
        const sb = `${b.ip}:${b.port}`;
        expect(Math.sign(compareEndpoints(a, b))).toBe(sa < sb ? -1 : sa > sb ? 1 : 0);
      }),
      { numRuns: 5000 },
    );
  });
});
