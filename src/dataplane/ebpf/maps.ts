// eBPF load-balancer map entries for a model: the service, backend and
// reverse-NAT map contents a Cilium-style kube-proxy replacement would hold on
// one node (Cilium's lb4 maps, bpf/lib/lb.h), plus byte encoders for them.
// Pure: no bpf() calls here; the loader writes the encoded bytes.
//
// The layouts below are the contract with the BPF program (bpf/kscale_lb.c),
// which includes the same definitions from bpf/kscale_lb_maps.h:
//
//   struct lb4_key {            // 12 bytes, service map key
//       __be32 address;         // frontend IPv4 (network order)
//       __be16 dport;           // frontend port (network order)
//       __u16  backend_slot;    // 0 = frontend, 1..count = backend slots (host order)
//       __u8   proto;           // IPPROTO_*, or 0 = any (the default, as Cilium without protocol differentiation)
//       __u8   scope;           // LB_LOOKUP_SCOPE_EXT 0 / LB_LOOKUP_SCOPE_INT 1
//       __u8   pad[2];
//   };
//   struct lb4_service {        // 12 bytes, service map value (host order)
//       union { __u32 backend_id;         // slot > 0
//               __u32 affinity_timeout; }; // slot 0: ClientIP timeout in s, 0 = none
//       __u16 count;            // slot 0: number of backend slots
//       __u16 rev_nat_index;    // reverse-NAT key of the frontend
//       __u8  flags;            // SVC_FLAG_* (EXTERNAL_IP 1, NODEPORT 2, EXT_LOCAL_SCOPE 4,
//                               //   AFFINITY 16, LOADBALANCER 32, ROUTABLE 64, SOURCE_RANGE 128)
//       __u8  flags2;           // INT_LOCAL_SCOPE 16, TWO_SCOPES 32
//       __u16 qcount;           // 0
//   };
//   __u32 backend id            //  4 bytes, backend map key (host order)
//   struct lb4_backend {        //  8 bytes, backend map value
//       __be32 address; __be16 port;   // network order
//       __u8 proto;  __u8 flags;       // IPPROTO_*; BE_STATE_ACTIVE 0 / TERMINATING 1
//   };
//   __u16 rev_nat_index         //  2 bytes, reverse-NAT map key (host order)
//   struct lb4_reverse_nat {    //  8 bytes (Cilium packs to 6; kscale pads)
//       __be32 address; __be16 port; __u16 pad;
//   };
//
// Which backends a frontend gets follows kube-proxy's policies (the shared
// CategorizeEndpoints): cluster IPs use internalTrafficPolicy; external IPs,
// LoadBalancer IPs and NodePorts use externalTrafficPolicy, with no fallback
// (no local endpoint → count 0 → the program drops, as Cilium does). A
// frontend whose two policies differ also gets a LB_LOOKUP_SCOPE_INT copy with
// the internal backends and SVC_FLAG_TWO_SCOPES, as Cilium does.
//
// Not modelled: Cilium's surrogate 0.0.0.0:<NodePort> frontend, Maglev, the
// source-range LPM map, affinity and conntrack maps (runtime state).

import { endianness } from 'node:os';
import { InputError } from '../../errors.js';
import { formatIPv4, parseIPv4Sloppy } from '../../model/ip.js';
import type { ClusterModel, NodeContext, Protocol, Service } from '../../model/types.js';
import type { EndpointInfo, ProxyState, ServicePortInfo } from '../proxy/index.js';
import { buildProxyState, categorizeEndpoints, endpointsOf } from '../proxy/index.js';
import { LB4_KEY_SIZE, LB4_SERVICE_SIZE, ServiceEntries, writeLb4Key, writeLb4Service } from './table.js';

export { LB4_KEY_SIZE, LB4_SERVICE_SIZE } from './table.js';
export const LB4_BACKEND_KEY_SIZE = 4;
export const LB4_BACKEND_SIZE = 8;
export const LB4_REVNAT_KEY_SIZE = 2;
export const LB4_REVNAT_SIZE = 8;

export const LB_LOOKUP_SCOPE_EXT = 0;
export const LB_LOOKUP_SCOPE_INT = 1;

