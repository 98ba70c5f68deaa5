import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../inputs.js';
import { parseManifests } from '../../src/model/manifests.js';
import { assertValidModel, validateModel } from '../../src/model/validate.js';
import type { ClusterModel } from '../../src/model/types.js';

/** Parses and returns the InputError message; fails the test when parsing succeeds or throws anything else. */
function errorOf(text: string, file = 'services.yaml'): string {
  return inputErrorOf(() => parseManifests(text, file)).message;
}

const PREAMBLE = `apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
`;

/** A Service as document 3 of services.yaml, so messages must say "services.yaml doc 3: Service default/foo". */
function service(spec: string, status = ''): string {
  return `${PREAMBLE}apiVersion: v1
kind: Service
metadata: {name: foo, namespace: default}
spec:
${spec}
${status}`;
}

const SUBJECT = 'services.yaml doc 3: Service default/foo: ';

function slice(body: string, labels = '{kubernetes.io/service-name: foo}', name = 'foo-1'): string {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}, namespace: default, labels: ${labels}}
${body}
`;
}

const GOOD_SERVICE = `apiVersion: v1
kind: Service
metadata: {name: foo, namespace: default}
spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}
`;

describe('Service validation names the object and the reason', () => {
  const cases: [string, string, string][] = [
    ['invalid clusterIP', service('  clusterIP: 10.0.0.300\n  ports: [{port: 80}]'), 'clusterIP "10.0.0.300" is not a valid IP address'],
    ['missing clusterIP', service('  ports: [{port: 80}]'), 'type ClusterIP needs a clusterIP'],
    ['invalid externalIP', service('  clusterIP: 10.0.0.1\n  externalIPs: [1.2.3]\n  ports: [{port: 80}]'), 'externalIPs entry "1.2.3" is not a valid IP address'],
    ['a loopback externalIP', service('  clusterIP: 10.0.0.1\n  externalIPs: [127.0.0.1]\n  ports: [{port: 80}]'), 'externalIPs entry "127.0.0.1" may not be in the loopback range (127.0.0.0/8)'],
    ['a NodePort port without its nodePort', service('  type: NodePort\n  clusterIP: 10.0.0.1\n  ports: [{port: 80}]'), 'port #1: type NodePort needs a nodePort (the API server allocates one; give it)'],
    ['an unspecified clusterIP', service('  clusterIP: 0.0.0.0\n  ports: [{port: 80}]'), 'clusterIP "0.0.0.0" may not be unspecified (0.0.0.0)'],
    [
      'invalid LB ingress IP',
      service('  type: LoadBalancer\n  clusterIP: 10.0.0.1\n  ports: [{port: 80, nodePort: 30000}]', 'status: {loadBalancer: {ingress: [{ip: 999.1.1.1}]}}'),
      'status.loadBalancer.ingress ip "999.1.1.1" is not a valid IP address',
    ],
    [
      'unknown LB ingress ipMode (it dropped the IP without a word)',
      service('  type: LoadBalancer\n  clusterIP: 10.0.0.1\n  ports: [{port: 80, nodePort: 30000}]', 'status: {loadBalancer: {ingress: [{ip: 1.2.3.4, ipMode: Bogus}]}}'),
      'status.loadBalancer.ingress[0].ipMode: unknown value "Bogus" (expected VIP, Proxy)',
    ],
    [
      'invalid source range',
      service('  type: LoadBalancer\n  clusterIP: 10.0.0.1\n  loadBalancerSourceRanges: [10.0.0.0/40]\n  ports: [{port: 80}]'),
      'loadBalancerSourceRanges entry "10.0.0.0/40" is not a valid CIDR',
    ],
    ['port 0', service('  clusterIP: 10.0.0.1\n  ports: [{port: 0}]'), 'port #1: port 0 is out of range 1..65535'],
    ['port 70000', service('  clusterIP: 10.0.0.1\n  ports: [{name: web, port: 70000}]'), 'port "web": port 70000 is out of range 1..65535'],
    ['targetPort out of range', service('  clusterIP: 10.0.0.1\n  ports: [{port: 80, targetPort: 65536}]'), 'targetPort 65536 is out of range 1..65535'],
    ['bad named targetPort', service('  clusterIP: 10.0.0.1\n  ports: [{port: 80, targetPort: "8080"}]'), 'targetPort "8080" is neither a port number nor a valid port name'],
    [
      'nodePort out of range',
      service('  type: NodePort\n  clusterIP: 10.0.0.1\n  ports: [{port: 80, nodePort: 8080}]'),
      'port #1: nodePort 8080 is outside the node port range 30000-32767',
    ],
    ['nodePort on ClusterIP', service('  clusterIP: 10.0.0.1\n  ports: [{port: 80, nodePort: 30001}]'), 'nodePort 30001 is set but type ClusterIP has no node ports'],
    [
      'healthCheckNodePort out of range',
      service('  type: LoadBalancer\n  clusterIP: 10.0.0.1\n  healthCheckNodePort: 99999\n  ports: [{port: 80}]'),
      'healthCheckNodePort 99999 is outside the node port range',
    ],
    ['unknown protocol', service('  clusterIP: 10.0.0.1\n  ports: [{port: 80, protocol: ICMP}]'), 'spec.ports[0].protocol: unknown value "ICMP" (expected TCP, UDP, SCTP)'],
    ['unknown type', service('  type: Magic\n  clusterIP: 10.0.0.1'), 'spec.type: unknown value "Magic"'],
    [
      'unknown traffic policy',
      service('  type: NodePort\n  clusterIP: 10.0.0.1\n  externalTrafficPolicy: Global\n  ports: [{port: 80, nodePort: 30080}]'),
      'spec.externalTrafficPolicy: unknown value "Global"',
    ],
    ['port as a string', service('  clusterIP: 10.0.0.1\n  ports: [{port: "80"}]'), 'spec.ports[0].port: expected an integer, got a string'],
    ['port missing', service('  clusterIP: 10.0.0.1\n  ports: [{name: a}]'), 'spec.ports[0].port: is required'],
    ['ports not a list', service('  clusterIP: 10.0.0.1\n  ports: {port: 80}'), 'spec.ports: expected a list, got a mapping'],
    ['unnamed ports', service('  clusterIP: 10.0.0.1\n  ports: [{port: 80}, {port: 81}]'), 'port #1 needs a name'],
    ['duplicate port', service('  clusterIP: 10.0.0.1\n  ports: [{name: a, port: 80}, {name: b, port: 80}]'), 'port "b": port 80/TCP is listed twice'],
    ['no ports', service('  clusterIP: 10.0.0.1'), 'spec.ports is empty'],
    ['clusterIPs mismatch', service('  clusterIP: 10.0.0.1\n  clusterIPs: [10.0.0.2]\n  ports: [{port: 80}]'), 'clusterIPs[0] "10.0.0.2" must equal clusterIP "10.0.0.1"'],
    [
      'affinity timeout',
      service('  clusterIP: 10.0.0.1\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}\n  ports: [{port: 80}]'),
      'timeoutSeconds 0 is out of range 1..86400',
    ],
    ['headless NodePort', service('  type: NodePort\n  clusterIP: None\n  ports: [{port: 80}]'), 'a headless Service (clusterIP "None") must be type ClusterIP, not NodePort'],
  ];
  for (const [what, text, reason] of cases) {
    it(what, () => {
      const msg = errorOf(text);
      expect(msg.startsWith(SUBJECT), msg).toBe(true);
      expect(msg).toContain(reason);
    });
  }

  it('quotes hostile names instead of echoing control characters', () => {
    const msg = errorOf('apiVersion: v1\nkind: Service\nmetadata: {name: "a\\nb"}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}\n', 'x.yaml');
    expect(msg).toContain('x.yaml doc 1: Service default/a');
    expect(msg).toContain('name "a\\nb" is not a DNS-1123 label');
  });

  it('keeps IPv6 Services: they are valid, not errors', () => {
    const m = parseManifests(service('  clusterIP: "fd00::10"\n  ports: [{port: 80}]'), 'v6.yaml');
    expect(m.services[0]?.ipFamilies).toEqual(['IPv6']);
  });
});

describe('EndpointSlice validation', () => {
  it('rejects invalid addresses in IPv4 slices, naming the slice', () => {
    const msg = errorOf(`${GOOD_SERVICE}---\n${slice('addressType: IPv4\nendpoints: [{addresses: [10.0.0.256]}]')}`, 'eps.yaml');
    expect(msg).toBe('eps.yaml doc 2: EndpointSlice default/foo-1: endpoints[0] address "10.0.0.256" is not a valid IPv4 address');
  });

  it('rejects the addresses the API server calls special (loopback, link-local, unspecified) and a port name used twice', () => {
    expect(errorOf(`${GOOD_SERVICE}---\n${slice('addressType: IPv4\nendpoints: [{addresses: [127.0.0.1]}]')}`)).toContain('endpoints[0] address "127.0.0.1" may not be in the loopback range (127.0.0.0/8)');
    expect(errorOf(`${GOOD_SERVICE}---\n${slice('addressType: IPv6\nendpoints: [{addresses: ["fe80::1"]}]')}`)).toContain('endpoints[0] address "fe80::1" may not be in the link-local range (fe80::/10)');
    expect(errorOf(`${GOOD_SERVICE}---\n${slice('addressType: IPv4\nports: [{name: http, port: 80}, {name: http, port: 81}]\nendpoints: [{addresses: [10.1.0.1]}]')}`)).toContain('port name "http" is used twice');
  });

  it('rejects IPv4 addresses in IPv6 slices and accepts IPv6 ones', () => {
    expect(errorOf(`${GOOD_SERVICE}---\n${slice('addressType: IPv6\nendpoints: [{addresses: [10.0.0.1]}]')}`)).toContain(
      'endpoints[0] address "10.0.0.1" is not a valid IPv6 address',
    );
    const m = parseManifests(`${GOOD_SERVICE}---\n${slice('addressType: IPv6\nendpoints: [{addresses: ["fd00::1"]}]')}`, 'x.yaml');
    expect(m.endpointSlices[0]?.addressType).toBe('IPv6');
  });

  it('rejects a slice whose service-name label points at no Service', () => {
    const msg = errorOf(`${GOOD_SERVICE}---\n${slice('addressType: IPv4\nendpoints: []', '{kubernetes.io/service-name: bar}', 'bar-1')}`, 'eps.yaml');
    expect(msg).toBe(
      'eps.yaml doc 2: EndpointSlice default/bar-1: label kubernetes.io/service-name points at Service default/bar, which is not in the input',
    );
  });

  it('rejects slice ports out of range and unknown address types', () => {
    expect(errorOf(`${GOOD_SERVICE}---\n${slice('addressType: IPv4\nports: [{port: 0}]\nendpoints: []')}`)).toContain(
      'EndpointSlice default/foo-1: port #1: port 0 is out of range 1..65535',
    );
    expect(errorOf(`${GOOD_SERVICE}---\n${slice('addressType: IPv5\nendpoints: []')}`)).toContain(
      'EndpointSlice default/foo-1: addressType: unknown value "IPv5"',
    );
    expect(errorOf(`${GOOD_SERVICE}---\n${slice('endpoints: []')}`)).toContain('doc 2: EndpointSlice default/foo-1: addressType: is required');
  });

  it('rejects non-boolean conditions and missing addresses', () => {
    expect(errorOf(`${GOOD_SERVICE}---\n${slice('addressType: IPv4\nendpoints: [{addresses: [10.0.0.1], conditions: {ready: "yes"}}]')}`)).toContain(
      'EndpointSlice default/foo-1: endpoints[0].conditions.ready: expected true or false, got a string',
    );
    expect(errorOf(`${GOOD_SERVICE}---\n${slice('addressType: IPv4\nendpoints: [{nodeName: n}]')}`)).toContain('endpoints[0].addresses: is required');
  });
});

describe('duplicates', () => {
  it('rejects duplicate Service names within a namespace, naming both places', () => {
    const msg = errorOf(`${GOOD_SERVICE}---\n${GOOD_SERVICE}`, 'dup.yaml');
    expect(msg).toBe('dup.yaml doc 2: Service default/foo: duplicate Service name in namespace default (first defined at dup.yaml doc 1)');
  });

  it('rejects two Services on one cluster IP (each backend would pick a different winner), naming the first', () => {
    const other = GOOD_SERVICE.replace('name: foo', 'name: bar');
    expect(errorOf(`${GOOD_SERVICE}---\n${other}`, 'ip.yaml')).toBe('ip.yaml doc 2: Service default/bar: cluster IP 10.0.0.1 is already used by ip.yaml doc 1: Service default/foo');
  });

  it('allows the same name in different namespaces', () => {
    const other = GOOD_SERVICE.replace('namespace: default', 'namespace: other').replace('10.0.0.1', '10.0.0.2');
    expect(parseManifests(`${GOOD_SERVICE}---\n${other}`, 'ok.yaml').services).toHaveLength(2);
  });

  it('rejects duplicate EndpointSlice names within a namespace', () => {
    const s = slice('addressType: IPv4\nendpoints: []');
    expect(errorOf(`${GOOD_SERVICE}---\n${s}---\n${s}`, 'dup.yaml')).toBe(
      'dup.yaml doc 3: EndpointSlice default/foo-1: duplicate EndpointSlice name in namespace default (first defined at dup.yaml doc 2)',
    );
  });

  it('rejects a node port used by two Services', () => {
    const np = (name: string, ip: string) =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec: {type: NodePort, clusterIP: ${ip}, ports: [{port: 80, nodePort: 30100}]}\n`;
    expect(errorOf(`${np('a', '10.0.0.1')}---\n${np('b', '10.0.0.2')}`, 'np.yaml')).toContain(
      'np.yaml doc 2: Service default/b: node port 30100 is already used by np.yaml doc 1: Service default/a',
    );
  });
});

