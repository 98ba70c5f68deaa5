import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadManifestFiles, parseManifests } from '../../src/model/manifests.js';
import type { ManifestModel } from '../../src/model/manifests.js';
import type { Service } from '../../src/model/types.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'manifests');
const KUBECTL_YAML = join(FIXTURES, 'kubectl-get-svc-eps.yaml');
const KUBECTL_JSON = join(FIXTURES, 'kubectl-get-svc-eps.json');
const MIXED = join(FIXTURES, 'mixed-multidoc.yaml');

function svc(m: ManifestModel, key: string): Service {
  const s = m.services.find((x) => `${x.namespace}/${x.name}` === key);
  if (!s) throw new Error(`no Service ${key}`);
  return s;
}

function slice(m: ManifestModel, key: string) {
  const s = m.endpointSlices.find((x) => `${x.namespace}/${x.name}` === key);
  if (!s) throw new Error(`no EndpointSlice ${key}`);
  return s;
}

describe('kubectl get svc,endpointslices -A -o yaml', () => {
  it('loads every Service and EndpointSlice of the List', async () => {
    const m = await loadManifestFiles([KUBECTL_YAML]);
    expect(m.services.map((s) => `${s.namespace}/${s.name}`)).toEqual([
      'default/kubernetes',
      'kube-system/kube-dns',
      'shop/web',
      'shop/frontend',
      'shop/db',
      'shop/payments-api',
      'shop/search',
    ]);
    expect(m.endpointSlices.map((s) => s.name)).toEqual([
      'kubernetes',
      'kube-dns-5dxkq',
      'web-8h2kz',
      'frontend-p7m2c',
      'search-v6-4tq8n',
      'search-v4-9bn2x',
    ]);
    // The slice without a kubernetes.io/service-name label is one kube-proxy ignores.
    expect(m.ignored).toEqual([{ kind: 'EndpointSlice without kubernetes.io/service-name label', count: 1 }]);
  });

  it('keeps the fields kube-proxy reads', async () => {
    const m = await loadManifestFiles([KUBECTL_YAML]);
    expect(svc(m, 'kube-system/kube-dns')).toMatchObject({
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      ports: [
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53, nodePort: 0 },
        { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 53, nodePort: 0 },
        { name: 'metrics', protocol: 'TCP', port: 9153, targetPort: 9153, nodePort: 0 },
      ],
      source: `${KUBECTL_YAML} doc 1 item 2`,
    });
    expect(svc(m, 'shop/web')).toMatchObject({
      type: 'NodePort',
      externalTrafficPolicy: 'Local',
      sessionAffinity: 'ClientIP',
      sessionAffinityTimeoutSeconds: 3600,
      ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 31080 }],
    });
    const fe = svc(m, 'shop/frontend');
    expect(fe.type).toBe('LoadBalancer');
    expect(fe.externalIPs).toEqual(['192.0.2.50']);
    expect(fe.healthCheckNodePort).toBe(32111);
    // Hostname-only and ipMode Proxy ingresses are not VIPs kube-proxy programs.
    expect(fe.loadBalancerIngressIPs).toEqual(['198.18.0.10', '198.18.0.12']);
    // Padding the API server tolerates is trimmed, as kube-proxy does.
    expect(fe.loadBalancerSourceRanges).toEqual(['203.0.113.0/25', '198.51.100.0/24']);
    expect(svc(m, 'shop/db').clusterIP).toBe('None');
    expect(svc(m, 'shop/payments-api')).toMatchObject({ type: 'ExternalName', clusterIP: '', clusterIPs: [], ports: [] });
  });

  it('keeps IPv6 and dual-stack objects', async () => {
    const m = await loadManifestFiles([KUBECTL_YAML]);
    expect(svc(m, 'shop/search')).toMatchObject({
      clusterIPs: ['10.96.50.5', 'fd00:10:96::5'],
      ipFamilies: ['IPv4', 'IPv6'],
      internalTrafficPolicy: 'Local',
      ports: [{ name: '', protocol: 'TCP', port: 9200, targetPort: 9200 }],
    });
    expect(slice(m, 'shop/search-v6-4tq8n')).toMatchObject({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00:10:244:1::12'] }] });
  });

  it('applies endpoint condition defaults and reads topology', async () => {
    const m = await loadManifestFiles([KUBECTL_YAML]);
    const dns = slice(m, 'kube-system/kube-dns-5dxkq');
    expect(dns.serviceName).toBe('kube-dns');
    expect(dns.ports).toEqual([
      { name: 'dns-tcp', protocol: 'TCP', port: 53 },
      { name: 'dns', protocol: 'UDP', port: 53 },
      { name: 'metrics', protocol: 'TCP', port: 9153 },
    ]);
    expect(dns.endpoints[1]).toEqual({
      addresses: ['10.244.1.4'],
      conditions: { ready: false, serving: true, terminating: true },
      nodeName: 'kind-worker',
      zone: 'zone-b',
      zoneHints: [],
    });
    const web = slice(m, 'shop/web-8h2kz');
    // conditions: {} → ready, serving follows ready, not terminating.
    expect(web.endpoints[0]?.conditions).toEqual({ ready: true, serving: true, terminating: false });
    expect(web.endpoints[0]?.zoneHints).toEqual(['zone-b']);
    // ready: false with serving unset → serving false.
    expect(web.endpoints[1]?.conditions).toEqual({ ready: false, serving: false, terminating: false });
    expect(web.endpoints[1]?.nodeHints).toEqual(['kind-worker2']);
    // `endpoints: null` and `ports: null`, as kubectl prints an empty slice.
    expect(slice(m, 'shop/frontend-p7m2c')).toMatchObject({ endpoints: [], ports: [] });
  });

  it('reads the same dump as JSON identically, apart from the source names', async () => {
    const y = await loadManifestFiles([KUBECTL_YAML]);
    const j = await loadManifestFiles([KUBECTL_JSON]);
    const strip = (m: ManifestModel) => ({
      ...m,
      services: m.services.map(({ source: _s, ...rest }) => rest),
      endpointSlices: m.endpointSlices.map(({ source: _s, ...rest }) => rest),
    });
    expect(strip(j)).toEqual(strip(y));
    expect(j.services[0]?.source).toBe(`${KUBECTL_JSON} doc 1 item 1`);
  });
});