export const SVC_FLAG = {
  EXTERNAL_IP: 1 << 0,
  NODEPORT: 1 << 1,
  EXT_LOCAL_SCOPE: 1 << 2,
  HOSTPORT: 1 << 3,
  AFFINITY: 1 << 4,
  LOADBALANCER: 1 << 5,
  ROUTABLE: 1 << 6,
  SOURCE_RANGE: 1 << 7,
} as const;
export const SVC_FLAG2 = { INT_LOCAL_SCOPE: 1 << 4, TWO_SCOPES: 1 << 5 } as const;
export const BE_STATE = { ACTIVE: 0, TERMINATING: 1 } as const;

export const IPPROTO: Record<Protocol, number> = { TCP: 6, UDP: 17, SCTP: 132 };

/** One service map entry: lb4_key fields then lb4_service fields. Addresses as uint32 host values of the IPv4. */
export interface ServiceEntry {
  address: number;
  dport: number;
  backendSlot: number;
  proto: number;
  scope: number;
  /** Slot > 0: the backend id; slot 0: the affinity timeout (0 = none). */
  backendId: number;
  count: number;
  revNatIndex: number;
  flags: number;
  flags2: number;
}

export interface BackendEntry {
  id: number;
  address: number;
  port: number;
  proto: number;
  flags: number;
}

export interface RevNatEntry {
  index: number;
  address: number;
  port: number;
}

export type FrontendKind = 'cluster-ip' | 'external-ip' | 'load-balancer' | 'node-port';

/** What each rev-NAT index (= frontend) stands for, for reports and read-back checks. */
export interface FrontendInfo {
  revNatIndex: number;
  kind: FrontendKind;
  servicePort: string;
  protocol: Protocol;
}

export interface EbpfMaps {
  /** Service map entries, packed (table.ts): each frontend's entries contiguous, slot 0 first, in rev-NAT order. */
  services: ServiceEntries;
  backends: BackendEntry[];
  revNat: RevNatEntry[];
  frontends: FrontendInfo[];
  counts: { frontends: number; serviceEntries: number; backends: number; revNat: number };
  /** Frontends dropped because an earlier one has the same key (see protocolInKey). */
  warnings: string[];
  /**
   * Whether one of those was dropped for a frontend of another Service: then
   * which of the two a Service's map entries hold depends on the other one
   * (LoadedState.needsWholePrograms), unlike a Service's UDP port losing to
   * its own TCP port.
   */
  contested: boolean;
}

export interface EbpfMapsOptions {
  /**
   * Put the L4 protocol into lb4_key.proto (Cilium's protocol differentiation).
   * Default false: proto 0, one frontend per address:port — what bpf/kscale_lb.c
   * looks up — so a UDP port sharing a TCP port's address:port is dropped with a warning.
   */
  readonly protocolInKey?: boolean;
  /** Addresses NodePort frontends are created on. Default [nodeIP]. */
  readonly nodePortIPs?: readonly string[];
  readonly proxyState?: ProxyState;
}

interface Ctx {
  readonly maps: EbpfMaps;
  readonly protocolInKey: boolean;
  readonly nodePortIPs: readonly number[];
  /**
   * Backend ids by L4 protocol · 2^16 + port, then by the address as an
   * int32: both keys small integers, which a Map hashes without allocating.
   */
  readonly backendIds: Map<number, Map<number, number>>;
  /**
   * Frontend keys taken: address·2^16 + port → the ordinal of the Service
   * that took it first · 16 + bit set of the protos (PROTO_BIT) taken on it.
   */
  readonly seenKeys: Map<number, number>;
  /** Ordinal of the Service being rendered, and that Service. */
  ordinal: number;
  service: Service | null;
}

/** One bit per lb4_key.proto value a frontend can have (0 = any, or an IPPROTO_*). */
const PROTO_BIT: Record<number, number> = { 0: 1, [IPPROTO.TCP]: 2, [IPPROTO.UDP]: 4, [IPPROTO.SCTP]: 8 };

function ipv4(subject: string, text: string): number {
  const v = parseIPv4Sloppy(text);
  if (v === undefined) throw new InputError(subject, `not an IPv4 address: ${JSON.stringify(text)}`);
  return v;
}

