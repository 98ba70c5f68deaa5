// kube-proxy IPVS mode, rendered from the shared proxy state: what
// pkg/proxy/ipvs/proxier.go syncProxyRules programs on a full sync into an
// empty node — kube-ipvs0 addresses, IPVS virtual and real servers, the
// ipsets, and the iptables-restore payload that matches those sets.
//
// Upstream walks services in Go map order and adds set entries from sorted
// sets; we walk in model order (deterministic) and sort set entries as it does.

import { InputError } from '../../errors.js';
import type { Protocol } from '../../model/types.js';
import type { ClusterModel, NodeContext } from '../../model/types.js';
import { cidrContainsText, normalizeIPv4, parseCIDRv4Sloppy } from '../../model/ip.js';
import type { EndpointInfo, ProxyState, ServicePortInfo } from '../proxy/index.js';
import { buildProxyState, categorizeEndpoints, endpointsOf, masqueradeMarkFor } from '../proxy/index.js';
import type { IptablesJump } from '../iptables/types.js';
import { IPSETS, IPSET_MAX_ELEM, SET, ipPortEntry, ipPortIPEntry, ipsetCreateLine, ipsetSpec } from './ipsets.js';
import type { SetName } from './ipsets.js';
import type { IpvsIpset, IpvsProgram, IpvsRealServer, IpvsRenderOptions, IpvsVirtualServer } from './types.js';

export const DUMMY_DEVICE = 'kube-ipvs0';
export const DEFAULT_SCHEDULER = 'rr';

/** Chains IPVS mode owns. */
export const IPVS_CHAIN = {
  services: 'KUBE-SERVICES',
  proxyFirewall: 'KUBE-PROXY-FIREWALL',
  sourceRangesFirewall: 'KUBE-SOURCE-RANGES-FIREWALL',
  postrouting: 'KUBE-POSTROUTING',
  markMasq: 'KUBE-MARK-MASQ',
  nodePort: 'KUBE-NODE-PORT',
  forward: 'KUBE-FORWARD',
  loadBalancer: 'KUBE-LOAD-BALANCER',
  ipvsFilter: 'KUBE-IPVS-FILTER',
  ipvsOutFilter: 'KUBE-IPVS-OUT-FILTER',
} as const;

const C = IPVS_CHAIN;

/** upstream iptablesChains: declaration order per table. */
const NAT_CHAINS = [C.services, C.postrouting, C.nodePort, C.loadBalancer, C.markMasq];
const FILTER_CHAINS = [C.forward, C.nodePort, C.proxyFirewall, C.sourceRangesFirewall, C.ipvsFilter, C.ipvsOutFilter];

/**
 * upstream ipsetWithIptablesChain: for each non-empty set, one rule
 * `-A <from> [-p proto] -m comment --comment "<set comment>" -m set --match-set <set> <match> -j <to>`.
 * The Local NodePort sets come before the plain ones so RETURN wins.
 */
const SET_RULES: ReadonlyArray<{ set: SetName; table: 'nat' | 'filter'; from: string; to: string; match: string; proto: string }> = [
  { set: SET.loopBack, table: 'nat', from: C.postrouting, to: 'MASQUERADE', match: 'dst,dst,src', proto: '' },
  { set: SET.loadBalancer, table: 'nat', from: C.services, to: C.loadBalancer, match: 'dst,dst', proto: '' },
  { set: SET.loadBalancerLocal, table: 'nat', from: C.loadBalancer, to: 'RETURN', match: 'dst,dst', proto: '' },
  { set: SET.nodePortLocalTCP, table: 'nat', from: C.nodePort, to: 'RETURN', match: 'dst', proto: 'tcp' },
  { set: SET.nodePortTCP, table: 'nat', from: C.nodePort, to: C.markMasq, match: 'dst', proto: 'tcp' },
  { set: SET.nodePortLocalUDP, table: 'nat', from: C.nodePort, to: 'RETURN', match: 'dst', proto: 'udp' },
  { set: SET.nodePortUDP, table: 'nat', from: C.nodePort, to: C.markMasq, match: 'dst', proto: 'udp' },
  { set: SET.nodePortLocalSCTP, table: 'nat', from: C.nodePort, to: 'RETURN', match: 'dst,dst', proto: 'sctp' },
  { set: SET.nodePortSCTP, table: 'nat', from: C.nodePort, to: C.markMasq, match: 'dst,dst', proto: 'sctp' },
  { set: SET.loadBalancerFW, table: 'filter', from: C.proxyFirewall, to: C.sourceRangesFirewall, match: 'dst,dst', proto: '' },
  { set: SET.loadBalancerSourceCIDR, table: 'filter', from: C.sourceRangesFirewall, to: 'RETURN', match: 'dst,dst,src', proto: '' },
  { set: SET.loadBalancerSourceIP, table: 'filter', from: C.sourceRangesFirewall, to: 'RETURN', match: 'dst,dst,src', proto: '' },
];

