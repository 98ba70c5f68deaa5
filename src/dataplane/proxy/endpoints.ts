// EndpointSlices → endpoints per service port, as kube-proxy's
// EndpointSliceCache merges them for a single-family (IPv4) proxier.

import type { Endpoint, EndpointSlice } from '../../model/types.js';
import { formatIPv4, parseIPv4, parseIPv4Sloppy } from '../../model/ip.js';
import { endpointsKey, servicePortNameString } from './serviceports.js';
import type { EndpointInfo } from './types.js';

/**
 * One discovery Endpoint object and port, as an EndpointInfo. It does not
 * depend on the service port, so generated models, which share one endpoint
 * list between many slices, share these (and their "ip:port" strings) too:
 * at 500k endpoints, per-service-port records were most of the garbage
 * buildProxyState made.
 */
class EndpointCore implements EndpointInfo {
  #endpoint: string | undefined;
  constructor(
    readonly ip: string,
    readonly ipv4: number,
    readonly port: number,
    readonly isLocal: boolean,
    readonly ready: boolean,
    readonly serving: boolean,
    readonly terminating: boolean,
    readonly zoneHints: ReadonlySet<string> | null,
    readonly nodeHints: ReadonlySet<string> | null,
  ) {}

  get endpoint(): string {
    this.#endpoint ??= `${this.ip}:${this.port}`;
    return this.#endpoint;
  }
}

function hintSet(values: readonly string[] | undefined): ReadonlySet<string> | null {
  return values !== undefined && values.length > 0 ? new Set(values) : null;
}

/** Per endpoint list object, per port: its endpoints (see coresOf). */
type CoreCache = Map<readonly Endpoint[], Map<number, readonly EndpointCore[]>>;

/**
 * The endpoints of one endpoint list for one port, unparsable addresses
 * dropped, built once per distinct list object: slices that share their
 * endpoints array (generated models do) share the result too. Never mutated.
 */
function coresOf(cache: CoreCache, endpoints: readonly Endpoint[], port: number, nodeName: string, nodeHintsOn: boolean): readonly EndpointCore[] {
  let byPort = cache.get(endpoints);
  if (byPort === undefined) {
    byPort = new Map();
    cache.set(endpoints, byPort);
  }
  const cached = byPort.get(port);
  if (cached !== undefined) return cached;
  const out: EndpointCore[] = [];
  for (const ep of endpoints) {
    const first = ep.addresses[0];
    // Upstream would render Go's "<nil>" for an unparsable address; we drop it instead.
    if (first === undefined) continue;
    // Canonical text is the common case: one parse, and the text is kept as it is.
    const strict = parseIPv4(first);
    const value = strict ?? parseIPv4Sloppy(first);
    if (value === undefined) continue;
    out.push(
      new EndpointCore(
        strict !== undefined ? first : formatIPv4(value),
        value,
        port,
        nodeName !== '' && ep.nodeName === nodeName,
        ep.conditions.ready,
        ep.conditions.serving,
        ep.conditions.terminating,
        hintSet(ep.zoneHints),
        nodeHintsOn ? hintSet(ep.nodeHints) : null,
      ),
    );
  }
  byPort.set(port, out);
  return out;
}

/**
 * Per list from coresOf, that list sorted and de-duplicated (the list itself
 * when it already is): computed once, not once per slice sharing the list.
 */
const sortedLists = new WeakMap<readonly EndpointCore[], readonly EndpointCore[]>();

function sortedUnique(cores: readonly EndpointCore[]): readonly EndpointCore[] {
  let sorted = sortedLists.get(cores);
  if (sorted === undefined) {
    sorted = isStrictlySorted(cores) ? cores : mergeCopy([cores]);
    sortedLists.set(cores, sorted);
  }
  return sorted;
}

/** Options for building the endpoints map. */
export interface EndpointsMapOptions {
  /** Feature gate PreferSameTrafficDistribution: node hints are ignored when false. */
  readonly preferSameTrafficDistribution: boolean;
}

