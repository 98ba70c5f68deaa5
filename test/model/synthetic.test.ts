import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { inputErrorOf } from '../inputs.js';
import { generateCluster, mulberry32 } from '../../src/model/synthetic.js';
import type { GenerateOptions } from '../../src/model/synthetic.js';
import { validateModel } from '../../src/model/validate.js';

function gen(o: Partial<GenerateOptions> & Pick<GenerateOptions, 'layout'>) {
  return generateCluster({ services: 10, endpointsPerService: 3, seed: 1, ...o });
}

function inputError(f: () => unknown): string {
  return inputErrorOf(f).message;
}

describe('mulberry32', () => {
  it('is deterministic and in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(mulberry32(43)()).not.toBe(xs[0]);
  });
});

describe("layout 'kube-proxy-scale' (upstream number_generated_rules_test.go)", () => {
  it('reproduces upstream ClusterIP objects exactly', () => {
    const m = gen({ layout: 'kube-proxy-scale', services: 300, endpointsPerService: 300 });
    expect(m.services).toHaveLength(300);
    expect(m.services[0]).toEqual({
      namespace: 'namespace',
      name: 'svc0',
      type: 'ClusterIP',
      clusterIP: '10.0.0.1',
      clusterIPs: ['10.0.0.1'],
      ipFamilies: ['IPv4'],
      externalIPs: [],
      loadBalancerIngressIPs: [],
      loadBalancerSourceRanges: [],
      sessionAffinity: 'None',
      sessionAffinityTimeoutSeconds: 10800,
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort: 0,
      ports: [{ name: '8080', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 0 }],
    });
    // ClusterIPs and ports count up; big.Int offsets carry into the next octet.
    expect(m.services[9]?.clusterIP).toBe('10.0.0.10');
    expect(m.services[255]?.clusterIP).toBe('10.0.1.0');
    expect(m.services[299]?.ports[0]?.port).toBe(379);
    const s = m.endpointSlices[7];
    expect(s).toMatchObject({ namespace: 'namespace', name: 'svc7', serviceName: 'svc7', addressType: 'IPv4' });
    expect(s?.ports).toEqual([{ name: '8080', protocol: 'TCP', port: 8080 }]);
    // Every slice holds the same endpoints, 172.16.0.1 upwards, with nil conditions (= ready).
    expect(s?.endpoints[0]).toEqual({
      addresses: ['172.16.0.1'],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: '',
      zone: '',
      zoneHints: [],
    });
    expect(s?.endpoints[255]?.addresses).toEqual(['172.16.1.0']);
    expect(m.endpointSlices[0]?.endpoints.map((e) => e.addresses[0])).toEqual(s?.endpoints.map((e) => e.addresses[0]));
  });

  it('reproduces the LoadBalancer variant: nodePort 30000+i, healthCheckNodePort 32000+n+i', () => {
    const m = gen({ layout: 'kube-proxy-scale', services: 10, endpointsPerService: 10, typeMix: { LoadBalancer: 1 } });
    m.services.forEach((svc, i) => {
      expect(svc).toMatchObject({
        type: 'LoadBalancer',
        externalIPs: ['1.2.3.4'],
        loadBalancerSourceRanges: ['1.2.3.4/28'],
        loadBalancerIngressIPs: ['1.2.3.4'],
        healthCheckNodePort: 32010 + i,
        ports: [{ port: 80 + i, nodePort: 30000 + i }],
      });
    });
  });

  it('reproduces the NodePort variant', () => {
    const m = gen({ layout: 'kube-proxy-scale', services: 20, typeMix: { NodePort: 1 } });
    expect(m.services.map((s) => s.ports[0]?.nodePort)).toEqual(Array.from({ length: 20 }, (_, i) => 30000 + i));
    expect(m.services.every((s) => s.healthCheckNodePort === 0)).toBe(true);
  });

  it('mixes types with exact counts, placed by the seed', () => {
    const mix = { ClusterIP: 0.5, NodePort: 0.3, LoadBalancer: 0.2 };
    const a = gen({ layout: 'kube-proxy-scale', services: 100, typeMix: mix, seed: 1 });
    const b = gen({ layout: 'kube-proxy-scale', services: 100, typeMix: mix, seed: 2 });
    const count = (m: typeof a, t: string) => m.services.filter((s) => s.type === t).length;
    expect([count(a, 'ClusterIP'), count(a, 'NodePort'), count(a, 'LoadBalancer')]).toEqual([50, 30, 20]);
    expect(a.services.map((s) => s.type)).not.toEqual(b.services.map((s) => s.type));
    // Upstream numbering stays by index whatever the type.
    a.services.forEach((s, i) => expect(s.ports[0]?.nodePort).toBe(s.type === 'ClusterIP' ? 0 : 30000 + i));
  });

  it('ignores the seed when there is nothing to shuffle', () => {
    expect(gen({ layout: 'kube-proxy-scale', seed: 1 })).toEqual(gen({ layout: 'kube-proxy-scale', seed: 99 }));
  });
});

