// EndpointSlices → endpoints per service port, as kube-proxy's
// EndpointSliceCache merges them for a single-family (IPv4) proxier.

import type { EndpointSlice } from '../../model/types.js';
import { endpointHash } from './hash.js';
import { normalizeIPv4 } from '../../model/ip.js';
import { endpointsKey, protocolLower, servicePortNameString } from './serviceports.js';
import type { EndpointInfo } from './types.js';

/**
 * EndpointInfo with its "ip:port" string and chain hash computed on first
 * read: not every backend needs them, and at 500k endpoints the eager
 * strings were a measurable share of the garbage a render makes.
 */
class EndpointRecord implements EndpointInfo {
  #endpoint: string | undefined;
  #chainHash: string | undefined;
  constructor(
    readonly ip: string,
    readonly port: number,
    readonly isLocal: boolean,
    readonly ready: boolean,
    readonly serving: boolean,
    readonly terminating: boolean,
    readonly zoneHints: ReadonlySet<string> | null,
    readonly nodeHints: ReadonlySet<string> | null,
    readonly servicePortName: string,
    private readonly protocolLower: string,
  ) {}

  get endpoint(): string {
    this.#endpoint ??= `${this.ip}:${this.port}`;
    return this.#endpoint;
  }

  get chainHash(): string {
    this.#chainHash ??= endpointHash(this.servicePortName, this.protocolLower, this.endpoint);
    return this.#chainHash;
  }
}

function hintSet(values: readonly string[] | undefined): ReadonlySet<string> | null {
  return values !== undefined && values.length > 0 ? new Set(values) : null;
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
      for (const ep of slice.endpoints) {
        const first = ep.addresses[0];
        if (first === undefined) continue;
        const ip = normalizeIPv4(first);
        // Upstream would render Go's "<nil>" for an unparsable address; we drop it instead.
        if (ip === undefined) continue;
        list.push(
          new EndpointRecord(
            ip,
            port.port,
            nodeName !== '' && ep.nodeName === nodeName,
            ep.conditions.ready,
            ep.conditions.serving,
            ep.conditions.terminating,
            hintSet(ep.zoneHints),
            opts.preferSameTrafficDistribution ? hintSet(ep.nodeHints) : null,
            spName,
            proto,
          ),
        );
      }
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