describe('multi-document YAML with defaults and other kinds', () => {
  it('applies API server defaults and counts ignored kinds', async () => {
    const m = await loadManifestFiles([MIXED]);
    expect(m.services).toHaveLength(1);
    expect(m.services[0]).toEqual({
      namespace: 'demo',
      name: 'echo',
      type: 'ClusterIP',
      clusterIP: '10.96.7.7',
      clusterIPs: ['10.96.7.7'],
      ipFamilies: ['IPv4'],
      externalIPs: [],
      loadBalancerIngressIPs: [],
      loadBalancerSourceRanges: [],
      sessionAffinity: 'None',
      sessionAffinityTimeoutSeconds: 10800,
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort: 0,
      ports: [{ name: '', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 0 }],
      source: `${MIXED} doc 3`,
    });
    const s = m.endpointSlices[0];
    expect(s?.source).toBe(`${MIXED} doc 5`);
    expect(s?.ports).toEqual([{ name: '', protocol: 'TCP', port: 80 }]);
    expect(s?.endpoints.map((e) => e.conditions)).toEqual([
      { ready: true, serving: true, terminating: false },
      { ready: false, serving: false, terminating: false },
      { ready: false, serving: true, terminating: true },
    ]);
    expect(m.ignored).toEqual([
      { kind: 'Deployment.apps', count: 1 },
      { kind: 'Endpoints', count: 1 },
      { kind: 'Namespace', count: 1 },
      { kind: 'Pod', count: 2 },
      { kind: 'Service.serving.knative.dev', count: 1 },
    ]);
  });

  it('defaults namespace, protocol and targetPort in minimal objects', () => {
    const m = parseManifests(
      `apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  clusterIP: 10.0.0.5
  ports: [{name: u, port: 53, protocol: UDP}, {name: t, port: 8080, targetPort: 0}]
`,
      'a.yaml',
    );
    expect(m.services[0]).toMatchObject({
      namespace: 'default',
      ports: [
        { name: 'u', protocol: 'UDP', port: 53, targetPort: 53 },
        { name: 't', protocol: 'TCP', port: 8080, targetPort: 8080 },
      ],
    });
  });

  it('derives clusterIP from clusterIPs and ipFamilies from the addresses', () => {
    const m = parseManifests(
      `apiVersion: v1
kind: Service
metadata: {name: a, namespace: x}
spec: {clusterIPs: ["fd00::a", "10.0.0.9"], ports: [{port: 80}]}
`,
      'a.yaml',
    );
    expect(m.services[0]).toMatchObject({ clusterIP: 'fd00::a', ipFamilies: ['IPv6', 'IPv4'] });
  });
});