describe("layout 'kube-proxy-nft-bench' (upstream nftables proxier_benchmark_test.go)", () => {
  it('reproduces upstream objects exactly', () => {
    const m = gen({ layout: 'kube-proxy-nft-bench', services: 300, endpointsPerService: 10 });
    expect(m.services[0]).toMatchObject({
      namespace: 'ns',
      name: 'svc-0',
      clusterIP: '172.30.1.1',
      ports: [{ name: 'p80', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 0 }],
    });
    expect(m.services[249]?.clusterIP).toBe('172.30.1.250');
    expect(m.services[250]?.clusterIP).toBe('172.30.2.1');
    expect(m.endpointSlices[0]).toMatchObject({ namespace: 'ns', name: 'svc-0-1', serviceName: 'svc-0', ports: [{ name: 'p80', protocol: 'TCP', port: 80 }] });
    expect(m.endpointSlices[0]?.endpoints[0]).toEqual({
      addresses: ['10.1.1.1'],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'test-node',
      zone: '',
      zoneHints: [],
    });
    // k = i*10 + j: service 1 starts at k = 10; service 25 at k = 250, the next "row".
    expect(m.endpointSlices[1]?.endpoints[0]?.addresses).toEqual(['10.1.1.11']);
    expect(m.endpointSlices[25]?.endpoints[0]?.addresses).toEqual(['10.1.2.1']);
  });

  it('places endpoints on a chosen node', () => {
    const m = gen({ layout: 'kube-proxy-nft-bench', nodeName: 'node1' });
    expect(m.endpointSlices.every((s) => s.endpoints.every((e) => e.nodeName === 'node1'))).toBe(true);
  });
});