/** upstream iptablesJumpChain: installed with EnsureRule(Prepend) outside the restore payload. */
const JUMPS: ReadonlyArray<{ table: IptablesJump['table']; chain: IptablesJump['chain']; target: string; comment: string }> = [
  { table: 'nat', chain: 'OUTPUT', target: C.services, comment: 'kubernetes service portals' },
  { table: 'nat', chain: 'PREROUTING', target: C.services, comment: 'kubernetes service portals' },
  { table: 'nat', chain: 'POSTROUTING', target: C.postrouting, comment: 'kubernetes postrouting rules' },
  { table: 'filter', chain: 'FORWARD', target: C.forward, comment: 'kubernetes forwarding rules' },
  { table: 'filter', chain: 'INPUT', target: C.nodePort, comment: 'kubernetes health check rules' },
  { table: 'filter', chain: 'INPUT', target: C.proxyFirewall, comment: 'kube-proxy firewall rules' },
  { table: 'filter', chain: 'FORWARD', target: C.proxyFirewall, comment: 'kube-proxy firewall rules' },
  { table: 'filter', chain: 'INPUT', target: C.ipvsFilter, comment: 'kubernetes ipvs access filter' },
  { table: 'filter', chain: 'OUTPUT', target: C.ipvsOutFilter, comment: 'kubernetes ipvs access filter' },
];

/** The jumps from built-in chains IPVS mode ensures before each sync (argv after the chain name). */
export function renderIpvsJumps(): IptablesJump[] {
  return JUMPS.map((j) => ({ table: j.table, chain: j.chain, target: j.target, args: ['-m', 'comment', '--comment', j.comment, '-j', j.target] }));
}

/** One mutable virtual server while rendering; frozen into IpvsVirtualServer at the end. */
interface VsBuild {
  vs: IpvsVirtualServer;
  rs: Map<string, IpvsRealServer>;
}

interface Ctx {
  readonly state: ProxyState;
  readonly scheduler: string;
  readonly schedFlags: readonly string[];
  readonly nodeIP: string;
  readonly nodePortIPs: readonly string[];
  readonly nodeAddresses: ReadonlySet<string>;
  readonly sets: Map<SetName, Set<string>>;
  readonly vss: Map<string, VsBuild>;
  readonly bound: Set<string>;
  /** LB VIP:port:proto that must not be reachable from the node itself (issue 119656). */
  readonly lbNoNodeAccess: Array<{ ip: string; proto: string; port: number }>;
}

const PROTO_FLAG: Record<Protocol, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };

function add(ctx: Ctx, set: SetName, entry: string): void {
  (ctx.sets.get(set) as Set<string>).add(entry);
}

/**
 * syncService + syncEndpoint: ensure the virtual server, bind its address when
 * asked, and give it the endpoints the policy selects. A virtual server two
 * service ports share (same IP:port:proto) is one kernel object; its real
 * servers accumulate, as the second sync would leave them.
 */
