// kscale snapshot against recorded API responses served by a local HTTP server
// that plays the API server: list endpoints only, paging with limit/continue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { clusterLists, takeSnapshot } from '../../src/snapshot/capture.js';
import { snapshotCounts } from '../../src/snapshot/summary.js';
import { loadManifestFiles } from '../../src/model/manifests.js';
import { snapshotCommand } from '../../src/commands/snapshot.js';
import { InputError } from '../../src/errors.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'snapshot');
const recorded = (f: string): string => readFileSync(join(FIX, f), 'utf8');
const FIRST_PAGE_TOKEN = (JSON.parse(recorded('services-1.json')) as { metadata: { continue: string } }).metadata.continue;

let server: Server;
let kubeconfig: string;
const requests: { method: string; url: string; auth: string | undefined }[] = [];

function route(path: string, query: URLSearchParams): string | undefined {
  if (path === '/api/v1/services') return query.get('continue') === FIRST_PAGE_TOKEN ? recorded('services-2.json') : recorded('services-1.json');
  if (path === '/apis/discovery.k8s.io/v1/endpointslices') return recorded('endpointslices.json');
  if (path === '/api/v1/nodes') return recorded('nodes.json');
  if (path === '/api/v1/pods') return recorded('pods.json');
  return undefined;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization });
    const body = req.method === 'GET' ? route(url.pathname, url.searchParams) : undefined;
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `the server could not find the requested resource`, reason: 'NotFound', code: 404 }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'kscale-kubeconfig-'));
  kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: recorded',
    'clusters:', `- name: recorded`, `  cluster:`, `    server: http://127.0.0.1:${port}`, '    insecure-skip-tls-verify: true', // client-node refuses plain http otherwise
    'users:', '- name: reader', '  user:', '    token: recorded-token',
    'contexts:', '- name: recorded', '  context:', '    cluster: recorded', '    user: reader', '',
  ].join('\n'));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('kscale snapshot', () => {
  it('lists every kind read-only, follows continue tokens and writes loadable Lists', async () => {
    requests.length = 0;
    const out = mkdtempSync(join(tmpdir(), 'kscale-snap-'));
    const { server: url, context, lists } = clusterLists(kubeconfig);
    const s = await takeSnapshot(lists, out, { server: url, context });
    expect(s.counts).toEqual({ Service: 3, EndpointSlice: 3, Node: 3, Pod: 6 });
    expect(requests.every((r) => r.method === 'GET')).toBe(true);
    expect(requests.every((r) => r.auth === 'Bearer recorded-token')).toBe(true);
    expect(requests.filter((r) => r.url.startsWith('/api/v1/services'))).toHaveLength(2);
    expect(requests.find((r) => r.url.includes('continue='))?.url).toContain('limit=500');
    expect(readdirSync(out).sort()).toEqual(['endpointslices.yaml', 'kscale-snapshot.meta', 'nodes.yaml', 'pods.yaml', 'services.yaml']);

    // The model loader reads the snapshot directory as it is; Nodes and Pods are counted as ignored.
    const model = await loadManifestFiles([out]);
    expect(model.services.map((x) => `${x.namespace}/${x.name}`).sort()).toEqual(['default/kubernetes', 'kube-system/kube-dns', 'shop/web']);
    expect(model.endpointSlices.find((e) => e.serviceName === 'web')?.endpoints.map((e) => e.conditions.ready)).toEqual([true, true, false]);
    expect(model.services.find((x) => x.name === 'web')?.ports[0]).toMatchObject({ port: 80, targetPort: 8080, nodePort: 31380, protocol: 'TCP' });
    expect(model.ignored).toEqual([{ kind: 'Node', count: 3 }, { kind: 'Pod', count: 6 }]);
  });

  it('drops managedFields and last-applied copies and redacts env values', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kscale-snap-'));
    const { server: url, context, lists } = clusterLists(kubeconfig);
    await takeSnapshot(lists, out, { server: url, context });
    const pods = parse(readFileSync(join(out, 'pods.yaml'), 'utf8')) as { kind: string; items: { kind: string; metadata: Record<string, unknown>; spec: { containers: { env?: { name: string; value?: string }[] }[] } }[] };
    expect(pods.kind).toBe('List');
    expect(pods.items.every((p) => p.kind === 'Pod' && !('managedFields' in p.metadata))).toBe(true);
    const env = pods.items.flatMap((p) => p.spec.containers.flatMap((c) => c.env ?? []));
    expect(env.find((e) => e.name === 'DB_PASSWORD')?.value).toBe('<redacted by kscale snapshot>');
    expect(readFileSync(join(out, 'pods.yaml'), 'utf8')).not.toContain('hunter2');
    expect(readFileSync(join(out, 'services.yaml'), 'utf8')).not.toContain('last-applied-configuration');
  });

  it('gives the plan its counts: nodes, live pods, programmed Services, ready endpoints per Service', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kscale-snap-'));
    const { server: url, context, lists } = clusterLists(kubeconfig);
    await takeSnapshot(lists, out, { server: url, context });
    // 3 programmed Services; ready endpoints 1 + 2 + 2 = 5; the Succeeded pod does not count.
    expect(await snapshotCounts(out)).toEqual({ nodes: 3, pods: 5, services: 3, endpointsPerService: 1.67 });
  });

  it('reads nodes.yaml and pods.yaml as `kscale schedule --cluster` does: UTF-16, merge keys, one-line errors', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kscale-snap-'));
    const empty = (kind: string): string => `apiVersion: v1\nkind: ${kind}\nitems: []\n`;
    writeFileSync(join(out, 'services.yaml'), empty('List'));
    writeFileSync(join(out, 'endpointslices.yaml'), empty('List'));
    // A Windows editor's save: UTF-16LE with a byte-order mark.
    const nodes = 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Node, metadata: {name: a}}\n- {apiVersion: v1, kind: Node, metadata: {name: b}}\n';
    writeFileSync(join(out, 'nodes.yaml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(nodes, 'utf16le')]));
    // The finished pod's phase comes through a merge key, which kubectl's decoder honours.
    writeFileSync(join(out, 'pods.yaml'), [
      'apiVersion: v1', 'kind: List', 'items:',
      '- {apiVersion: v1, kind: Pod, metadata: {name: live}, status: {phase: Running}}',
      '- apiVersion: v1', '  kind: Pod', '  metadata: {name: done}', '  status:', '    <<: &finished {phase: Succeeded}', '',
    ].join('\n'));
    expect(await snapshotCounts(out)).toMatchObject({ nodes: 2, pods: 1 });

    writeFileSync(join(out, 'pods.yaml'), `${'['.repeat(300)}${']'.repeat(300)}\n`);
    const err = await snapshotCounts(out).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/pods\.yaml.*nesting deeper than 256 levels/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('names the kind and the server reason when a list fails, and rejects a missing kubeconfig as input', async () => {
    const { lists } = clusterLists(kubeconfig);
    const broken = { ...lists, Node: () => lists.Node({ limit: 1, _continue: 'x' }).then(() => { throw Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: JSON.stringify({ message: 'nodes is forbidden: User "reader" cannot list resource "nodes"' }) }); }) };
    await expect(takeSnapshot(broken, mkdtempSync(join(tmpdir(), 'kscale-snap-')), { server: 's', context: 'c' })).rejects.toThrow(/listing Nodes from s failed: HTTP 403: nodes is forbidden/);
    await expect(snapshotCommand.run({ kubeconfig: join(tmpdir(), 'no-such-kubeconfig') }, [])).rejects.toThrow(InputError);
  });
});