describe('List kinds', () => {
  it('reads typed lists whose items omit kind, as `kubectl get --raw` prints them', () => {
    const text = JSON.stringify({
      kind: 'ServiceList',
      apiVersion: 'v1',
      items: [{ metadata: { name: 'a', namespace: 'n' }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 80 }] } }],
    });
    const slices = JSON.stringify({
      kind: 'EndpointSliceList',
      apiVersion: 'discovery.k8s.io/v1',
      items: [
        {
          metadata: { name: 'a-1', namespace: 'n', labels: { 'kubernetes.io/service-name': 'a' } },
          addressType: 'IPv4',
          endpoints: [{ addresses: ['10.1.0.1'] }],
        },
      ],
    });
    const m = parseManifests(`${text}\n---\n${slices}\n`, 'raw.yaml');
    expect(m.services[0]?.source).toBe('raw.yaml doc 1 item 1');
    expect(m.endpointSlices[0]).toMatchObject({ serviceName: 'a', source: 'raw.yaml doc 2 item 1' });
  });

  it('reads a top-level JSON array of objects', () => {
    const m = parseManifests(
      JSON.stringify([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 1 }] } }]),
      'arr.json',
    );
    expect(m.services[0]?.source).toBe('arr.json doc 1');
  });

  it('accepts empty input', () => {
    expect(parseManifests('', 'empty.yaml')).toEqual({ services: [], endpointSlices: [], ignored: [] });
    expect(parseManifests('---\n---\n', 'empty.yaml').services).toEqual([]);
  });
});

describe('loadManifestFiles', () => {
  it('resolves EndpointSlice → Service references across files and reads directories', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-manifests-'));
    writeFileSync(
      join(dir, 'a-svc.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: n}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}\n',
    );
    writeFileSync(
      join(dir, 'b-eps.json'),
      JSON.stringify({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 's-1', namespace: 'n', labels: { 'kubernetes.io/service-name': 's' } },
        addressType: 'IPv4',
        endpoints: [],
      }),
    );
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    const m = await loadManifestFiles([dir]);
    expect(m.services).toHaveLength(1);
    expect(m.endpointSlices).toHaveLength(1);
    await expect(loadManifestFiles([join(dir, 'b-eps.json')])).rejects.toThrow(/EndpointSlice n\/s-1: .*Service n\/s, which is not in the input/);
  });

  it('reports a missing file as InputError', async () => {
    const err = await loadManifestFiles(['/nonexistent/kscale.yaml']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(String(err)).toContain('/nonexistent/kscale.yaml: cannot read: no such file or directory');
  });

  it('rejects an empty path list', async () => {
    await expect(loadManifestFiles([])).rejects.toBeInstanceOf(InputError);
  });
});