describe('malformed input', () => {
  it('reports YAML syntax errors with their line', () => {
    const msg = errorOf('apiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n', 'bad.yaml');
    expect(msg).toMatch(/^bad\.yaml line \d+, column \d+: invalid YAML: /);
  });

  it('reports duplicate keys', () => {
    expect(errorOf('kind: Service\nkind: Pod\n', 'dup.yaml')).toMatch(/^dup\.yaml line 2, column 1: duplicate key "kind": /);
  });

  it('reports JSON syntax errors for .json files', () => {
    const msg = errorOf('{\n  "kind": "Service",\n  "metadata": {"name": "a"\n', 'bad.json');
    expect(msg).toMatch(/^bad\.json( line \d+)?: invalid (JSON|YAML)/);
  });

  it('rejects documents that are not objects, and objects without kind', () => {
    expect(errorOf('just a string\n', 's.yaml')).toBe('s.yaml doc 1: document: expected a Kubernetes object (a mapping with apiVersion and kind)');
    expect(errorOf('- 1\n- 2\n', 's.yaml')).toContain('s.yaml doc 1: document: expected a Kubernetes object');
    expect(errorOf('apiVersion: v1\nmetadata: {name: a}\n', 's.yaml')).toBe('s.yaml doc 1: kind: is required');
  });

  it('rejects unsupported EndpointSlice versions rather than misreading them', () => {
    expect(errorOf('apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata: {name: a}\naddressType: IPv4\nendpoints: []\n', 'b.yaml')).toContain(
      'unsupported EndpointSlice apiVersion "discovery.k8s.io/v1beta1"',
    );
  });

  it('bounds alias expansion ("billion laughs")', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    lines.push('kind: Pod');
    expect(errorOf(lines.join('\n'), 'lol.yaml')).toMatch(/^lol\.yaml doc 1: invalid YAML: /);
  });
});

