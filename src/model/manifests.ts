// Real Kubernetes manifests → ClusterModel.
//
// Accepts what people actually have: hand-written YAML, multi-document YAML,
// JSON, and `kubectl get svc,endpointslices -A -o yaml|json` dumps (kind: List,
// or typed ServiceList / EndpointSliceList whose items may lack kind, as
// `kubectl get --raw` prints them). Services (core v1) and EndpointSlices
// (discovery.k8s.io/v1) are kept; every other object is counted in `ignored`.
//
// Three stages, each small:
//   1. decode: bytes → text → plain JS documents (decode.ts; parser errors →
//              InputError with line);
//   2. read:   unknown → V1Service / V1EndpointSlice, checking every field's JSON
//              type, since a manifest is untrusted input, not a typed object;
//   3. normalise: apply the API server's defaults → model types (types.ts),
//              rejecting enum values kube-proxy would not understand.
// Semantic checks (IPs, ranges, references, duplicates) are validate.ts's,
// run once on the merged model so references may cross files.

import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  DiscoveryV1EndpointPort,
  V1Endpoint,
  V1EndpointSlice,
  V1ObjectMeta,
  V1Service,
  V1ServicePort,
} from '@kubernetes/client-node';
import { InputError } from '../errors.js';
import { decodeBytes, decodeDocuments } from './decode.js';
import { ipFamilyOf } from './ip.js';
import type {
  ClusterModel,
  Endpoint,
  EndpointConditions,
  EndpointSlice,
  EndpointSlicePort,
  IPFamily,
  Protocol,
  Service,
  ServicePort,
  ServiceType,
  TrafficPolicy,
} from './types.js';
import { problemsToError, validateModel } from './validate.js';
import type { ValidateOptions } from './validate.js';

/** Objects that were read but are not part of the model, by kind. */
export interface IgnoredKind {
  /** "Pod", "Deployment.apps", "EndpointSlice without kubernetes.io/service-name label", … */
  kind: string;
  count: number;
}

/** A ClusterModel plus what the input held besides Services and EndpointSlices. */
export interface ManifestModel extends ClusterModel {
  /** Sorted by kind, so output is stable. */
  ignored: IgnoredKind[];
}

export type ManifestOptions = ValidateOptions;

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const DEFAULT_AFFINITY_TIMEOUT = 10800;
/** Nested Lists are legal but unusual; a bound keeps hostile nesting from recursing deeply. */
const MAX_LIST_DEPTH = 4;

export type Obj = { readonly [key: string]: unknown };

// ---------------------------------------------------------------------------
// Stage 2: read unknown → official types, checking JSON types

/** Field readers that name the offending path; `undefined`/`null` mean "absent", as in the API. */
export class Reader {
  constructor(private subject: string) {}

  named(subject: string): Reader {
    return new Reader(subject);
  }

  fail(path: string, reason: string): never {
    throw new InputError(this.subject, `${path}: ${reason}`);
  }

  private typeName(v: unknown): string {
    return Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
  }