function backendIdOf(ctx: Ctx, ep: EndpointInfo, proto: number): number {
  const group = proto * 65536 + ep.port;
  let ids = ctx.backendIds.get(group);
  if (ids === undefined) {
    ids = new Map();
    ctx.backendIds.set(group, ids);
  }
  const address = ep.ipv4;
  let id = ids.get(address | 0);
  if (id === undefined) {
    id = ctx.maps.backends.length + 1;
    ids.set(address | 0, id);
    ctx.maps.backends.push({
      id,
      address,
      port: ep.port,
      proto,
      flags: ep.terminating ? BE_STATE.TERMINATING : BE_STATE.ACTIVE,
    });
  }
  return id;
}

/** Backends one frontend's slots can number: slot 0 is the master entry, slots 1…count its backends (u16). */
export const MAX_BACKENDS_PER_FRONTEND = 0xffff;

function addScope(
  ctx: Ctx,
  address: number,
  port: number,
  proto: number,
  scope: number,
  revNatIndex: number,
  flags: number,
  flags2: number,
  affinity: number,
  backends: readonly EndpointInfo[],
  l4: number,
): void {
  const { services } = ctx.maps;
  if (backends.length > MAX_BACKENDS_PER_FRONTEND) {
    // The master entry's count and each slot's number are __u16 (lb4_key.backend_slot, lb4_service.count): past
    // them the entries would wrap onto other slots' keys, a map no agent could write.
    throw new InputError('ebpf maps', `${formatIPv4(address)}:${port} has ${backends.length} backends; a frontend holds at most ${MAX_BACKENDS_PER_FRONTEND} (backend_slot and count are __u16, as in Cilium's lb4_key)`);
  }
  services.push(address, port, 0, proto, scope, affinity, backends.length, revNatIndex, flags, flags2);
  for (let i = 0; i < backends.length; i++) {
    const id = backendIdOf(ctx, backends[i] as EndpointInfo, l4);
    // Slots carry only the backend id and rev-NAT index, as Cilium's lbmap writes them.
    services.push(address, port, i + 1, proto, scope, id, 0, revNatIndex, 0, 0);
  }
}

function addFrontend(
  ctx: Ctx,
  sp: ServicePortInfo,
  kind: FrontendKind,
  address: number,
  port: number,
  flags: number,
  flags2: number,
  ext: readonly EndpointInfo[],
  int: readonly EndpointInfo[] | null,
): void {
  const l4 = IPPROTO[sp.protocol];
  const proto = ctx.protocolInKey ? l4 : 0;
  // address·2^16 + port < 2^48: an exact number key; the proto is a bit in its value.
  const key = address * 65536 + port;
  const seen = ctx.seenKeys.get(key);
  const bit = PROTO_BIT[proto] ?? 0;
  if (seen !== undefined && (seen & bit) !== 0) {
    ctx.maps.warnings.push(`${kind} ${formatIPv4(address)}:${port}/${sp.protocol} of ${sp.name} shares its map key with an earlier frontend and is left out`);
    if (Math.floor(seen / 16) !== ctx.ordinal) ctx.maps.contested = true;
    return;
  }
  ctx.seenKeys.set(key, seen === undefined ? ctx.ordinal * 16 + bit : seen | bit);
  const revNatIndex = ctx.maps.revNat.length + 1;
  if (revNatIndex > 0xffff) {
    // Cilium's service IDs are 16-bit too; past them the agent cannot allocate one either.
    throw new InputError('ebpf maps', `the model has more than 65535 frontends (cluster, external, LoadBalancer IPs and node ports); rev_nat_index is a __u16, as Cilium's service ID`);
  }
  ctx.maps.revNat.push({ index: revNatIndex, address, port });
  ctx.maps.frontends.push({ revNatIndex, kind, servicePort: sp.name, protocol: sp.protocol });
  const affinity = sp.sessionAffinity === 'ClientIP' ? sp.stickyMaxAgeSeconds : 0;
  const f = flags | (affinity > 0 ? SVC_FLAG.AFFINITY : 0);
  const f2 = flags2 | (int !== null ? SVC_FLAG2.TWO_SCOPES : 0);
  addScope(ctx, address, port, proto, LB_LOOKUP_SCOPE_EXT, revNatIndex, f, f2, affinity, ext, l4);
  if (int !== null) addScope(ctx, address, port, proto, LB_LOOKUP_SCOPE_INT, revNatIndex, f, f2, affinity, int, l4);
}

