// Property: whatever text arrives — random, truncated, mutated, or a
// structurally plausible object with wrong field types — parseManifests either
// returns a model or throws InputError. Never a TypeError, RangeError or a
// parser's own exception type.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { InputError } from '../../src/errors.js';
import { parseManifests } from '../../src/model/manifests.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'manifests');
const KUBECTL = readFileSync(join(FIXTURES, 'kubectl-get-svc-eps.yaml'), 'utf8');
const KUBECTL_JSON = readFileSync(join(FIXTURES, 'kubectl-get-svc-eps.json'), 'utf8');
const MIXED = readFileSync(join(FIXTURES, 'mixed-multidoc.yaml'), 'utf8');

function parsesOrInputError(text: string, file: string): boolean {
  try {
    const m = parseManifests(text, file);
    return Array.isArray(m.services) && Array.isArray(m.endpointSlices);
  } catch (e) {
    if (e instanceof InputError) return true;
    throw e; // fast-check reports the input that produced it
  }
}

const texts = fc.constantFrom(KUBECTL, KUBECTL_JSON, MIXED);

/** A value in a field: mostly plausible, often the wrong JSON type. */
const leaf = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('10.0.0.1', 'fd00::1', 'None', '', 'TCP', 'UDP', 'ClientIP', 'Local', 'LoadBalancer', 'NodePort', '1.2.3.4/28'),
  fc.integer({ min: -5, max: 70000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);

const port = fc.record(
  { name: leaf, port: leaf, protocol: leaf, targetPort: leaf, nodePort: leaf },
  { requiredKeys: [] },
);

const service = fc.record(
  {
    apiVersion: fc.constantFrom('v1', 'apps/v1', undefined),
    kind: fc.constant('Service'),
    metadata: fc.oneof(leaf, fc.record({ name: leaf, namespace: leaf, labels: fc.oneof(leaf, fc.dictionary(fc.string(), leaf)) }, { requiredKeys: [] })),
    spec: fc.oneof(
      leaf,
      fc.record(
        {
          type: leaf,
          clusterIP: leaf,
          clusterIPs: fc.oneof(leaf, fc.array(leaf, { maxLength: 3 })),
          ipFamilies: fc.oneof(leaf, fc.array(leaf, { maxLength: 3 })),
          externalIPs: fc.oneof(leaf, fc.array(leaf, { maxLength: 3 })),
          loadBalancerSourceRanges: fc.oneof(leaf, fc.array(leaf, { maxLength: 3 })),
          sessionAffinity: leaf,
          sessionAffinityConfig: fc.oneof(leaf, fc.record({ clientIP: fc.oneof(leaf, fc.record({ timeoutSeconds: leaf })) })),
          externalTrafficPolicy: leaf,
          internalTrafficPolicy: leaf,
          healthCheckNodePort: leaf,
          ports: fc.oneof(leaf, fc.array(fc.oneof(port, leaf), { maxLength: 3 })),
        },
        { requiredKeys: [] },
      ),
    ),
    status: fc.oneof(leaf, fc.record({ loadBalancer: fc.oneof(leaf, fc.record({ ingress: fc.oneof(leaf, fc.array(fc.oneof(leaf, fc.record({ ip: leaf, ipMode: leaf })), { maxLength: 3 })) })) })),
  },
  { requiredKeys: ['kind'] },
);

const endpoint = fc.record(
  {
    addresses: fc.oneof(leaf, fc.array(leaf, { maxLength: 2 })),
    conditions: fc.oneof(leaf, fc.record({ ready: leaf, serving: leaf, terminating: leaf }, { requiredKeys: [] })),
    nodeName: leaf,
    zone: leaf,
    hints: fc.oneof(leaf, fc.record({ forZones: fc.oneof(leaf, fc.array(fc.oneof(leaf, fc.record({ name: leaf })), { maxLength: 2 })) })),
  },
  { requiredKeys: [] },
);

const endpointSlice = fc.record(
  {
    apiVersion: fc.constantFrom('discovery.k8s.io/v1', 'discovery.k8s.io/v1beta1', undefined),
    kind: fc.constant('EndpointSlice'),
    metadata: fc.oneof(
      leaf,
      fc.record({ name: leaf, namespace: leaf, labels: fc.oneof(leaf, fc.record({ 'kubernetes.io/service-name': leaf })) }, { requiredKeys: [] }),
    ),
    addressType: leaf,
    endpoints: fc.oneof(leaf, fc.array(fc.oneof(endpoint, leaf), { maxLength: 3 })),
    ports: fc.oneof(leaf, fc.array(fc.oneof(fc.record({ name: leaf, port: leaf, protocol: leaf }, { requiredKeys: [] }), leaf), { maxLength: 2 })),
  },
  { requiredKeys: ['kind'] },
);

const object = fc.oneof(service, endpointSlice, fc.record({ kind: fc.constantFrom('List', 'ServiceList', 'Pod'), items: fc.oneof(leaf, fc.array(fc.oneof(service, endpointSlice, leaf), { maxLength: 3 })) }));

describe('parseManifests on hostile input: a model or an InputError, nothing else', () => {
  it('arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (t) => parsesOrInputError(t, 'x.yaml')), { numRuns: 400 });
  });

  it('YAML-flavoured text', () => {
    const token = fc.constantFrom('kind: ', 'Service', 'apiVersion: v1\n', '- ', ': ', '\n', '  ', '{', '}', '[', ']', ',', '&a ', '*a', '!!str ', '---\n', '"', "'", '#', '|', '>', '? ', 'items:', 'spec:', 'ports:', '80', '10.0.0.1', '<<: ', '\t', '%YAML 1.2\n');
    fc.assert(fc.property(fc.array(token, { maxLength: 60 }), (ts) => parsesOrInputError(ts.join(''), 'x.yaml')), { numRuns: 400 });
  });

  it('truncated real manifests', () => {
    fc.assert(
      fc.property(texts, fc.double({ min: 0, max: 1, noNaN: true }), (t, f) => parsesOrInputError(t.slice(0, Math.floor(t.length * f)), 'cut.yaml')),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (f) => parsesOrInputError(KUBECTL_JSON.slice(0, Math.floor(KUBECTL_JSON.length * f)), 'cut.json')),
      { numRuns: 100 },
    );
  });

  it('real manifests with random edits', () => {
    fc.assert(
      fc.property(texts, fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 5 }), (t, edits) => {
        let s = t;
        for (const [at, ins] of edits) {
          const i = Math.floor(s.length * at);
          s = s.slice(0, i) + ins + s.slice(i + 1);
        }
        return parsesOrInputError(s, 'edit.yaml');
      }),
      { numRuns: 300 },
    );
  });

  it('plausible objects with wrong field types, as YAML and as JSON', () => {
    fc.assert(
      fc.property(fc.array(object, { minLength: 1, maxLength: 4 }), (objs) => {
        const yamlText = objs.map((o) => stringify(o)).join('---\n');
        return parsesOrInputError(yamlText, 'gen.yaml') && parsesOrInputError(JSON.stringify(objs), 'gen.json');
      }),
      { numRuns: 400 },
    );
  });

  it('deep nesting is an InputError, not a stack overflow', () => {
    expect(parsesOrInputError('['.repeat(50000), 'deep.yaml')).toBe(true);
    expect(parsesOrInputError('{"a":'.repeat(50000) + '1' + '}'.repeat(50000), 'deep.json')).toBe(true);
    expect(parsesOrInputError('- '.repeat(3000) + 'x', 'deep.yaml')).toBe(true);
  });
});