  obj(v: unknown, path: string): Obj | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(path, `expected a mapping, got ${this.typeName(v)}`);
    return v as Obj;
  }

  str(v: unknown, path: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${this.typeName(v)}`);
    return v;
  }

  int(v: unknown, path: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    // Beyond 2^53 the parsers have already rounded the digits: the value is not the one written.
    if (typeof v === 'number' && (v === Infinity || v === -Infinity || (Number.isInteger(v) && !Number.isSafeInteger(v)))) {
      this.fail(path, `out of range: too large to be read exactly (integers here are at most ${Number.MAX_SAFE_INTEGER} in magnitude)`);
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      this.fail(path, `expected an integer, got ${typeof v === 'number' ? String(v) : this.typeName(v)}`);
    }
    return v;
  }

  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(path, `expected true or false, got ${this.typeName(v)}`);
    return v;
  }

  list(v: unknown, path: string): readonly unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(path, `expected a list, got ${this.typeName(v)}`);
    return v;
  }

  strList(v: unknown, path: string): string[] | undefined {
    return this.list(v, path)?.map((x, i) => this.str(x, `${path}[${i}]`) ?? this.fail(`${path}[${i}]`, 'must not be null'));
  }

  objList(v: unknown, path: string): Obj[] | undefined {
    return this.list(v, path)?.map((x, i) => this.obj(x, `${path}[${i}]`) ?? this.fail(`${path}[${i}]`, 'must not be null'));
  }

  /** A string-to-string map such as labels; non-string values are an error, as in the API. */
  strMap(v: unknown, path: string): Record<string, string> | undefined {
    const o = this.obj(v, path);
    if (!o) return undefined;
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const k of Object.keys(o)) out[k] = this.str(o[k], `${path}.${k}`) ?? '';
    return out;
  }
}

export function field(o: Obj | undefined, key: string): unknown {
  return o !== undefined && Object.hasOwn(o, key) ? o[key] : undefined;
}

function readMeta(o: Obj, r: Reader): V1ObjectMeta {
  const m = r.obj(field(o, 'metadata'), 'metadata');
  return {
    name: r.str(field(m, 'name'), 'metadata.name'),
    namespace: r.str(field(m, 'namespace'), 'metadata.namespace'),
    labels: r.strMap(field(m, 'labels'), 'metadata.labels'),
  };
}

function readIntOrString(v: unknown, path: string, r: Reader): number | string | undefined {
  if (typeof v === 'string') return v;
  return r.int(v, path);
}

function readServicePort(p: Obj, path: string, r: Reader): V1ServicePort {
  const port = r.int(field(p, 'port'), `${path}.port`);
  if (port === undefined) r.fail(`${path}.port`, 'is required');
  return {
    name: r.str(field(p, 'name'), `${path}.name`),
    protocol: r.str(field(p, 'protocol'), `${path}.protocol`),
    port,
    targetPort: readIntOrString(field(p, 'targetPort'), `${path}.targetPort`, r),
    nodePort: r.int(field(p, 'nodePort'), `${path}.nodePort`),
  };
}

function readService(o: Obj, metadata: V1ObjectMeta, r: Reader): V1Service {
  const spec = r.obj(field(o, 'spec'), 'spec');
  const status = r.obj(field(o, 'status'), 'status');
  const lb = r.obj(field(status, 'loadBalancer'), 'status.loadBalancer');
  const affinity = r.obj(field(spec, 'sessionAffinityConfig'), 'spec.sessionAffinityConfig');
  const clientIP = r.obj(field(affinity, 'clientIP'), 'spec.sessionAffinityConfig.clientIP');
  return {
    metadata,
    spec: {
      type: r.str(field(spec, 'type'), 'spec.type'),
      clusterIP: r.str(field(spec, 'clusterIP'), 'spec.clusterIP'),
      clusterIPs: r.strList(field(spec, 'clusterIPs'), 'spec.clusterIPs'),
      ipFamilies: r.strList(field(spec, 'ipFamilies'), 'spec.ipFamilies'),
      externalIPs: r.strList(field(spec, 'externalIPs'), 'spec.externalIPs'),
      loadBalancerSourceRanges: r.strList(field(spec, 'loadBalancerSourceRanges'), 'spec.loadBalancerSourceRanges'),
      sessionAffinity: r.str(field(spec, 'sessionAffinity'), 'spec.sessionAffinity'),
      sessionAffinityConfig: {
        clientIP: {
          timeoutSeconds: r.int(field(clientIP, 'timeoutSeconds'), 'spec.sessionAffinityConfig.clientIP.timeoutSeconds'),
        },
      },
      externalTrafficPolicy: r.str(field(spec, 'externalTrafficPolicy'), 'spec.externalTrafficPolicy'),
      internalTrafficPolicy: r.str(field(spec, 'internalTrafficPolicy'), 'spec.internalTrafficPolicy'),
      healthCheckNodePort: r.int(field(spec, 'healthCheckNodePort'), 'spec.healthCheckNodePort'),
      ports: r.objList(field(spec, 'ports'), 'spec.ports')?.map((p, i) => readServicePort(p, `spec.ports[${i}]`, r)),
    },
    status: {
      loadBalancer: {
        ingress: r.objList(field(lb, 'ingress'), 'status.loadBalancer.ingress')?.map((ing, i) => ({
          ip: r.str(field(ing, 'ip'), `status.loadBalancer.ingress[${i}].ip`),
          ipMode: r.str(field(ing, 'ipMode'), `status.loadBalancer.ingress[${i}].ipMode`),
        })),
      },
    },
  };
}

function readEndpoint(e: Obj, path: string, r: Reader): V1Endpoint {
  const addresses = r.strList(field(e, 'addresses'), `${path}.addresses`);
  if (addresses === undefined) r.fail(`${path}.addresses`, 'is required');
  const c = r.obj(field(e, 'conditions'), `${path}.conditions`);
  const hints = r.obj(field(e, 'hints'), `${path}.hints`);
  return {
    addresses,
    conditions: {
      ready: r.bool(field(c, 'ready'), `${path}.conditions.ready`),
      serving: r.bool(field(c, 'serving'), `${path}.conditions.serving`),
      terminating: r.bool(field(c, 'terminating'), `${path}.conditions.terminating`),
    },
    nodeName: r.str(field(e, 'nodeName'), `${path}.nodeName`),
    zone: r.str(field(e, 'zone'), `${path}.zone`),
    hints: {
      forZones: r.objList(field(hints, 'forZones'), `${path}.hints.forZones`)?.map((z, i) => {
        const name = r.str(field(z, 'name'), `${path}.hints.forZones[${i}].name`);
        return { name: name ?? r.fail(`${path}.hints.forZones[${i}].name`, 'is required') };
      }),
      forNodes: r.objList(field(hints, 'forNodes'), `${path}.hints.forNodes`)?.map((nd, i) => {
        const name = r.str(field(nd, 'name'), `${path}.hints.forNodes[${i}].name`);
        return { name: name ?? r.fail(`${path}.hints.forNodes[${i}].name`, 'is required') };
      }),
    },
  };
}

function readEndpointSlice(o: Obj, metadata: V1ObjectMeta, r: Reader): V1EndpointSlice {
  const addressType = r.str(field(o, 'addressType'), 'addressType');
  if (addressType === undefined) r.fail('addressType', 'is required');
  return {
    metadata,
    addressType,
    // kubectl prints `endpoints: null` for an empty slice.
    endpoints: r.objList(field(o, 'endpoints'), 'endpoints')?.map((e, i) => readEndpoint(e, `endpoints[${i}]`, r)) ?? [],
    ports: r.objList(field(o, 'ports'), 'ports')?.map(
      (p, i): DiscoveryV1EndpointPort => ({
        name: r.str(field(p, 'name'), `ports[${i}].name`),
        protocol: r.str(field(p, 'protocol'), `ports[${i}].protocol`),
        port: r.int(field(p, 'port'), `ports[${i}].port`),
      }),
    ),
  };
}

// ---------------------------------------------------------------------------
// Stage 3: normalise with the API server's defaults

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], dflt: T, path: string, r: Reader): T {
  if (value === undefined || value === '') return dflt;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  return r.fail(path, `unknown value ${JSON.stringify(value)} (expected ${allowed.join(', ')})`);
}

const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
const SERVICE_TYPES: readonly ServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const POLICIES: readonly TrafficPolicy[] = ['Cluster', 'Local'];
const FAMILIES: readonly IPFamily[] = ['IPv4', 'IPv6'];

/** The ingress list, each ipMode one the API server allows (an unknown one silently dropped the IP). */
function checkedIngress<T extends { ipMode?: string }>(ingress: T[], r: Reader): T[] {
  ingress.forEach((ing, i) => {
    if (ing.ipMode !== undefined && ing.ipMode !== 'VIP' && ing.ipMode !== 'Proxy') {
      r.fail(`status.loadBalancer.ingress[${i}].ipMode`, `unknown value ${JSON.stringify(ing.ipMode)} (expected VIP, Proxy)`);
    }
  });
  return ingress;
}

/**
 * The API server's ExternallyAccessible: node ports, a load balancer, or a
 * ClusterIP with external IPs. Only such a Service may set
 * externalTrafficPolicy (validateServiceExternalTrafficPolicy).
 */
function externallyAccessible(type: ServiceType, externalIPs: readonly string[]): boolean {
  return type === 'NodePort' || type === 'LoadBalancer' || (type === 'ClusterIP' && externalIPs.length > 0);
}

function externalTrafficPolicy(value: string | undefined, type: ServiceType, externalIPs: readonly string[], r: Reader): TrafficPolicy {
  const path = 'spec.externalTrafficPolicy';
  if (value !== undefined && value !== '' && !externallyAccessible(type, externalIPs)) {
    const what = type === 'ClusterIP' ? 'a ClusterIP Service without externalIPs' : `a Service of type ${type}`;
    r.fail(path, `may only be set for externally-accessible Services (type NodePort or LoadBalancer, or ClusterIP with externalIPs), not ${what}; the API server rejects it`);
  }
  return oneOf(value, POLICIES, 'Cluster', path, r);
}

function normalizeService(raw: V1Service, source: string, r: Reader): Service {
  const meta = raw.metadata ?? {};
  const spec = raw.spec ?? {};
  const type = oneOf(spec.type, SERVICE_TYPES, 'ClusterIP', 'spec.type', r);
  const clusterIP = spec.clusterIP ?? spec.clusterIPs?.[0] ?? '';
  const clusterIPs = spec.clusterIPs ?? (clusterIP !== '' ? [clusterIP] : []);
  // The API server fills ipFamilies from the allocated clusterIPs; do the same
  // for hand-written manifests. Unparseable IPs are reported by validate.ts.
  const ipFamilies =
    spec.ipFamilies?.map((f, i) => oneOf(f, FAMILIES, 'IPv4', `spec.ipFamilies[${i}]`, r)) ??
    clusterIPs.map(ipFamilyOf).filter((f): f is IPFamily => f !== undefined);
  const sessionAffinity = oneOf(spec.sessionAffinity, ['None', 'ClientIP'] as const, 'None', 'spec.sessionAffinity', r);
  const ports = (spec.ports ?? []).map((p, i): ServicePort => ({
    name: p.name ?? '',
    protocol: oneOf(p.protocol, PROTOCOLS, 'TCP', `spec.ports[${i}].protocol`, r),
    port: p.port,
    // An empty targetPort (0 or "") defaults to port, as the API server does.
    targetPort: p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '' ? p.port : p.targetPort,
    nodePort: p.nodePort ?? 0,
  }));
  return {
    namespace: meta.namespace ?? 'default',
    name: meta.name ?? r.fail('metadata.name', 'is required'),
    type,
    clusterIP,
    clusterIPs,
    ipFamilies,
    externalIPs: spec.externalIPs ?? [],
    loadBalancerIngressIPs: checkedIngress(raw.status?.loadBalancer?.ingress ?? [], r)
      // kube-proxy programs only VIP-mode ingress IPs; "Proxy" mode means the
      // load balancer forwards to node ports itself. Hostname-only entries have no IP.
      .filter((ing) => ing.ip !== undefined && ing.ip !== '' && (ing.ipMode === undefined || ing.ipMode === 'VIP'))
      .map((ing) => ing.ip ?? ''),
    // The API server's validation tolerates padding here ("  1.2.3.4/28") and
    // kube-proxy trims it; the model holds the trimmed form.
    loadBalancerSourceRanges: (spec.loadBalancerSourceRanges ?? []).map((s) => s.trim()),
    sessionAffinity,
    sessionAffinityTimeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT,
    externalTrafficPolicy: externalTrafficPolicy(spec.externalTrafficPolicy, type, spec.externalIPs ?? [], r),
    internalTrafficPolicy: oneOf(spec.internalTrafficPolicy, POLICIES, 'Cluster', 'spec.internalTrafficPolicy', r),
    healthCheckNodePort: spec.healthCheckNodePort ?? 0,
    ports,
    source,
  };
}

function normalizeConditions(c: V1Endpoint['conditions']): EndpointConditions {
  // discovery/v1: nil ready means ready; nil serving follows ready; nil terminating is false.
  const ready = c?.ready ?? true;
  return { ready, serving: c?.serving ?? ready, terminating: c?.terminating ?? false };
}

function normalizeSlice(raw: V1EndpointSlice, serviceName: string, source: string, r: Reader): EndpointSlice {
  const meta = raw.metadata ?? {};
  const addressType = oneOf(raw.addressType, ['IPv4', 'IPv6', 'FQDN'] as const, 'IPv4', 'addressType', r);
  const ports: EndpointSlicePort[] = [];
  (raw.ports ?? []).forEach((p, i) => {
    // A nil port means "all ports" in the API, which kube-proxy cannot
    // program and skips; so do we.
    if (p.port === undefined) return;
    ports.push({ name: p.name ?? '', protocol: oneOf(p.protocol, PROTOCOLS, 'TCP', `ports[${i}].protocol`, r), port: p.port });
  });
  const endpoints = raw.endpoints.map((e): Endpoint => {
    const ep: Endpoint = {
      addresses: e.addresses,
      conditions: normalizeConditions(e.conditions),
      nodeName: e.nodeName ?? '',
      zone: e.zone ?? '',
      zoneHints: e.hints?.forZones?.map((z) => z.name) ?? [],
    };
    // Optional in the model: set only when the slice has node hints.
    const nodeHints = e.hints?.forNodes?.map((nd) => nd.name);
    if (nodeHints && nodeHints.length > 0) ep.nodeHints = nodeHints;
    return ep;
  });
  return {
    namespace: meta.namespace ?? 'default',
    name: meta.name ?? r.fail('metadata.name', 'is required'),
    serviceName,
    addressType,
    ports,
    endpoints,
    source,
  };
}

// ---------------------------------------------------------------------------
// Walking documents and Lists

interface Collected {
  services: Service[];
  endpointSlices: EndpointSlice[];
  ignored: Map<string, number>;
}

function newCollected(): Collected {
  return { services: [], endpointSlices: [], ignored: new Map() };
}

function countIgnored(c: Collected, kind: string): void {
  c.ignored.set(kind, (c.ignored.get(kind) ?? 0) + 1);
}

/** "v1" → "", "apps/v1" → "apps"; kubectl names kinds of other groups "Kind.group". */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** One object of a manifest (Lists already unwrapped), with a Reader that names where it came from. */
export interface ManifestObject {
  o: Obj;
  kind: string;
  apiVersion: string;
  /** "" for core, "apps", "discovery.k8s.io", … */
  group: string;
  /** "cluster.yaml doc 1 item 3" */
  where: string;
  r: Reader;
}

/** Calls `visit` for every object in a document, descending into Lists (kubectl's `kind: List` and typed FooLists). */
function walkObjects(
  value: unknown,
  where: string,
  inherited: { kind: string; apiVersion: string } | undefined,
  depth: number,
  visit: (m: ManifestObject) => void,
): void {
  if (value === undefined || value === null) return; // empty document, e.g. a trailing "---"
  const r: Reader = new Reader(where);
  if (typeof value !== 'object' || Array.isArray(value)) {
    r.fail('document', 'expected a Kubernetes object (a mapping with apiVersion and kind)');
  }
  const o = value as Obj;
  const kind = r.str(field(o, 'kind'), 'kind') ?? inherited?.kind;
  const apiVersion = r.str(field(o, 'apiVersion'), 'apiVersion') ?? inherited?.apiVersion ?? '';
  if (kind === undefined || kind === '') r.fail('kind', 'is required');

  if (kind.endsWith('List') && field(o, 'items') !== undefined) {
    if (depth >= MAX_LIST_DEPTH) r.fail('items', `Lists nested more than ${MAX_LIST_DEPTH} deep`);
    const items = r.list(field(o, 'items'), 'items') ?? [];
    // Typed lists (ServiceList) may omit kind on items; a generic List may not.
    const itemKind = kind === 'List' ? undefined : { kind: kind.slice(0, -'List'.length), apiVersion };
    items.forEach((item, i) => walkObjects(item, `${where} item ${i + 1}`, itemKind, depth + 1, visit));
    return;
  }
  visit({ o, kind, apiVersion, group: groupOf(apiVersion), where, r });
}

function collectObject({ o, kind, apiVersion, group, where, r }: ManifestObject, out: Collected): void {
  if (kind === 'Service' && group === '') {
    if (apiVersion !== '' && apiVersion !== 'v1') r.fail('apiVersion', `unsupported Service apiVersion ${JSON.stringify(apiVersion)} (expected v1)`);
    // Metadata first, so every later message can name the object.
    const meta = readMeta(o, r);
    const named: Reader = r.named(`${where}: Service ${meta.namespace ?? 'default'}/${meta.name ?? '?'}`);
    out.services.push(normalizeService(readService(o, meta, named), where, named));
    return;
  }
  if (kind === 'EndpointSlice' && group === 'discovery.k8s.io') {
    if (apiVersion !== 'discovery.k8s.io/v1') {
      r.fail('apiVersion', `unsupported EndpointSlice apiVersion ${JSON.stringify(apiVersion)} (expected discovery.k8s.io/v1)`);
    }
    const meta = readMeta(o, r);
    const named: Reader = r.named(`${where}: EndpointSlice ${meta.namespace ?? 'default'}/${meta.name ?? '?'}`);
    const raw = readEndpointSlice(o, meta, named);
    const serviceName = raw.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (serviceName === undefined || serviceName === '') {
      // kube-proxy ignores slices that belong to no Service (custom controllers' slices).
      countIgnored(out, `EndpointSlice without ${SERVICE_NAME_LABEL} label`);
      return;
    }
    out.endpointSlices.push(normalizeSlice(raw, serviceName, where, named));
    return;
  }
  countIgnored(out, group === '' ? kind : `${kind}.${group}`);
}

/**
 * Decodes one manifest text (YAML, multi-document YAML or JSON) and calls
 * `visit` for every object in it, Lists unwrapped. Pure: no I/O. The scheduler's
 * Node/Pod loader shares this with the Service/EndpointSlice one.
 */
export function forEachManifestObject(text: string, fileName: string, visit: (m: ManifestObject) => void): void {
  for (const d of decodeDocuments(text, fileName)) walkObjects(d.value, d.where, undefined, 0, visit);
}

function collectText(text: string, fileName: string, out: Collected): void {
  forEachManifestObject(text, fileName, (m) => collectObject(m, out));
}

function finish(c: Collected, options: ManifestOptions): ManifestModel {
  const model: ManifestModel = {
    services: c.services,
    endpointSlices: c.endpointSlices,
    ignored: [...c.ignored.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([kind, count]) => ({ kind, count })),
  };
  const err = problemsToError(validateModel(model, options));
  if (err) throw err;
  return model;
}

// ---------------------------------------------------------------------------
// Public API

/**
 * Parses one manifest text (YAML, multi-document YAML or JSON) into a validated
 * model. `fileName` only names the source in errors. Pure: no I/O.
 * Throws InputError for anything wrong with the input.
 */
export function parseManifests(text: string, fileName: string, options: ManifestOptions = {}): ManifestModel {
  const c = newCollected();
  collectText(text, fileName, c);
  return finish(c, options);
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

async function expandPath(path: string): Promise<string[]> {
  if (path === '-') return [path];
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new InputError(path, `cannot read: ${fsReason(e)}`);
  }
  if (!st.isDirectory()) return [path];
  // Like `kubectl apply -f DIR`: the manifest files directly inside, in name order.
  const names = (await readdir(path)).filter((n) => MANIFEST_EXT.test(n)).sort();
  return names.map((n) => join(path, n));
}

function fsReason(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]?.trim() ?? '';
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** One file's text ("-": standard input), decoded as kubectl decodes it (decode.ts). */
async function readText(file: string): Promise<string> {
  try {
    return decodeBytes(file === '-' ? await readStdin() : await readFile(file));
  } catch (e) {
    throw new InputError(file, `cannot read: ${fsReason(e)}`);
  }
}

/**
 * Loads manifest files into one validated model. A directory stands for the
 * *.yaml, *.yml and *.json files directly in it; "-" reads standard input.
 * References (EndpointSlice → Service) may cross files.
 */
export async function loadManifestFiles(paths: string[], options: ManifestOptions = {}): Promise<ManifestModel> {
  const c = newCollected();
  await readManifestTexts(paths, (text, fileName) => collectText(text, fileName, c));
  return finish(c, options);
}

/**
 * Reads manifest files in order and hands each text to `onText` with the name
 * errors should use. A directory stands for the *.yaml, *.yml and *.json files
 * directly in it; "-" reads standard input (named "<stdin>"), once: a second
 * "-" would read nothing and look like an empty file.
 */
export async function readManifestTexts(paths: string[], onText: (text: string, fileName: string) => void): Promise<void> {
  if (paths.length === 0) throw new InputError('manifests', 'no manifest files given');
  if (paths.filter((p) => p === '-').length > 1) throw new InputError('-', 'standard input is named twice; it can be read only once');
  for (const p of paths) {
    for (const file of await expandPath(p)) onText(await readText(file), file === '-' ? '<stdin>' : file);
  }
}

/**
 * The one document of a file such as `kscale plan`'s profile ("-": standard
 * input), decoded and parsed as manifests are; undefined for an empty file.
 */
export async function readSingleDocument(path: string): Promise<unknown> {
  const fileName = path === '-' ? '<stdin>' : path;
  const docs = decodeDocuments(await readText(path), fileName);
  if (docs.length > 1) throw new InputError(fileName, `holds ${docs.length} documents; expected one`);
  return docs[0]?.value;
}