function renderServicePort(ctx: Ctx, state: ProxyState, sp: ServicePortInfo): void {
  const { clusterEndpoints, localEndpoints } = categorizeEndpoints(endpointsOf(state, sp), sp, state.node);
  const internal = sp.internalPolicyLocal ? localEndpoints : clusterEndpoints;
  const external = sp.externalPolicyLocal ? localEndpoints : clusterEndpoints;
  // Only external frontends can have two scopes: their pods-side traffic follows ITP.
  const twoScopes = sp.externalPolicyLocal !== sp.internalPolicyLocal ? internal : null;
  const int2 = sp.internalPolicyLocal ? SVC_FLAG2.INT_LOCAL_SCOPE : 0;
  const extLocal = sp.externalPolicyLocal ? SVC_FLAG.EXT_LOCAL_SCOPE : 0;

  addFrontend(ctx, sp, 'cluster-ip', ipv4(sp.name, sp.clusterIP), sp.port, 0, int2, internal, null);
  for (const ip of sp.externalIPs) {
    addFrontend(ctx, sp, 'external-ip', ipv4(sp.name, ip), sp.port, SVC_FLAG.EXTERNAL_IP | SVC_FLAG.ROUTABLE | extLocal, int2, external, twoScopes);
  }
  const sourceRange = sp.loadBalancerSourceRanges.length > 0 ? SVC_FLAG.SOURCE_RANGE : 0;
  for (const ip of sp.loadBalancerVIPs) {
    addFrontend(ctx, sp, 'load-balancer', ipv4(sp.name, ip), sp.port, SVC_FLAG.LOADBALANCER | SVC_FLAG.ROUTABLE | extLocal | sourceRange, int2, external, twoScopes);
  }
  if (sp.nodePort !== 0) {
    for (const ip of ctx.nodePortIPs) {
      addFrontend(ctx, sp, 'node-port', ip, sp.nodePort, SVC_FLAG.NODEPORT | SVC_FLAG.ROUTABLE | extLocal, int2, external, twoScopes);
    }
  }
}

/** The service, backend and reverse-NAT map entries for `node`. */
export function renderEbpfMaps(model: ClusterModel, node: NodeContext, options: EbpfMapsOptions = {}): EbpfMaps {
  const state = options.proxyState ?? buildProxyState(model, node);
  const maps: EbpfMaps = { services: new ServiceEntries(), backends: [], revNat: [], frontends: [], counts: { frontends: 0, serviceEntries: 0, backends: 0, revNat: 0 }, warnings: [], contested: false };
  const ctx: Ctx = {
    maps,
    protocolInKey: options.protocolInKey ?? false,
    nodePortIPs: (options.nodePortIPs ?? [node.nodeIP]).map((ip) => ipv4('nodePortIPs', ip)),
    backendIds: new Map(),
    seenKeys: new Map(),
    ordinal: 0,
    service: null,
  };
  for (const sp of state.servicePorts) {
    if (sp.service !== ctx.service) {
      ctx.service = sp.service;
      ctx.ordinal++;
    }
    renderServicePort(ctx, state, sp);
  }
  maps.counts = { frontends: maps.frontends.length, serviceEntries: maps.services.length, backends: maps.backends.length, revNat: maps.revNat.length };
  return maps;
}

// ---------------------------------------------------------------------------
// Encoding. Network-order fields are written big-endian; host-order fields in
// this machine's byte order, since the kernel stores map bytes as given.

const LE = endianness() === 'LE';