function syncVirtualServer(
  ctx: Ctx,
  sp: ServicePortInfo,
  address: string,
  port: number,
  role: IpvsVirtualServer['role'],
  bind: boolean,
  endpoints: readonly EndpointInfo[],
): void {
  const key = `${sp.protocol}/${address}:${port}`;
  let b = ctx.vss.get(key);
  if (b === undefined) {
    b = {
      vs: {
        protocol: sp.protocol,
        address,
        port,
        scheduler: ctx.scheduler,
        persistentTimeout: sp.sessionAffinity === 'ClientIP' ? sp.stickyMaxAgeSeconds : 0,
        schedFlags: ctx.schedFlags,
        realServers: [],
        role,
        servicePort: sp.name,
      },
      rs: new Map(),
    };
    ctx.vss.set(key, b);
  }
  if (bind) ctx.bound.add(address);
  for (const ep of endpoints) {
    if (!b.rs.has(ep.endpoint)) b.rs.set(ep.endpoint, { address: ep.ip, port: ep.port, weight: 1 });
  }
}

/** syncEndpoint's choice: local endpoints under Local policy, else (and as fallback, PR 97081) cluster endpoints. */
function pick(onlyLocal: boolean, cluster: readonly EndpointInfo[], local: readonly EndpointInfo[]): readonly EndpointInfo[] {
  if (onlyLocal && local.length > 0) return local;
  return cluster;
}

function renderServicePort(ctx: Ctx, sp: ServicePortInfo): void {
  const proto = sp.protocolLower;
  const all = endpointsOf(ctx.state, sp);
  // Hairpin: a local endpoint reaching itself through the service is masqueraded.
  for (const ep of all) {
    if (ep.isLocal) add(ctx, SET.loopBack, ipPortIPEntry(ep.ip, proto, ep.port, ep.ip));
  }
  const { clusterEndpoints, localEndpoints } = categorizeEndpoints(all, sp, ctx.state.node);
  const external = pick(sp.externalPolicyLocal, clusterEndpoints, localEndpoints);

  add(ctx, SET.clusterIP, ipPortEntry(sp.clusterIP, proto, sp.port));
  // ETP does not affect the cluster IP; ITP does.
  syncVirtualServer(ctx, sp, sp.clusterIP, sp.port, 'cluster-ip', true, pick(sp.internalPolicyLocal, clusterEndpoints, localEndpoints));

  for (const ip of sp.externalIPs) {
    add(ctx, sp.externalPolicyLocal ? SET.externalIPLocal : SET.externalIP, ipPortEntry(ip, proto, sp.port));
    // An address the node already has must not be put on the dummy device too.
    syncVirtualServer(ctx, sp, ip, sp.port, 'external-ip', !ctx.nodeAddresses.has(ip), external);
  }

  for (const ip of sp.loadBalancerVIPs) {
    const entry = ipPortEntry(ip, proto, sp.port);
    add(ctx, SET.loadBalancer, entry);
    if (sp.externalPolicyLocal) add(ctx, SET.loadBalancerLocal, entry);
    if (sp.loadBalancerSourceRanges.length > 0) {
      add(ctx, SET.loadBalancerFW, entry);
      let allowFromNode = false;
      for (const cidr of sp.loadBalancerSourceRanges) {
        add(ctx, SET.loadBalancerSourceCIDR, ipPortIPEntry(ip, proto, sp.port, cidr.text));
        if (cidrContainsText(cidr, ctx.nodeIP)) allowFromNode = true;
      }
      // Node-to-VIP traffic loops back with the VIP as source; allow it only when the node is in range.
      if (allowFromNode) add(ctx, SET.loadBalancerSourceIP, ipPortIPEntry(ip, proto, sp.port, ip));
      else ctx.lbNoNodeAccess.push({ ip, proto, port: sp.port });
    }
    syncVirtualServer(ctx, sp, ip, sp.port, 'load-balancer', !ctx.nodeAddresses.has(ip), external);
  }

  if (sp.nodePort !== 0 && ctx.nodePortIPs.length > 0) {
    // TCP/UDP node ports are bitmap:port sets; SCTP needs hash:ip,port per node IP.
    const entries = proto === 'sctp' ? ctx.nodePortIPs.map((ip) => ipPortEntry(ip, proto, sp.nodePort)) : [String(sp.nodePort)];
    const [plain, local] =
      proto === 'tcp' ? [SET.nodePortTCP, SET.nodePortLocalTCP] : proto === 'udp' ? [SET.nodePortUDP, SET.nodePortLocalUDP] : [SET.nodePortSCTP, SET.nodePortLocalSCTP];
    for (const e of entries) add(ctx, plain, e);
    if (sp.externalPolicyLocal) for (const e of entries) add(ctx, local, e);
    // Node IPs are already local: never bound to the dummy device.
    for (const ip of ctx.nodePortIPs) syncVirtualServer(ctx, sp, ip, sp.nodePort, 'node-port', false, external);
  }

  if (sp.healthCheckNodePort !== 0) add(ctx, SET.healthCheckNodePort, String(sp.healthCheckNodePort));
}

