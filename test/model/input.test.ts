// Reading input files as kubectl and the API server would: findings of a
// fuzzing pass over `kscale rules --from`, `schedule --cluster/--pod` and
// `plan --cluster-profile`, each once accepted wrongly or reported misleadingly.
import { describe, expect, it } from 'vitest';
import { inputErrorOf, tmpFile } from '../inputs.js';
import { decodeBytes, decodeDocuments, MAX_NESTING } from '../../src/model/decode.js';
import { loadManifestFiles, parseManifests, readSingleDocument } from '../../src/model/manifests.js';
import { parseClusterManifests } from '../../src/scheduler/manifests.js';

/** The InputError message; fails the test when `f` succeeds or throws anything else. */
function errorOf(f: () => unknown): string {
  return inputErrorOf(f).message;
}


const service = (spec: string): string =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  clusterIP: 10.96.0.5\n${spec}`;

const NODE = 'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}\n';

describe('externalTrafficPolicy only on externally-accessible Services (upstream validateServiceExternalTrafficPolicy)', () => {
  it('rejects it on a ClusterIP Service without externalIPs, and on ExternalName', () => {
    expect(errorOf(() => parseManifests(service('  externalTrafficPolicy: Local\n  ports: [{port: 80}]\n'), 's.yaml'))).toBe(
      's.yaml doc 1: Service shop/web: spec.externalTrafficPolicy: may only be set for externally-accessible Services (type NodePort or LoadBalancer, or ClusterIP with externalIPs), not a ClusterIP Service without externalIPs; the API server rejects it',
    );
    // "Cluster" too: upstream rejects any value, not only Local.
    expect(errorOf(() => parseManifests(service('  externalTrafficPolicy: Cluster\n  ports: [{port: 80}]\n'), 's.yaml'))).toContain('may only be set for externally-accessible Services');
    const externalName = 'apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec: {type: ExternalName, externalName: db.example.com, externalTrafficPolicy: Local}\n';
    expect(errorOf(() => parseManifests(externalName, 'e.yaml'))).toContain('not a Service of type ExternalName');
  });

  it('accepts it on NodePort, LoadBalancer and ClusterIP with externalIPs; an empty value is unset', () => {
    const nodePort = parseManifests(service('  type: NodePort\n  externalTrafficPolicy: Local\n  ports: [{port: 80, nodePort: 30080}]\n'), 'n.yaml');
    expect(nodePort.services[0]?.externalTrafficPolicy).toBe('Local');
    const lb = parseManifests(service('  type: LoadBalancer\n  externalTrafficPolicy: Local\n  healthCheckNodePort: 32000\n  ports: [{port: 80, nodePort: 30080}]\n'), 'l.yaml');
    expect(lb.services[0]?.externalTrafficPolicy).toBe('Local');
    const external = parseManifests(service('  externalIPs: [192.0.2.10]\n  externalTrafficPolicy: Local\n  ports: [{port: 80}]\n'), 'x.yaml');
    expect(external.services[0]?.externalTrafficPolicy).toBe('Local');
    const empty = parseManifests(service('  externalTrafficPolicy: ""\n  ports: [{port: 80}]\n'), 'c.yaml');
    expect(empty.services[0]?.externalTrafficPolicy).toBe('Cluster');
  });
});

describe('integers beyond Number.MAX_SAFE_INTEGER are out of range, not "expected an integer"', () => {
  it('names the field and says out of range, from YAML and from JSON', () => {
    const yaml = errorOf(() => parseManifests(service('  ports: [{port: 99999999999999999999}]\n'), 'big.yaml'));
    expect(yaml).toBe('big.yaml doc 1: Service shop/web: spec.ports[0].port: out of range: too large to be read exactly (integers here are at most 9007199254740991 in magnitude)');
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }] } })
      .replace('"port":80', '"port":-99999999999999999999');
    expect(errorOf(() => parseManifests(json, 'big.json'))).toContain('spec.ports[0].port: out of range');
    expect(errorOf(() => parseManifests(service('  ports: [{port: 1e400}]\n'), 'inf.yaml'))).toContain('spec.ports[0].port: out of range');
  });

  it('in the scheduler reader too (a pod priority)', () => {
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  priority: 99999999999999999999\n  containers: [{name: c}]\n';
    expect(errorOf(() => parseClusterManifests(`${NODE}---\n${pod}`, 'c.yaml'))).toContain('spec.priority: out of range: too large to be read exactly');
  });

  it('leaves the largest safe integer to the range checks that name the real limit', () => {
    expect(errorOf(() => parseManifests(service('  ports: [{port: 9007199254740991}]\n'), 'p.yaml'))).toContain('port 9007199254740991 is out of range 1..65535');
  });
});

describe('YAML merge keys, as go-yaml v2 under sigs.k8s.io/yaml reads them', () => {
  it('merges an anchored mapping; keys written beside the merge win', () => {
    const m = parseManifests(
      service('  ports:\n  - &http {name: http, port: 80, protocol: TCP, targetPort: 8080}\n  - <<: *http\n    name: https\n    port: 443\n'),
      'merge.yaml',
    );
    expect(m.services[0]?.ports).toEqual([
      { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 0 },
      { name: 'https', protocol: 'TCP', port: 443, targetPort: 8080, nodePort: 0 },
    ]);
  });

  it('merges a list of mappings, and in the scheduler reader (shared resources)', () => {
    const pod = [
      'apiVersion: v1', 'kind: Pod', 'metadata: {name: p}', 'spec:', '  containers:',
      '  - name: a', '    resources: {requests: &req {cpu: 500m, memory: 1Gi}}',
      '  - name: b', '    resources:', '      requests:', '        <<: [*req, {memory: 4Gi, ephemeral-storage: 1Gi}]', '',
    ].join('\n');
    const c = parseClusterManifests(`${NODE}---\n${pod}`, 'c.yaml');
    expect(c.pods[0]?.requests).toMatchObject({ cpu: 1000, memory: 2 * 1024 ** 3, 'ephemeral-storage': 1024 ** 3 });
  });

  it('a merge of something other than a mapping is an InputError naming the document', () => {
    expect(errorOf(() => parseManifests(service('  <<: 5\n  ports: [{port: 80}]\n'), 'bad.yaml'))).toBe('bad.yaml doc 1: invalid YAML: Merge sources must be maps or map aliases');
  });
});

describe(`nesting deeper than ${MAX_NESTING} levels is a clean InputError, not a stack overflow`, () => {
  const deepJSON = (n: number): string => `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":${'['.repeat(n)}${']'.repeat(n)}}`;
  const deepYAML = (n: number): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: ${'['.repeat(n)}${']'.repeat(n)}\n`;

  it('100,000 nested arrays or objects, in JSON and in YAML', () => {
    const reason = 'nesting deeper than 256 levels (lists and mappings within one another)';
    expect(errorOf(() => parseManifests('['.repeat(100_000) + ']'.repeat(100_000), 'deep.json'))).toBe(`deep.json line 1, column 257: ${reason}`);
    expect(errorOf(() => parseManifests('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), 'deep.json'))).toBe(`deep.json line 1, column 1281: ${reason}`);
    expect(errorOf(() => parseManifests('['.repeat(100_000), 'deep.yaml'))).toBe(`deep.yaml line 1, column 257: ${reason}`);
    expect(errorOf(() => parseManifests('- '.repeat(100_000) + 'x', 'deep.yaml'))).toContain(`deep.yaml line 1, column 513: ${reason}`);
    const blockMaps = Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
    expect(errorOf(() => parseManifests(blockMaps, 'maps.yaml'))).toBe(`maps.yaml line 257, column 257: ${reason}`);
  });

  it(`${MAX_NESTING} levels are read (the object itself is the first); one more is not`, () => {
    // The ConfigMap is level 1 and its data value level 2, so n brackets reach n + 1.
    expect(parseManifests(deepJSON(MAX_NESTING - 1), 'ok.json').ignored).toEqual([{ kind: 'ConfigMap', count: 1 }]);
    expect(parseManifests(deepYAML(MAX_NESTING - 1), 'ok.yaml').ignored).toEqual([{ kind: 'ConfigMap', count: 1 }]);
    expect(errorOf(() => parseManifests(deepJSON(MAX_NESTING), 'no.json'))).toContain('nesting deeper than 256 levels');
    expect(errorOf(() => parseManifests(deepYAML(MAX_NESTING), 'no.yaml'))).toContain('nesting deeper than 256 levels');
  });

  it('a broken deep .json file gets the JSON complaint; the parser is usable afterwards', () => {
    expect(errorOf(() => parseManifests('['.repeat(100_000) + '}', 'broken.json'))).toMatch(/^broken\.json( line \d+)?: invalid JSON: /);
    expect(parseManifests(service('  ports: [{port: 80}]\n'), 'after.yaml').services).toHaveLength(1);
  });
});

describe('UTF-16 with a byte-order mark is decoded, as kubectl decodes it (cli-runtime BOMOverride)', () => {
  const text = service('  ports: [{port: 80}]\n');
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);

  it('decodeBytes: UTF-16 LE and BE, UTF-8 with and without its mark', () => {
    expect(decodeBytes(le)).toBe(text);
    expect(decodeBytes(be)).toBe(text);
    expect(decodeBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))).toBe(text);
    expect(decodeBytes(Buffer.from(text))).toBe(text);
    // A dangling odd byte is a malformed character, as in kubectl's decoder.
    expect(decodeBytes(Buffer.from([0xfe, 0xff, 0x00, 0x61, 0x00]))).toBe('a\uFFFD');
  });

  it('loads UTF-16 files (and a UTF-8 JSON file with a mark) like their UTF-8 twins', async () => {
    for (const file of [tmpFile('le.yaml', le), tmpFile('be.yaml', be)]) {
      const m = await loadManifestFiles([file]);
      expect(m.services.map((s) => `${s.namespace}/${s.name}:${s.ports[0]?.port}`)).toEqual(['shop/web:80']);
    }
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { clusterIP: '10.96.0.7', ports: [{ port: 80 }] } });
    expect((await loadManifestFiles([tmpFile('bom.json', `\uFEFF${json}`)])).services).toHaveLength(1);
  });

  it('UTF-16 without a mark (NUL bytes as UTF-8) says what it looks like', async () => {
    const file = tmpFile('nobom.yaml', Buffer.from(text, 'utf16le'));
    await expect(loadManifestFiles([file])).rejects.toThrow(
      `${file} line 1, column 2: a NUL character: not UTF-8 text (UTF-16 without a byte-order mark, or a binary file?)`,
    );
  });
});

describe('a key given twice in one mapping is an error naming the key and the file (kubectl --validate=strict)', () => {
  it('in JSON, where JSON.parse kept the last one', () => {
    const dup = '{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},\n"spec":{"clusterIP":"10.96.0.5","clusterIP":"10.96.0.6","ports":[{"port":80}]}}';
    expect(errorOf(() => parseManifests(dup, 'dup.json'))).toBe(
      'dup.json line 2, column 33: duplicate key "clusterIP" in spec: a field given twice is rejected, as kubectl --validate=strict rejects it (which one would count is a guess)',
    );
    // Deep in a List, and a key spelled with an escape is the same key.
    const list = '{"kind":"List","items":[{"kind":"Pod"},{"kind":"Service","metadata":{"name":"a","labels":{"x":"1","\\u0078":"2"}}}]}';
    expect(errorOf(() => parseManifests(list, 'list.json'))).toContain('duplicate key "x" in items[1].metadata.labels');
    const top = '{"kind":"Service","kind":"Pod"}';
    expect(errorOf(() => parseManifests(top, 'top.json'))).toContain('duplicate key "kind" in the top-level object');
  });

  it('in JSON, only within one object; quotes and backslashes inside strings do not confuse it', () => {
    const ok = JSON.stringify([
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', labels: { k: 'v "quoted" \\', 'k\\"': 'x' } }, spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' }, spec: { clusterIP: '10.96.0.6', ports: [{ port: 80 }] } },
    ]);
    expect(parseManifests(ok, 'ok.json').services.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('in YAML the message names the key, not only "Map keys must be unique"', () => {
    expect(errorOf(() => parseManifests(service('  clusterIP: 10.96.0.6\n  ports: [{port: 80}]\n'), 'dup.yaml'))).toBe(
      'dup.yaml line 6, column 3: duplicate key "clusterIP": a key given twice in one mapping is rejected, as kubectl --validate=strict rejects it (which one would count is a guess)',
    );
    expect(errorOf(() => decodeDocuments('a: 1\n"a": 2\n', 'q.yaml'))).toContain('q.yaml line 2, column 1: duplicate key "a"');
  });

  it('in a plan profile too (one reader for every input)', async () => {
    await expect(readSingleDocument(tmpFile('profile.yaml', 'nodes: 10\nnodes: 20\n'))).rejects.toThrow(/profile\.yaml line 2, column 1: duplicate key "nodes"/);
    await expect(readSingleDocument(tmpFile('two.yaml', 'nodes: 1\n---\nnodes: 2\n'))).rejects.toThrow(/two\.yaml: holds 2 documents; expected one/);
    expect(await readSingleDocument(tmpFile('merge.yaml', 'x: &x {nodes: 3}\n<<: *x\n'))).toEqual({ x: { nodes: 3 }, nodes: 3 });
  });
});
