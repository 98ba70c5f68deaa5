// EndpointSlices → endpoints per service port, as kube-proxy's
// EndpointSliceCache merges them for a single-family (IPv4) proxier.

import type { Endpoint, EndpointSlice } from '../../model/types.js';
import { endpointHash } from './hash.js';
import { normalizeIPv4 } from '../../model/ip.js';
import { endpointsKey, protocolLower, servicePortNameString } from './serviceports.js';
import type { EndpointInfo } from './types.js';

/**
 * What an endpoint is independent of the service port it serves: one per
 * discovery Endpoint object and port. Generated models share one endpoint
 * list between many slices, so these (and their "ip:port" strings) are built
 * once per shared list rather than once per service port.
 */
class EndpointCore {
  #endpoint: string | undefined;
  constructor(
    readonly ip: string,
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

/** The service port an endpoint record belongs to (shared by all its records). */
interface PortGroup {
  readonly servicePortName: string;
  readonly protocolLower: string;
}

/**
 * EndpointInfo of one service port: a shared core plus the port, with the
 * chain hash computed on first read (not every backend needs it). Three
 * fields instead of a dozen: at 500k endpoints the per-record size and the
 * per-record strings were most of the garbage buildProxyState made.
 */
class EndpointRecord implements EndpointInfo {
  #chainHash: string | undefined;
  constructor(
    private readonly core: EndpointCore,
    private readonly group: PortGroup,
  ) {}

  get ip(): string {
    return this.core.ip;
  }
  get port(): number {
    return this.core.port;
  }
  get endpoint(): string {
    return this.core.endpoint;
  }
  get isLocal(): boolean {
    return this.core.isLocal;
  }
  get ready(): boolean {
    return this.core.ready;
  }
  get serving(): boolean {
    return this.core.serving;
  }
  get terminating(): boolean {
    return this.core.terminating;
  }
  get zoneHints(): ReadonlySet<string> | null {
    return this.core.zoneHints;
  }
  get nodeHints(): ReadonlySet<string> | null {
    return this.core.nodeHints;
  }
  get servicePortName(): string {
    return this.group.servicePortName;
  }

  get chainHash(): string {
    this.#chainHash ??= endpointHash(this.group.servicePortName, this.group.protocolLower, this.core.endpoint);
    return this.#chainHash;
  }
}

function hintSet(values: readonly string[] | undefined): ReadonlySet<string> | null {
  return values !== undefined && values.length > 0 ? new Set(values) : null;
}

/**
 * Cores of one endpoint list for one port (null where the address is dropped),
 * built once per distinct list object: slices that share their endpoints
 * array (generated models do) share the cores too.
 */
function coresOf(
  cache: Map<readonly Endpoint[], Map<number, (EndpointCore | null)[]>>,
  endpoints: readonly Endpoint[],
  port: number,
  nodeName: string,
  nodeHintsOn: boolean,
): (EndpointCore | null)[] {
  let byPort = cache.get(endpoints);
  if (byPort === undefined) {
    byPort = new Map();
    cache.set(endpoints, byPort);
  }
  let cores = byPort.get(port);
  if (cores !== undefined) return cores;
  cores = new Array<EndpointCore | null>(endpoints.length);
  for (let i = 0; i < endpoints.length; i++) {
    const ep = endpoints[i] as Endpoint;
    const first = ep.addresses[0];
    // Upstream would render Go's "<nil>" for an unparsable address; we drop it instead.
    const ip = first === undefined ? undefined : normalizeIPv4(first);
    cores[i] =
      ip === undefined
        ? null
        : new EndpointCore(
            ip,
            port,
            nodeName !== '' && ep.nodeName === nodeName,
            ep.conditions.ready,
            ep.conditions.serving,
            ep.conditions.terminating,
            hintSet(ep.zoneHints),
            nodeHintsOn ? hintSet(ep.nodeHints) : null,
          );
  }
  byPort.set(port, cores);
  return cores;
}

/** Options for building the endpoints map. */
export interface EndpointsMapOptions {
  /** Feature gate PreferSameTrafficDistribution: node hints are ignored when false. */
  readonly preferSameTrafficDistribution: boolean;
}

/**
 * Endpoints of every service port found in IPv4 EndpointSlices, keyed like
 * ServicePortInfo.key. Within a key, endpoints are de-duplicated by "ip:port"
 * (a non-terminating copy wins over a terminating one, as upstream) and sorted
 * by that string, so "10.0.0.10:80" sorts before "10.0.0.2:80" exactly as Go's
 * string sort does.
 */
export function buildEndpointsMap(
  slices: readonly EndpointSlice[],
  nodeName: string,
  opts: EndpointsMapOptions,
): Map<string, EndpointInfo[]> {
  // Collect per key in arrival order, then sort and de-duplicate neighbours:
  // cheaper than a Map per service port at 500k endpoints.
  const lists = new Map<string, EndpointRecord[]>();
  const coreCache = new Map<readonly Endpoint[], Map<number, (EndpointCore | null)[]>>();
  for (const slice of slices) {
    // The IPv4 proxier only subscribes to IPv4 slices; FQDN slices are never proxied.
    if (slice.addressType !== 'IPv4' || slice.serviceName === '') continue;
    for (const port of slice.ports) {
      if (port.port === 0) continue;
      const spName = servicePortNameString(slice.namespace, slice.serviceName, port.name);
      const proto = protocolLower(port.protocol);
      const key = endpointsKey(spName, port.protocol);
      let list = lists.get(key);
      if (list === undefined) {
        list = [];
        lists.set(key, list);
      }
      const group: PortGroup = { servicePortName: spName, protocolLower: proto };
      const cores = coresOf(coreCache, slice.endpoints, port.port, nodeName, opts.preferSameTrafficDistribution);
      for (const core of cores) if (core !== null) list.push(new EndpointRecord(core, group));
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, list] of lists) {
    if (list.length === 0) continue;
    // Stable sort keeps arrival order among duplicates, which dedupe() relies on.
    if (!isSorted(list)) list.sort(compareEndpoints);
    out.set(key, dedupe(list));
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

/**
 * Collapse equal "ip:port" neighbours the way upstream's set insertion does:
 * the first copy is kept unless a later copy is not terminating, which replaces it.
 */
function dedupe(sorted: EndpointRecord[]): EndpointRecord[] {
  let w = 0;
  for (let r = 0; r < sorted.length; r++) {
    const ep = sorted[r] as EndpointRecord;
    const prev = w > 0 ? (sorted[w - 1] as EndpointRecord) : undefined;
    if (prev !== undefined && prev.ip === ep.ip && prev.port === ep.port) {
      if (!ep.terminating) sorted[w - 1] = ep;
    } else {
      sorted[w++] = ep;
    }
  }
  sorted.length = w;
  return sorted;
}

/** One slice port's records and the key they belong to. */
interface SlicePort {
  readonly key: string;
  readonly records: readonly EndpointRecord[];
}

/**
 * What buildEndpointsMapMemo keeps between builds: per EndpointSlice object
 * its ports' records, and per key the slice ports its list came from and
 * the list. Slices must not be mutated in place once seen (models replace
 * the objects they change, as delta.ts does).
 */
export interface EndpointsMemo {
  readonly nodeName: string;
  readonly preferSameTrafficDistribution: boolean;
  readonly slicePorts: WeakMap<EndpointSlice, readonly (SlicePort | null)[]>;
  last: Map<string, { readonly sources: readonly SlicePort[]; readonly list: EndpointRecord[] }>;
}

export function newEndpointsMemo(nodeName: string, opts: EndpointsMapOptions): EndpointsMemo {
  return { nodeName, preferSameTrafficDistribution: opts.preferSameTrafficDistribution, slicePorts: new WeakMap(), last: new Map() };
}

function slicePortsOf(slice: EndpointSlice, nodeName: string, nodeHintsOn: boolean, coreCache: Map<readonly Endpoint[], Map<number, (EndpointCore | null)[]>>): (SlicePort | null)[] {
  return slice.ports.map((port) => {
    if (port.port === 0) return null;
    const spName = servicePortNameString(slice.namespace, slice.serviceName, port.name);
    const group: PortGroup = { servicePortName: spName, protocolLower: protocolLower(port.protocol) };
    const records: EndpointRecord[] = [];
    for (const core of coresOf(coreCache, slice.endpoints, port.port, nodeName, nodeHintsOn)) if (core !== null) records.push(new EndpointRecord(core, group));
    return { key: endpointsKey(spName, port.protocol), records };
  });
}

function sameSources(a: readonly SlicePort[], b: readonly SlicePort[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * buildEndpointsMap that reuses `memo`: slices seen before keep their
 * records (and the chain hashes cached on them), and a key whose list comes
 * from the same slice ports as last time keeps its sorted list, so a build
 * after a small change costs little more than a walk over the slices.
 * Same result as buildEndpointsMap for the same inputs.
 */
export function buildEndpointsMapMemo(slices: readonly EndpointSlice[], memo: EndpointsMemo): Map<string, EndpointInfo[]> {
  const sourcesByKey = new Map<string, SlicePort[]>();
  const coreCache = new Map<readonly Endpoint[], Map<number, (EndpointCore | null)[]>>();
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
  const out = new Map<string, EndpointInfo[]>();
  const last = new Map<string, { sources: readonly SlicePort[]; list: EndpointRecord[] }>();
  for (const [key, sources] of sourcesByKey) {
    const before = memo.last.get(key);
    let list: EndpointRecord[];
    if (before !== undefined && sameSources(before.sources, sources)) {
      list = before.list;
    } else {
      list = [];
      for (const sp of sources) for (const r of sp.records) list.push(r);
      if (!isSorted(list)) list.sort(compareEndpoints);
      list = dedupe(list);
    }
    last.set(key, { sources, list });
    if (list.length > 0) out.set(key, list);
  }
  memo.last = last;
  return out;
}