function ipv4List(subject: string, values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const ip = normalizeIPv4(v);
    if (ip === undefined) throw new InputError(subject, `not an IPv4 address: ${JSON.stringify(v)}`);
    if (!out.includes(ip)) out.push(ip);
  }
  return out;
}

/** Render what kube-proxy's IPVS proxier programs for `node`. */
export function renderIpvs(model: ClusterModel, node: NodeContext, options: IpvsRenderOptions = {}): IpvsProgram {
  const state = options.proxyState ?? buildProxyState(model, node);
  return renderIpvsFromState(state, node, options);
}

/** As renderIpvs, from an already computed proxy state. */
export function renderIpvsFromState(state: ProxyState, node: NodeContext, options: IpvsRenderOptions = {}): IpvsProgram {
  const scheduler = options.scheduler ?? DEFAULT_SCHEDULER;
  const nodePortIPs = ipv4List('nodePortIPs', options.nodePortIPs ?? [node.nodeIP]);
  const ctx: Ctx = {
    state,
    scheduler,
    // The "mh" scheduler needs IP_VS_SVC_F_SCHED_MH_PORT (kube-proxy's FlagSourceHash, 0x10).
    schedFlags: scheduler === 'mh' ? ['mh-port'] : [],
    nodeIP: node.nodeIP,
    nodePortIPs,
    nodeAddresses: new Set(ipv4List('nodeAddresses', options.nodeAddresses ?? [...nodePortIPs, node.nodeIP])),
    sets: new Map(IPSETS.map((s) => [s.name as SetName, new Set<string>()])),
    vss: new Map(),
    bound: new Set(),
    lbNoNodeAccess: [],
  };
  for (const sp of state.servicePorts) renderServicePort(ctx, sp);
  // KUBE-IPVS-IPS is exactly the addresses on the dummy device.
  const ipvsIPs = ctx.sets.get(SET.ipvsIPs) as Set<string>;
  for (const a of ctx.bound) ipvsIPs.add(a);

  const ipsets: IpvsIpset[] = IPSETS.map((spec) => ({
    name: spec.name,
    type: spec.type,
    comment: spec.comment,
    // Go's sets.String.List() sorts bytewise; so does the default JS sort on ASCII.
    entries: [...(ctx.sets.get(spec.name as SetName) as Set<string>)].sort(),
  }));
  const virtualServers: IpvsVirtualServer[] = [];
  let realServers = 0;
  for (const b of ctx.vss.values()) {
    const rs = [...b.rs.values()];
    realServers += rs.length;
    virtualServers.push({ ...b.vs, realServers: rs });
  }
  const addresses = [...ctx.bound];
  const iptables = renderIptablesPart(ctx, options, node);
  const warnings = ipsets
    .filter((s) => s.type !== 'bitmap:port' && s.entries.length > IPSET_MAX_ELEM)
    .map((s) => `ipset ${s.name} has ${s.entries.length} entries, more than its maxelem ${IPSET_MAX_ELEM}; the kernel refuses the rest`);

  return {
    kind: 'ipvs',
    dummyDevice: DUMMY_DEVICE,
    addresses,
    virtualServers,
    ipsets,
    ipBatch: formatIpBatch(addresses),
    ipsetRestore: formatIpsetRestore(ipsets),
    ipvsadmRestore: formatIpvsadmRestore(virtualServers),
    iptablesRestore: iptables.payload,
    counts: {
      virtualServers: virtualServers.length,
      realServers,
      addresses: addresses.length,
      ipsets: ipsets.length,
      ipsetEntries: ipsets.reduce((n, s) => n + s.entries.length, 0),
      iptablesChains: iptables.chains,
      iptablesRules: iptables.rules,
    },
    warnings,
    servicePorts: state.servicePorts.length,
    totalEndpoints: state.totalEndpoints,
  };
}