/** Host-order stores go through a DataView over the Buffer's memory (one per Buffer: creating them is not free). */
function view(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

type Writer<T> = (v: DataView, off: number, e: T) => void;

const writeServiceKey: Writer<ServiceEntry> = (v, off, e) => writeLb4Key(v, off, e.address, e.dport, e.backendSlot, e.proto, e.scope);

const writeServiceValue: Writer<ServiceEntry> = (v, off, e) => writeLb4Service(v, off, e.backendId, e.count, e.revNatIndex, e.flags, e.flags2);

const writeBackendKey: Writer<BackendEntry> = (v, off, e) => v.setUint32(off, e.id, LE);

const writeBackendValue: Writer<BackendEntry> = (v, off, e) => {
  v.setUint32(off, e.address >>> 0, false);
  v.setUint16(off + 4, e.port, false);
  v.setUint8(off + 6, e.proto);
  v.setUint8(off + 7, e.flags);
};

const writeRevNatKey: Writer<RevNatEntry> = (v, off, e) => v.setUint16(off, e.index, LE);

const writeRevNatValue: Writer<RevNatEntry> = (v, off, e) => {
  v.setUint32(off, e.address >>> 0, false);
  v.setUint16(off + 4, e.port, false);
  v.setUint16(off + 6, 0);
};

function encodeWith<T>(write: Writer<T>, size: number): (e: T, buf?: Buffer, off?: number) => Buffer {
  return (e, buf = Buffer.alloc(size), off = 0) => {
    write(view(buf), off, e);
    return buf;
  };
}

/** struct lb4_key bytes of a service entry (into `buf` at `off`, or a new Buffer). */
export const encodeServiceKey = encodeWith(writeServiceKey, LB4_KEY_SIZE);
/** struct lb4_service bytes. */
export const encodeServiceValue = encodeWith(writeServiceValue, LB4_SERVICE_SIZE);
/** __u32 backend id bytes. */
export const encodeBackendKey = encodeWith(writeBackendKey, LB4_BACKEND_KEY_SIZE);
/** struct lb4_backend bytes. */
export const encodeBackendValue = encodeWith(writeBackendValue, LB4_BACKEND_SIZE);
/** __u16 rev-NAT index bytes. */
export const encodeRevNatKey = encodeWith(writeRevNatKey, LB4_REVNAT_KEY_SIZE);
/** struct lb4_reverse_nat bytes. */
export const encodeRevNatValue = encodeWith(writeRevNatValue, LB4_REVNAT_SIZE);

/** Keys and values of one map, packed back to back (the layout BPF_MAP_UPDATE_BATCH takes). */
export interface EncodedMap {
  keys: Buffer;
  values: Buffer;
  count: number;
  keySize: number;
  valueSize: number;
}

function pack<T>(items: readonly T[], keySize: number, valueSize: number, key: Writer<T>, value: Writer<T>): EncodedMap {
  const keys = Buffer.alloc(items.length * keySize);
  const values = Buffer.alloc(items.length * valueSize);
  const kv = view(keys);
  const vv = view(values);
  for (let i = 0; i < items.length; i++) {
    key(kv, i * keySize, items[i] as T);
    value(vv, i * valueSize, items[i] as T);
  }
  return { keys, values, count: items.length, keySize, valueSize };
}

/** All three maps as packed byte arrays. */
export function encodeEbpfMaps(maps: EbpfMaps): { services: EncodedMap; backends: EncodedMap; revNat: EncodedMap } {
  return {
    services: { ...maps.services.packed(), keySize: LB4_KEY_SIZE, valueSize: LB4_SERVICE_SIZE },
    backends: pack(maps.backends, LB4_BACKEND_KEY_SIZE, LB4_BACKEND_SIZE, writeBackendKey, writeBackendValue),
    revNat: pack(maps.revNat, LB4_REVNAT_KEY_SIZE, LB4_REVNAT_SIZE, writeRevNatKey, writeRevNatValue),
  };
}

/** A readable form for `kscale rules --backend ebpf`: dotted addresses, flag names. */
export function ebpfMapsToJSON(maps: EbpfMaps): unknown {
  const flagNames = (flags: number, flags2: number): string[] => [
    ...Object.entries(SVC_FLAG).filter(([, b]) => (flags & b) !== 0).map(([n]) => n),
    ...Object.entries(SVC_FLAG2).filter(([, b]) => (flags2 & b) !== 0).map(([n]) => n),
  ];
  return {
    services: maps.services.slice().map((e) => ({
      key: { address: formatIPv4(e.address), dport: e.dport, backend_slot: e.backendSlot, proto: e.proto, scope: e.scope },
      value:
        e.backendSlot === 0
          ? { count: e.count, affinity_timeout: e.backendId, rev_nat_index: e.revNatIndex, flags: flagNames(e.flags, e.flags2) }
          : { backend_id: e.backendId, rev_nat_index: e.revNatIndex },
    })),
    backends: maps.backends.map((b) => ({ id: b.id, address: formatIPv4(b.address), port: b.port, proto: b.proto, flags: b.flags })),
    revNat: maps.revNat.map((r) => ({ index: r.index, address: formatIPv4(r.address), port: r.port })),
    frontends: maps.frontends,
    warnings: maps.warnings,
  };
}