/**
 * One key's endpoints from the endpoint lists of its slice ports, in slice
 * order: sorted by "ip:port" and de-duplicated. A single list (the usual
 * case: one slice per port) gives a list shared with every other key over
 * the same list, never copied again.
 */
function mergeSources(sources: readonly (readonly EndpointCore[])[]): readonly EndpointCore[] {
  const only = sources.length === 1 ? sources[0] : undefined;
  return only !== undefined ? sortedUnique(only) : mergeCopy(sources);
}

function mergeCopy(sources: readonly (readonly EndpointCore[])[]): EndpointCore[] {
  const list: EndpointCore[] = [];
  for (const src of sources) for (const ep of src) list.push(ep);
  // Stable sort keeps arrival order among duplicates, which dedupe() relies on.
  if (!isSorted(list)) list.sort(compareEndpoints);
  return dedupe(list);
}

/**
 * Endpoints of every service port found in IPv4 EndpointSlices, keyed like
 * ServicePortInfo.key. Within a key, endpoints are de-duplicated by "ip:port"
 * (a non-terminating copy wins over a terminating one, as upstream) and sorted
 * by that string, so "10.0.0.10:80" sorts before "10.0.0.2:80" exactly as Go's
 * string sort does. Lists may be shared between keys: never mutate them.
 */
export function buildEndpointsMap(
  slices: readonly EndpointSlice[],
  nodeName: string,
  opts: EndpointsMapOptions,
): Map<string, readonly EndpointInfo[]> {
  // Per key its first slice port's list; keys fed by more slice ports (a
  // Service with several slices) collect all of theirs in `more`. One map
  // entry per key, overwritten in place with the merged list at the end.
  const out = new Map<string, readonly EndpointCore[]>();
  const more = new Map<string, (readonly EndpointCore[])[]>();
  const coreCache: CoreCache = new Map();
  for (const slice of slices) {
    // The IPv4 proxier only subscribes to IPv4 slices; FQDN slices are never proxied.
    if (slice.addressType !== 'IPv4' || slice.serviceName === '') continue;
    for (const port of slice.ports) {
      if (port.port === 0) continue;
      const key = endpointsKey(servicePortNameString(slice.namespace, slice.serviceName, port.name), port.protocol);
      const cores = coresOf(coreCache, slice.endpoints, port.port, nodeName, opts.preferSameTrafficDistribution);
      const first = out.get(key);
      if (first === undefined) out.set(key, cores);
      else {
        const sources = more.get(key);
        if (sources === undefined) more.set(key, [first, cores]);
        else sources.push(cores);
      }
    }
  }
  for (const [key, list] of out) {
    const sources = more.get(key);
    const merged = sources !== undefined ? mergeCopy(sources) : sortedUnique(list);
    if (merged.length === 0) out.delete(key);
    else if (merged !== list) out.set(key, merged);
  }
  return out;
}

/**
 * Go's string order of "ip:port", computed from ip and port without building
 * the joined string. Where one IP is a proper prefix of the other
 * ("10.0.0.1" / "10.0.0.10"), the shorter continues with ':' (0x3a), which
 * sorts after every digit and '.', so the longer IP comes first.
 */
export function compareEndpoints(a: Pick<EndpointInfo, 'ip' | 'port'>, b: Pick<EndpointInfo, 'ip' | 'port'>): number {
  const x = a.ip;
  const y = b.ip;
  if (x === y) {
    if (a.port === b.port) return 0;
    // Decimal strings of equal length order like the numbers; otherwise compare the text.
    const px = String(a.port);
    const py = String(b.port);
    if (px.length === py.length) return a.port < b.port ? -1 : 1;
    return px < py ? -1 : 1;
  }
  if (x.length < y.length && y.startsWith(x)) return 1;
  if (y.length < x.length && x.startsWith(y)) return -1;
  return x < y ? -1 : 1;
}

function isSorted(list: readonly EndpointInfo[]): boolean {
  for (let i = 1; i < list.length; i++) {
    if (compareEndpoints(list[i - 1] as EndpointInfo, list[i] as EndpointInfo) > 0) return false;
  }
  return true;
}