/** writeIptablesRules: the fixed rule skeleton, with set-matching rules only for non-empty sets. */
function renderIptablesPart(ctx: Ctx, options: IpvsRenderOptions, node: NodeContext): { payload: string; rules: number; chains: number } {
  const mark = options.masqueradeMark ?? masqueradeMarkFor(node.masqueradeBit);
  const nonEmpty = (s: SetName): boolean => (ctx.sets.get(s) as Set<string>).size > 0;
  const comment = (s: SetName): string => `-m comment --comment "${ipsetSpec(s).comment}"`;
  const nat: string[] = [];
  const filter: string[] = [];

  nat.push(`-A ${C.services} -s 127.0.0.0/8 -j RETURN`);
  for (const r of SET_RULES) {
    if (!nonEmpty(r.set)) continue;
    const p = r.proto === '' ? '' : ` -p ${r.proto}`;
    (r.table === 'nat' ? nat : filter).push(`-A ${r.from}${p} ${comment(r.set)} -m set --match-set ${r.set} ${r.match} -j ${r.to}`);
  }
  if (nonEmpty(SET.clusterIP)) {
    const head = `-A ${C.services} ${comment(SET.clusterIP)} -m set --match-set ${SET.clusterIP}`;
    const cidr = node.clusterCIDR === '' ? undefined : parseCIDRv4Sloppy(node.clusterCIDR);
    if (options.masqueradeAll === true) nat.push(`${head} dst,dst -j ${C.markMasq}`);
    // Off-cluster sources reaching a VIP may bounce off-node: masquerade them.
    else if (cidr !== undefined) nat.push(`${head} dst,dst ! -s ${cidr.text} -j ${C.markMasq}`);
    // No local-traffic detector: masquerade node-originated traffic that picked a VIP as source.
    else nat.push(`${head} src,dst -j ${C.markMasq}`);
  }
  const externalAccepts = (head: string): void => {
    // Off-machine traffic (not from a bridge, not local) and traffic to local addresses is accepted.
    nat.push(`${head} -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`);
    nat.push(`${head} -m addrtype --dst-type LOCAL -j ACCEPT`);
  };
  if (nonEmpty(SET.externalIP)) {
    const head = `-A ${C.services} ${comment(SET.externalIP)} -m set --match-set ${SET.externalIP} dst,dst`;
    nat.push(`${head} -j ${C.markMasq}`);
    externalAccepts(head);
  }
  if (nonEmpty(SET.externalIPLocal)) {
    externalAccepts(`-A ${C.services} ${comment(SET.externalIPLocal)} -m set --match-set ${SET.externalIPLocal} dst,dst`);
  }
  nat.push(`-A ${C.services} -m addrtype --dst-type LOCAL -j ${C.nodePort}`);
  nat.push(`-A ${C.loadBalancer} -j ${C.markMasq}`);
  filter.push(`-A ${C.sourceRangesFirewall} -j DROP`);
  for (const e of ctx.lbNoNodeAccess) {
    filter.push(`-A ${C.ipvsOutFilter} -s ${e.ip} -m ipvs --vaddr ${e.ip} --vproto ${e.proto} --vport ${e.port} -j DROP`);
  }
  // acceptIPVSTraffic: must stay at the end of KUBE-SERVICES.
  for (const s of [SET.clusterIP, SET.loadBalancer] as const) {
    if (nonEmpty(s)) nat.push(`-A ${C.services} -m set --match-set ${s} dst,dst -j ACCEPT`);
  }
  filter.push(`-A ${C.forward} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`);
  filter.push(`-A ${C.forward} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  filter.push(`-A ${C.nodePort} ${comment(SET.healthCheckNodePort)} -m set --match-set ${SET.healthCheckNodePort} dst -j ACCEPT`);
  // Keep host ports from being reachable through VIPs (kubernetes#72236).
  for (const s of [SET.loadBalancer, SET.clusterIP, SET.externalIP, SET.externalIPLocal] as const) {
    filter.push(`-A ${C.ipvsFilter} -m set --match-set ${s} dst,dst -j RETURN`);
  }
  filter.push(`-A ${C.ipvsFilter} -m set --match-set ${SET.healthCheckNodePort} dst -j RETURN`);
  filter.push(`-A ${C.ipvsFilter} -m conntrack --ctstate NEW -m set --match-set ${SET.ipvsIPs} dst -j REJECT`);
  nat.push(`-A ${C.postrouting} -m mark ! --mark ${mark}/${mark} -j RETURN`);
  nat.push(`-A ${C.postrouting} -j MARK --xor-mark ${mark}`);
  nat.push(
    `-A ${C.postrouting} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${options.randomFully === true ? ' --random-fully' : ''}`,
  );
  nat.push(`-A ${C.markMasq} -j MARK --or-mark ${mark}`);

  const chainLines = (chains: readonly string[]): string => chains.map((c) => `:${c} - [0:0]\n`).join('');
  const payload =
    `*nat\n${chainLines(NAT_CHAINS)}${nat.join('\n')}\nCOMMIT\n` + `*filter\n${chainLines(FILTER_CHAINS)}${filter.join('\n')}\nCOMMIT\n`;
  return { payload, rules: nat.length + filter.length, chains: NAT_CHAINS.length + FILTER_CHAINS.length };
}

/** `ip -batch -` lines: EnsureDummyDevice, then EnsureAddressBind for each address (host /32). */
export function formatIpBatch(addresses: readonly string[]): string {
  const lines = [`link add ${DUMMY_DEVICE} type dummy`];
  for (const a of addresses) lines.push(`addr add ${a}/32 dev ${DUMMY_DEVICE}`);
  return `${lines.join('\n')}\n`;
}

/** `ipset restore` text: every set created, then every entry added. */
export function formatIpsetRestore(ipsets: readonly IpvsIpset[]): string {
  const parts: string[] = [];
  for (const s of ipsets) parts.push(`${ipsetCreateLine(ipsetSpec(s.name as SetName))}\n`);
  for (const s of ipsets) {
    if (s.entries.length === 0) continue;
    const prefix = `add ${s.name} `;
    parts.push(`${prefix}${s.entries.join(`\n${prefix}`)}\n`);
  }
  return parts.join('');
}

/** `ipvsadm-restore` text (the `ipvsadm-save -n` format): masquerading forwarding (-m), weight 1. */
export function formatIpvsadmRestore(vss: readonly IpvsVirtualServer[]): string {
  const parts: string[] = [];
  for (const vs of vss) {
    const svc = `${PROTO_FLAG[vs.protocol]} ${vs.address}:${vs.port}`;
    let line = `-A ${svc} -s ${vs.scheduler}`;
    if (vs.schedFlags.length > 0) line += ` -b ${vs.schedFlags.join(',')}`;
    if (vs.persistentTimeout > 0) line += ` -p ${vs.persistentTimeout}`;
    parts.push(line);
    for (const rs of vs.realServers) parts.push(`-a ${svc} -r ${rs.address}:${rs.port} -m -w ${rs.weight}`);
  }
  return parts.length === 0 ? '' : `${parts.join('\n')}\n`;
}

/** The whole program as one labelled text (what `kscale rules --backend ipvs` prints). */
export function formatIpvsProgram(p: IpvsProgram): string {
  return [
    `# ${DUMMY_DEVICE} addresses (ip -batch -)\n${p.ipBatch}`,
    `# ipsets (ipset restore -exist)\n${p.ipsetRestore}`,
    `# iptables (iptables-restore --noflush --counters)\n${p.iptablesRestore}`,
    `# IPVS virtual and real servers (ipvsadm-restore)\n${p.ipvsadmRestore}`,
  ].join('\n');
}
