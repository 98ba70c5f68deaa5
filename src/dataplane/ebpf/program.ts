// The eBPF backend's program: the map entries maps.ts renders for a model,
// plus the indexes an incremental change needs to touch one Service's entries
// without walking 500,000 others (which frontends a Service has, where each
// frontend's service-map entries start). Pure.
import type { ClusterModel, NodeContext } from '../../model/types.js';
import type { ObjectCounts } from '../backend.js';
import { encodeEbpfMaps, renderEbpfMaps } from './maps.js';
import type { BackendEntry, EbpfMaps, EbpfMapsOptions, ServiceEntry } from './maps.js';
import { LB_MAPS } from './loader.js';
import type { MapImage } from './loader.js';

export interface EbpfProgram {
  maps: EbpfMaps;
  /** Frontend indices (revNatIndex - 1) per Service "namespace/name". */
  byService: ReadonlyMap<string, readonly number[]>;
  /** Frontend i's service-map entries are maps.services[entryStart[i] .. entryStart[i+1]). */
  entryStart: Uint32Array;
  /** Frontend index by frontendKey: which Service owns an address:port can change when another goes. */
  frontendIndex: ReadonlyMap<string, number>;
}

/** "namespace/name" of a ServicePortName string ("ns/name:port" or "ns/name"). */
export function serviceOf(servicePort: string): string {
  const colon = servicePort.indexOf(':');
  return colon < 0 ? servicePort : servicePort.slice(0, colon);
}

export function renderEbpf(model: ClusterModel, node: NodeContext, options: EbpfMapsOptions = {}): EbpfProgram {
  const maps = renderEbpfMaps(model, node, options);
  const byService = new Map<string, number[]>();
  maps.frontends.forEach((f, i) => {
    const key = serviceOf(f.servicePort);
    const list = byService.get(key);
    if (list) list.push(i);
    else byService.set(key, [i]);
  });
  // maps.ts writes each frontend's entries (every scope, slot 0 first) contiguously, in rev-NAT index order.
  const entryStart = new Uint32Array(maps.frontends.length + 1);
  let at = 0;
  for (let i = 0; i < maps.frontends.length; i++) {
    entryStart[i] = at;
    while (at < maps.services.length && maps.services.revNatIndexAt(at) === i + 1) at++;
  }
  entryStart[maps.frontends.length] = at;
  if (at !== maps.services.length) throw new Error('service map entries are not grouped by frontend in rev-NAT order');
  const frontendIndex = new Map<string, number>();
  for (let i = 0; i < maps.frontends.length; i++) {
    const start = entryStart[i]!;
    if (start < entryStart[i + 1]!) frontendIndex.set(frontendKey(maps.services.at(start)), i);
  }
  return { maps, byService, entryStart, frontendIndex };
}

/** The service-map entries of frontend i (0-based). */
export function entriesOf(p: EbpfProgram, i: number): readonly ServiceEntry[] {
  return p.maps.services.slice(p.entryStart[i], p.entryStart[i + 1]);
}

/** The backend entry an id of this program names. */
export function backendOf(p: EbpfProgram, id: number): BackendEntry {
  const b = p.maps.backends[id - 1];
  if (!b || b.id !== id) throw new Error(`backend id ${id} not in the program`);
  return b;
}

/** "address:port/proto" of a backend: the unit the loaded state allocates ids for. */
export function backendKey(b: Pick<BackendEntry, 'address' | 'port' | 'proto'>): string {
  return `${b.address}:${b.port}/${b.proto}`;
}

/** "address:port/proto" of a frontend (its slot-0 key, scope aside). */
export function frontendKey(e: Pick<ServiceEntry, 'address' | 'dport' | 'proto'>): string {
  return `${e.address}:${e.dport}/${e.proto}`;
}

export function ebpfCounts(p: EbpfProgram): ObjectCounts {
  const c = p.maps.counts;
  return { mapEntries: c.serviceEntries + c.backends + c.revNat };
}

/** Map images for a fresh load, backends and reverse NAT first so a frontend is visible only once its backends are (Cilium's order). */
export function renderImages(p: EbpfProgram): MapImage[] {
  const e = encodeEbpfMaps(p.maps);
  return [
    { map: LB_MAPS.backends, ...e.backends },
    { map: LB_MAPS.revNat, ...e.revNat },
    { map: LB_MAPS.services, ...e.services },
  ];
}