describe("layout 'realistic'", () => {
  const big = () => generateCluster({ services: 2000, endpointsPerService: 12, seed: 7, layout: 'realistic' });

  it('is deterministic: same seed, identical model; different seed, different model', () => {
    const a = gen({ layout: 'realistic', services: 200, endpointsPerService: 5, seed: 11 });
    expect(gen({ layout: 'realistic', services: 200, endpointsPerService: 5, seed: 11 })).toEqual(a);
    expect(gen({ layout: 'realistic', services: 200, endpointsPerService: 5, seed: 12 })).not.toEqual(a);
  });

  it('passes validation', () => {
    expect(validateModel(big())).toEqual([]);
    expect(validateModel(gen({ layout: 'realistic', services: 50, endpointsPerService: 250 }))).toEqual([]);
    expect(validateModel(gen({ layout: 'kube-proxy-scale', services: 384, typeMix: { LoadBalancer: 1 } }))).toEqual([]);
    expect(validateModel(gen({ layout: 'kube-proxy-scale', services: 2768, typeMix: { NodePort: 1 } }))).toEqual([]);
    expect(validateModel(gen({ layout: 'kube-proxy-nft-bench', services: 1000 }))).toEqual([]);
  });

  it('has the variety it promises', () => {
    const m = big();
    const svcs = m.services;
    const eps = m.endpointSlices.flatMap((s) => s.endpoints);
    expect(new Set(svcs.map((s) => s.namespace)).size).toBeGreaterThan(10);
    expect(svcs.filter((s) => s.type === 'NodePort')).toHaveLength(200);
    expect(svcs.filter((s) => s.type === 'LoadBalancer')).toHaveLength(100);
    expect(svcs.some((s) => s.ports.length > 1)).toBe(true);
    expect(svcs.some((s) => s.ports.some((p) => p.name === ''))).toBe(true);
    expect(svcs.some((s) => s.ports.some((p) => typeof p.targetPort === 'string'))).toBe(true);
    expect(svcs.some((s) => s.ports.some((p) => p.protocol === 'UDP'))).toBe(true);
    const lbs = svcs.filter((s) => s.type === 'LoadBalancer');
    expect(lbs.every((s) => s.loadBalancerIngressIPs.length === 1)).toBe(true);
    expect(lbs.some((s) => s.loadBalancerSourceRanges.length > 0)).toBe(true);
    expect(lbs.filter((s) => s.externalTrafficPolicy === 'Local').every((s) => s.healthCheckNodePort !== 0)).toBe(true);
    expect(svcs.some((s) => s.externalIPs.length > 0)).toBe(true);
    expect(svcs.some((s) => s.sessionAffinity === 'ClientIP')).toBe(true);
    expect(svcs.some((s) => s.internalTrafficPolicy === 'Local')).toBe(true);
    expect(eps).toHaveLength(24000);
    expect(new Set(eps.map((e) => e.addresses[0])).size).toBe(24000);
    expect(new Set(svcs.map((s) => s.clusterIP)).size).toBe(2000);
    expect(eps.some((e) => e.nodeName === 'node1')).toBe(true);
    expect(new Set(eps.map((e) => e.zone))).toEqual(new Set(['zone-a', 'zone-b', 'zone-c']));
    expect(eps.some((e) => e.conditions.terminating)).toBe(true);
    expect(eps.some((e) => !e.conditions.ready && !e.conditions.terminating)).toBe(true);
    expect(eps.some((e) => e.zoneHints.length > 0)).toBe(true);
  });

  it('resolves named targetPorts into the slice ports', () => {
    const m = big();
    const byKey = new Map(m.services.map((s) => [`${s.namespace}/${s.name}`, s]));
    for (const sl of m.endpointSlices) {
      const svc = byKey.get(`${sl.namespace}/${sl.serviceName}`);
      expect(svc).toBeDefined();
      expect(sl.ports.map((p) => p.name)).toEqual(svc?.ports.map((p) => p.name));
      svc?.ports.forEach((p, k) => {
        if (typeof p.targetPort === 'number') expect(sl.ports[k]?.port).toBe(p.targetPort);
      });
    }
  });

  it('splits endpoints into slices of at most 100, like the EndpointSlice controller', () => {
    const m = gen({ layout: 'realistic', services: 3, endpointsPerService: 250 });
    expect(m.endpointSlices.map((s) => s.endpoints.length)).toEqual([100, 100, 50, 100, 100, 50, 100, 100, 50]);
    expect(m.endpointSlices[0]?.name).toMatch(/-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('keeps the default NodePort/LoadBalancer share within the node port range at scale', () => {
    const m = generateCluster({ services: 50000, endpointsPerService: 1, seed: 3, layout: 'realistic' });
    const external = m.services.filter((s) => s.type !== 'ClusterIP');
    expect(external.length).toBeGreaterThan(500);
    expect(validateModel(m)).toEqual([]);
  });

  it('shares frozen pieces: mutation throws instead of corrupting other objects', () => {
    const m = gen({ layout: 'realistic' });
    const ep = m.endpointSlices[0]?.endpoints[0];
    expect(() => {
      if (ep) ep.conditions.ready = !ep.conditions.ready;
    }).toThrow(TypeError);
  });
});

describe('size limits are InputErrors, checked before generating', () => {
  const cases: [string, GenerateOptions, string][] = [
    [
      'scale: too many services for port 80+i',
      { layout: 'kube-proxy-scale', services: 65457, endpointsPerService: 1, seed: 1 },
      'at most 65456 Services fit; got 65457',
    ],
    [
      'scale: too many endpoints for 172.16.0.0/12',
      { layout: 'kube-proxy-scale', services: 1, endpointsPerService: 2 ** 20 - 1, seed: 1 },
      'at most 1048574 endpoints per Service fit',
    ],
    [
      'scale: NodePorts beyond 32767',
      { layout: 'kube-proxy-scale', services: 2769, endpointsPerService: 1, seed: 1, typeMix: { NodePort: 0.01 } },
      'at most 2768 Services fit in 30000-32767; got 2769',
    ],
    [
      'scale: health check ports beyond 32767',
      { layout: 'kube-proxy-scale', services: 385, endpointsPerService: 1, seed: 1, typeMix: { LoadBalancer: 1 } },
      'healthCheckNodePort 32000+services+i, so with LoadBalancers at most 384 Services fit',
    ],
    [
      'nft: too many services',
      { layout: 'kube-proxy-nft-bench', services: 63751, endpointsPerService: 1, seed: 1 },
      'at most 63750 Services fit; got 63751',
    ],
    [
      'nft: not ClusterIP',
      { layout: 'kube-proxy-nft-bench', services: 10, endpointsPerService: 1, seed: 1, typeMix: { NodePort: 0.5 } },
      'has only ClusterIP Services',
    ],
    [
      'realistic: too many services for 10.96.0.0/12',
      { layout: 'realistic', services: 2 ** 20, endpointsPerService: 0, seed: 1 },
      'layout realistic allocates ClusterIPs from 10.96.0.0/12, which holds 1048574 Services; got 1048576',
    ],
    [
      'realistic: too many endpoints for 172.16.0.0/12',
      { layout: 'realistic', services: 100000, endpointsPerService: 11, seed: 1 },
      '172.16.0.0/12, which holds 1048574; 100000 × 11 = 1100000',
    ],
    [
      'realistic: typeMix beyond the node port range',
      { layout: 'realistic', services: 10000, endpointsPerService: 1, seed: 1, typeMix: { NodePort: 0.5 } },
      'typeMix gives 5000 NodePort and 0 LoadBalancer Services, which may need 10000 node ports; 30000-32767 holds 2768',
    ],
    ['negative services', { layout: 'realistic', services: -1, endpointsPerService: 1, seed: 1 }, 'services must be an integer in 0..'],
    ['fractional endpoints', { layout: 'realistic', services: 1, endpointsPerService: 1.5, seed: 1 }, 'endpointsPerService must be an integer'],
    ['bad seed', { layout: 'realistic', services: 1, endpointsPerService: 1, seed: Number.NaN }, 'seed must be an integer'],
    ['mix not adding up', { layout: 'realistic', services: 1, endpointsPerService: 1, seed: 1, typeMix: { ClusterIP: 0.5, NodePort: 0.1 } }, 'must add up to 1, got 0.6'],
    ['mix with a bad type', { layout: 'realistic', services: 1, endpointsPerService: 1, seed: 1, typeMix: { Magic: 1 } as never }, 'unknown Service type "Magic"'],
    ['bad layout', { layout: 'nope' as never, services: 1, endpointsPerService: 1, seed: 1 }, 'unknown layout "nope"'],
    ['bad node name', { layout: 'realistic', services: 1, endpointsPerService: 1, seed: 1, nodeName: 'Bad Node' }, 'nodeName "Bad Node" is not a valid node name'],
  ];
  for (const [what, opts, reason] of cases) {
    it(what, () => {
      const msg = inputError(() => generateCluster(opts));
      expect(msg.startsWith('synthetic cluster: '), msg).toBe(true);
      expect(msg).toContain(reason);
    });
  }

  it('rejects absurd sizes at once, without allocating', () => {
    const t0 = performance.now();
    expect(() => generateCluster({ layout: 'realistic', services: 1e12, endpointsPerService: 1e6, seed: 1 })).toThrow(InputError);
    expect(() => generateCluster({ layout: 'kube-proxy-scale', services: 1e12, endpointsPerService: 1, seed: 1 })).toThrow(InputError);
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('accepts the largest sizes that fit', () => {
    expect(gen({ layout: 'kube-proxy-scale', services: 65456, endpointsPerService: 0 }).services.at(-1)?.ports[0]?.port).toBe(65535);
    expect(gen({ layout: 'kube-proxy-nft-bench', services: 63750, endpointsPerService: 0 }).services.at(-1)?.clusterIP).toBe('172.30.255.250');
  });
});

describe("'realistic' options", () => {
  it('spreads endpoints over the requested nodes and zones', () => {
    const m = generateCluster({ services: 50, endpointsPerService: 20, seed: 5, layout: 'realistic', nodes: 2, zones: 5, namespaces: 3, nodeName: 'worker-a' });
    const eps = m.endpointSlices.flatMap((s) => s.endpoints);
    expect(new Set(eps.map((e) => e.nodeName))).toEqual(new Set(['worker-a', 'node-1']));
    // Zones follow nodes round-robin, so two nodes use two of the five zones.
    expect(new Set(eps.map((e) => e.zone))).toEqual(new Set(['zone-a', 'zone-b']));
    expect(new Set(m.services.map((s) => s.namespace))).toEqual(new Set(['default', 'kube-system', 'monitoring']));
  });

  it('honours an explicit typeMix exactly', () => {
    const m = generateCluster({ services: 40, endpointsPerService: 1, seed: 5, layout: 'realistic', typeMix: { NodePort: 0.25, LoadBalancer: 0.125 } });
    expect(m.services.filter((s) => s.type === 'NodePort')).toHaveLength(10);
    expect(m.services.filter((s) => s.type === 'LoadBalancer')).toHaveLength(5);
  });
});