describe('validateModel', () => {
  it('returns every problem, and assertValidModel throws the first with a count', () => {
    const model: ClusterModel = {
      services: [
        {
          namespace: 'ns',
          name: 'a',
          type: 'ClusterIP',
          clusterIP: 'bogus',
          clusterIPs: ['bogus'],
          ipFamilies: [],
          externalIPs: ['x'],
          loadBalancerIngressIPs: [],
          loadBalancerSourceRanges: [],
          sessionAffinity: 'None',
          sessionAffinityTimeoutSeconds: 10800,
          externalTrafficPolicy: 'Cluster',
          internalTrafficPolicy: 'Cluster',
          healthCheckNodePort: 0,
          ports: [{ name: '', protocol: 'TCP', port: 0, targetPort: 0, nodePort: 0 }],
        },
      ],
      endpointSlices: [],
    };
    const problems = validateModel(model);
    expect(problems.map((p) => p.subject)).toEqual(['Service ns/a', 'Service ns/a', 'Service ns/a', 'Service ns/a']);
    expect(problems.map((p) => p.reason)).toEqual([
      'clusterIP "bogus" is not a valid IP address',
      'externalIPs entry "x" is not a valid IP address',
      'port #1: port 0 is out of range 1..65535',
      'port #1: targetPort 0 is out of range 1..65535',
    ]);
    expect(() => assertValidModel(model)).toThrow('Service ns/a: clusterIP "bogus" is not a valid IP address (and 3 more problems)');
  });

  it('honours a custom node port range', () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: NodePort, clusterIP: 10.0.0.1, ports: [{port: 80, nodePort: 8080}]}\n';
    expect(parseManifests(text, 'a.yaml', { nodePortRange: { min: 8000, max: 9000 } }).services[0]?.ports[0]?.nodePort).toBe(8080);
  });
});
