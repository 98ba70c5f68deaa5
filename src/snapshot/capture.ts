// `kscale snapshot`: a read-only capture of the objects kscale can replay —
// Services, EndpointSlices, Nodes, Pods — from a live cluster, through
// @kubernetes/client-node. Only list calls are made (paged with limit/continue,
// as kubectl does); nothing is created, changed or watched.
//
// Output: one YAML `kind: List` per kind (services.yaml, endpointslices.yaml,
// nodes.yaml, pods.yaml), loadable by src/model/manifests.ts, plus a small
// kscale-snapshot.meta (JSON) saying where and when it was taken.
import { join } from 'node:path';
import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../results/write.js';

/** One page of a list call: items as plain JSON objects plus the continue token. */
export interface Page {
  items: unknown[];
  continueToken: string | undefined;
  resourceVersion: string | undefined;
}

export type ListFn = (opts: { limit: number; _continue?: string }) => Promise<Page>;

export interface KindSpec {
  kind: 'Service' | 'EndpointSlice' | 'Node' | 'Pod';
  apiVersion: string;
  file: string;
}

export const KINDS: readonly KindSpec[] = [
  { kind: 'Service', apiVersion: 'v1', file: 'services.yaml' },
  { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', file: 'endpointslices.yaml' },
  { kind: 'Node', apiVersion: 'v1', file: 'nodes.yaml' },
  { kind: 'Pod', apiVersion: 'v1', file: 'pods.yaml' },
];

export const META_FILE = 'kscale-snapshot.meta';
const PAGE_SIZE = 500;
/** A bound on pages so a server that keeps returning a continue token cannot loop forever. */
const MAX_PAGES = 100_000;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * What a snapshot keeps of one object. Typed list items come without kind and
 * apiVersion, so they are set. managedFields and kubectl's last-applied copy
 * are bookkeeping, and container env values can hold credentials: dropped.
 */
export function scrub(item: unknown, k: KindSpec): Obj {
  // The client's typed objects → plain JSON (dates become RFC 3339 strings, as the API sends them).
  const o = JSON.parse(JSON.stringify(item)) as Obj;
  const meta = isObj(o.metadata) ? o.metadata : {};
  delete meta.managedFields;
  if (isObj(meta.annotations)) {
    delete meta.annotations[LAST_APPLIED];
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
  }
  if (k.kind === 'Pod' && isObj(o.spec)) {
    for (const key of ['containers', 'initContainers', 'ephemeralContainers']) {
      const list = o.spec[key];
      if (!Array.isArray(list)) continue;
      for (const c of list) {
        if (!isObj(c) || !Array.isArray(c.env)) continue;
        for (const e of c.env) if (isObj(e) && 'value' in e) e.value = '<redacted by kscale snapshot>';
      }
    }
  }
  return { apiVersion: k.apiVersion, kind: k.kind, metadata: meta, ...Object.fromEntries(Object.entries(o).filter(([key]) => !['apiVersion', 'kind', 'metadata'].includes(key))) };
}

export async function listAll(list: ListFn, k: KindSpec): Promise<{ items: Obj[]; resourceVersion: string | undefined; pages: number }> {
  const items: Obj[] = [];
  let token: string | undefined;
  let resourceVersion: string | undefined;
  let pages = 0;
  do {
    const page = await list({ limit: PAGE_SIZE, ...(token ? { _continue: token } : {}) });
    pages++;
    resourceVersion ??= page.resourceVersion;
    for (const item of page.items) items.push(scrub(item, k));
    token = page.continueToken || undefined;
  } while (token && pages < MAX_PAGES);
  return { items, resourceVersion, pages };
}

interface TypedList {
  items: unknown[];
  metadata?: { _continue?: string; resourceVersion?: string };
}

function page(l: TypedList): Page {
  return { items: l.items, continueToken: l.metadata?._continue, resourceVersion: l.metadata?.resourceVersion };
}

/** The list calls for each kind, against the cluster a kubeconfig names. */
export function clusterLists(kubeconfigPath: string, context?: string): { server: string; context: string; lists: Record<KindSpec['kind'], ListFn> } {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (err) {
    throw new InputError(kubeconfigPath, `cannot load kubeconfig: ${(err as Error).message.split('\n')[0]}`);
  }
  if (context) {
    if (!kc.getContexts().some((c) => c.name === context)) throw new InputError('--context', `no context "${context}" in ${kubeconfigPath}`);
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new InputError(kubeconfigPath, 'the current context names no cluster');
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  return {
    server: cluster.server,
    context: kc.getCurrentContext(),
    lists: {
      Service: async (o) => page(await core.listServiceForAllNamespaces(o)),
      EndpointSlice: async (o) => page(await discovery.listEndpointSliceForAllNamespaces(o)),
      Node: async (o) => page(await core.listNode(o)),
      Pod: async (o) => page(await core.listPodForAllNamespaces(o)),
    },
  };
}

export interface SnapshotSummary {
  outDir: string;
  server: string;
  context: string;
  capturedAt: string;
  counts: Record<KindSpec['kind'], number>;
  files: string[];
}

/** Capture every kind into `outDir`; an API error names the kind and the server's reason. */
export async function takeSnapshot(lists: Record<KindSpec['kind'], ListFn>, outDir: string, where: { server: string; context: string }): Promise<SnapshotSummary> {
  const capturedAt = new Date().toISOString();
  const counts = {} as Record<KindSpec['kind'], number>;
  const files: string[] = [];
  const versions: Record<string, string | undefined> = {};
  for (const k of KINDS) {
    let got;
    try {
      got = await listAll(lists[k.kind], k);
    } catch (err) {
      throw new Error(`listing ${k.kind}s from ${where.server} failed: ${apiReason(err)}`);
    }
    counts[k.kind] = got.items.length;
    versions[k.kind] = got.resourceVersion;
    const path = join(outDir, k.file);
    writeFileAtomic(path, `# kscale snapshot of ${where.server} (context ${where.context}) at ${capturedAt}\n` + stringify({ apiVersion: 'v1', kind: 'List', items: got.items }));
    files.push(path);
  }
  writeFileAtomic(join(outDir, META_FILE), JSON.stringify({ server: where.server, context: where.context, capturedAt, counts, resourceVersions: versions }, null, 2) + '\n');
  return { outDir, server: where.server, context: where.context, capturedAt, counts, files };
}

/** The API server's own message (a Status object's `message`) when there is one. */
function apiReason(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let body = e.body;
  if (typeof body === 'string') {
    try { body = JSON.parse(body); } catch { /* plain text */ }
  }
  const msg = isObj(body) && typeof body.message === 'string' ? body.message : (e.message ?? String(err)).split('\n')[0];
  return e.code ? `HTTP ${e.code}: ${msg}` : (msg ?? 'unknown error');
}