function isStrictlySorted(list: readonly EndpointInfo[]): boolean {
  for (let i = 1; i < list.length; i++) {
    if (compareEndpoints(list[i - 1] as EndpointInfo, list[i] as EndpointInfo) >= 0) return false;
  }
  return true;
}

/**
 * Collapse equal "ip:port" neighbours the way upstream's set insertion does:
 * the first copy is kept unless a later copy is not terminating, which replaces it.
 */
function dedupe(sorted: EndpointCore[]): EndpointCore[] {
  let w = 0;
  for (let r = 0; r < sorted.length; r++) {
    const ep = sorted[r] as EndpointCore;
    const prev = w > 0 ? (sorted[w - 1] as EndpointCore) : undefined;
    if (prev !== undefined && prev.ip === ep.ip && prev.port === ep.port) {
      if (!ep.terminating) sorted[w - 1] = ep;
    } else {
      sorted[w++] = ep;
    }
  }
  sorted.length = w;
  return sorted;
}

/** One slice port's endpoints and the key they belong to. */
interface SlicePort {
  readonly key: string;
  readonly endpoints: readonly EndpointCore[];
}

/**
 * What buildEndpointsMapMemo keeps between builds: per EndpointSlice object
 * its ports' endpoints, and per key the slice ports its list came from and
 * the list. Slices must not be mutated in place once seen (models replace
 * the objects they change, as delta.ts does).
 */
export interface EndpointsMemo {
  readonly nodeName: string;
  readonly preferSameTrafficDistribution: boolean;
  readonly slicePorts: WeakMap<EndpointSlice, readonly (SlicePort | null)[]>;
  last: Map<string, { readonly sources: readonly SlicePort[]; readonly list: readonly EndpointCore[] }>;
}

export function newEndpointsMemo(nodeName: string, opts: EndpointsMapOptions): EndpointsMemo {
  return { nodeName, preferSameTrafficDistribution: opts.preferSameTrafficDistribution, slicePorts: new WeakMap(), last: new Map() };
}

function slicePortsOf(slice: EndpointSlice, nodeName: string, nodeHintsOn: boolean, coreCache: CoreCache): (SlicePort | null)[] {
  return slice.ports.map((port) => {
    if (port.port === 0) return null;
    const key = endpointsKey(servicePortNameString(slice.namespace, slice.serviceName, port.name), port.protocol);
    return { key, endpoints: coresOf(coreCache, slice.endpoints, port.port, nodeName, nodeHintsOn) };
  });
}

function sameSources(a: readonly SlicePort[], b: readonly SlicePort[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * buildEndpointsMap that reuses `memo`: slices seen before keep their
 * endpoint objects (and so the chain hashes cached for them), and a key whose
 * list comes from the same slice ports as last time keeps its sorted list, so
 * a build after a small change costs little more than a walk over the slices.
 * Same result as buildEndpointsMap for the same inputs.
 */
export function buildEndpointsMapMemo(slices: readonly EndpointSlice[], memo: EndpointsMemo): Map<string, readonly EndpointInfo[]> {
  const sourcesByKey = new Map<string, SlicePort[]>();
  const coreCache: CoreCache = new Map();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' || slice.serviceName === '') continue;
    let ports = memo.slicePorts.get(slice);
    if (ports === undefined) {
      ports = slicePortsOf(slice, memo.nodeName, memo.preferSameTrafficDistribution, coreCache);
      memo.slicePorts.set(slice, ports);
    }
    for (const sp of ports) {
      if (sp === null) continue;
      const list = sourcesByKey.get(sp.key);
      if (list === undefined) sourcesByKey.set(sp.key, [sp]);
      else list.push(sp);
    }
  }
  const out = new Map<string, readonly EndpointInfo[]>();
  const last = new Map<string, { sources: readonly SlicePort[]; list: readonly EndpointCore[] }>();
  for (const [key, sources] of sourcesByKey) {
    const before = memo.last.get(key);
    const list = before !== undefined && sameSources(before.sources, sources) ? before.list : mergeSources(sources.map((sp) => sp.endpoints));
    last.set(key, { sources, list });
    if (list.length > 0) out.set(key, list);
  }
  memo.last = last;
  return out;
}
