// One kube-proxy nftables sync, reproduced: the transaction syncProxyRules
// builds for a full sync (table setup plus every service) or a partial sync
// (only services that changed, plus map/set element differences and stale
// chain flushes). The kernel's prior contents come in as a KernelView; the
// contents after the transaction go out as one, so syncs can be chained.

import type { CategorizedEndpoints, EndpointInfo, ProxyState, ServicePortInfo } from '../proxy/index.js';
import { cidrContainsText } from '../../model/ip.js';
import { categorizeEndpoints, endpointsOf, serviceKey } from '../proxy/index.js';
import { endpointChainBase, isServiceChainName, PREFIX, servicePortChainBase } from './names.js';
import type { ProfileSpec } from './profile.js';
import type { ElementSnapshot } from './transaction.js';
import type { MutableCounts } from './transaction.js';
import { ElementStore, Tx } from './transaction.js';

/** Fixed object names kube-proxy uses inside its table. */
const C = {
  services: 'services',
  serviceIPs: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  nodePortIPs: 'nodeport-ips',
  clusterIPs: 'cluster-ips',
  serviceEndpointsCheck: 'service-endpoints-check',
  nodePortEndpointsCheck: 'nodeport-endpoints-check',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
  reject: 'reject-chain',
  clusterIPsCheck: 'cluster-ips-check',
  firewallIPs: 'firewall-ips',
  firewallCheck: 'firewall-check',
  markMasq: 'mark-for-masquerade',
  masquerading: 'masquerading',
} as const;

const ADDR = 'ipv4_addr';
const DEST_KEY = `${ADDR} . inet_proto . inet_service : verdict`;
const PORT_KEY = 'inet_proto . inet_service : verdict';
const NO_LOCALHOST = 'ip daddr != 127.0.0.0/8';
const JUMP_MASQ = `jump ${C.markMasq}`;
const GOTO_REJECT = `goto ${C.reject}`;

/** The maps and sets whose elements kube-proxy diffs, in the order it processes them. */
export const CONTAINERS = [
  { kind: 'set', name: C.clusterIPs },
  { kind: 'map', name: C.serviceIPs },
  { kind: 'map', name: C.firewallIPs },
  { kind: 'map', name: C.noEndpointServices },
  { kind: 'map', name: C.noEndpointNodePorts },
  { kind: 'map', name: C.serviceNodePorts },
] as const;

/** What the kernel holds that a sync depends on. */
export interface KernelView {
  /** Service/endpoint chains present (flushed stale ones included), in creation order. */
  readonly chains: ReadonlySet<string>;
  readonly affinitySets: ReadonlySet<string>;
  /** Elements per container name (see CONTAINERS). */
  readonly elements: ReadonlyMap<string, ElementSnapshot>;
}

/** Resolved, validated settings for one node's proxier. */
export interface SyncConfig {
  readonly spec: ProfileSpec;
  readonly masqueradeMark: string;
  readonly masqueradeAll: boolean;
  /** --cluster-cidr for local-traffic detection; '' when not configured (detector not implemented). */
  readonly clusterCIDR: string;
  readonly nodeIP: string;
  /** Addresses for the nodeport-ips set, or null for "all local addresses". */
  readonly nodePortIPs: readonly string[] | null;
  /** Comma-joined, as upstream hands them to the rule. */
  readonly serviceCIDRs: string;
  readonly firstSync: boolean;
}

export type SyncMode = { readonly kind: 'full' } | { readonly kind: 'partial'; readonly updated: ReadonlySet<string> };

export interface SyncOutput {
  /** Write the transaction text (false: only compute the resulting state). */
  readonly emit: boolean;
  /**
   * Record active chains, sets and elements so `after` describes the kernel.
   * A one-off full render does not need that, and half a million chain names
   * in a Set are a large part of its GC cost.
   */
  readonly trackState: boolean;
}

export interface SyncResult {
  readonly tx: Tx;
  /** The kernel after the transaction; empty unless trackState was set. */
  readonly after: KernelView;
  readonly staleChains: readonly string[];
  readonly servicePorts: number;
  readonly endpointChains: number;
}

interface ElementStores {
  readonly clusterIPs: ElementStore;
  readonly serviceIPs: ElementStore;
  readonly firewallIPs: ElementStore;
  readonly noEndpointServices: ElementStore;
  readonly noEndpointNodePorts: ElementStore;
  readonly serviceNodePorts: ElementStore;
  readonly all: readonly ElementStore[];
}

function openStores(kernel: KernelView | null): ElementStores {
  const all = CONTAINERS.map((c) => new ElementStore(c.kind, c.name, kernel?.elements.get(c.name)));
  const [clusterIPs, serviceIPs, firewallIPs, noEndpointServices, noEndpointNodePorts, serviceNodePorts] = all as [
    ElementStore,
    ElementStore,
    ElementStore,
    ElementStore,
    ElementStore,
    ElementStore,
  ];
  return { clusterIPs, serviceIPs, firewallIPs, noEndpointServices, noEndpointNodePorts, serviceNodePorts, all };
}

/**
 * Add a chain and empty it, once per transaction (a second flush would drop
 * rules already added). `created` is null when the caller guarantees the
 * chain is new to this transaction (service-port chain names are unique).
 */
function ensureChain(tx: Tx, chain: string, created: Set<string> | null, skipCreation: boolean): void {
  if (created !== null) {
    if (created.has(chain)) return;
    created.add(chain);
  }
  if (skipCreation) return;
  tx.newChain(chain);
}

/** Base chains, top-level chains, the static rules, and the fixed maps and sets. */
function writeSetup(tx: Tx, cfg: SyncConfig, stores: ElementStores): void {
  const { spec } = cfg;
  tx.table('rules for kube-proxy');

  if (cfg.firstSync) {
    // Re-create base chains once so changed properties (e.g. priority) cannot fail the sync.
    for (const bc of spec.baseChains) {
      tx.transientChain(bc.name);
      tx.deleteChain(bc.name);
    }
  }
  for (const bc of spec.baseChains) {
    tx.baseChain(bc.name, bc.type, bc.hook, bc.priority);
    tx.flushChain(bc.name);
  }

  const created = new Set<string>();
  for (const jc of spec.jumpChains) {
    ensureChain(tx, jc.dst, created, false);
    tx.rule(jc.src, jc.match === '' ? `jump ${jc.dst}` : `${jc.match} jump ${jc.dst}`);
  }
  for (const chain of [C.services, C.clusterIPsCheck, C.masquerading, C.markMasq]) ensureChain(tx, chain, created, false);

  const mark = cfg.masqueradeMark;
  tx.rule(C.markMasq, `mark set mark or ${mark}`);
  tx.rule(C.masquerading, `mark and ${mark} == 0 return`);
  tx.rule(C.masquerading, `mark set mark xor ${mark}`);
  tx.rule(C.masquerading, 'masquerade fully-random');

  tx.set(C.clusterIPs, ADDR, 'Active ClusterIPs');
  tx.ruleWithComment(C.clusterIPsCheck, `ip daddr @${C.clusterIPs} reject`, 'Reject traffic to invalid ports of ClusterIPs');
  if (cfg.serviceCIDRs !== '') {
    tx.ruleWithComment(C.clusterIPsCheck, `ip daddr { ${cfg.serviceCIDRs} } drop`, 'Drop traffic to unallocated ClusterIPs');
  }

  const matchAll = cfg.nodePortIPs === null;
  if (matchAll) {
    // add+delete: "delete" alone fails when the set does not exist.
    tx.transientSet(C.nodePortIPs, ADDR, 'IPs that accept NodePort traffic');
    tx.deleteSet(C.nodePortIPs);
  } else {
    tx.set(C.nodePortIPs, ADDR, 'IPs that accept NodePort traffic');
    tx.flushSet(C.nodePortIPs);
    for (const ip of cfg.nodePortIPs) tx.element('set', C.nodePortIPs, ip, '', null);
  }

  tx.map(C.noEndpointServices, DEST_KEY, 'vmap to drop or reject packets to services with no endpoints');
  tx.map(C.noEndpointNodePorts, PORT_KEY, 'vmap to drop or reject packets to service nodeports with no endpoints');
  tx.chainWithComment(C.reject, 'helper for @no-endpoint-services / @no-endpoint-nodeports');
  tx.flushChain(C.reject);
  tx.rule(C.reject, 'reject');
  tx.rule(C.serviceEndpointsCheck, `ip daddr . meta l4proto . th dport vmap @${C.noEndpointServices}`);
  tx.rule(
    C.nodePortEndpointsCheck,
    matchAll
      ? `${NO_LOCALHOST} meta l4proto . th dport vmap @${C.noEndpointNodePorts}`
      : `ip daddr @${C.nodePortIPs} meta l4proto . th dport vmap @${C.noEndpointNodePorts}`,
  );

  tx.map(C.firewallIPs, DEST_KEY, 'destinations that are subject to LoadBalancerSourceRanges');
  ensureChain(tx, C.firewallCheck, created, false);
  tx.rule(C.firewallCheck, `ip daddr . meta l4proto . th dport vmap @${C.firewallIPs}`);

  tx.map(C.serviceIPs, DEST_KEY, 'ClusterIP, ExternalIP and LoadBalancer IP traffic');
  tx.map(C.serviceNodePorts, PORT_KEY, 'NodePort traffic');
  tx.rule(C.services, `ip daddr . meta l4proto . th dport vmap @${C.serviceIPs}`);
  tx.rule(
    C.services,
    matchAll
      ? `fib daddr type local ${NO_LOCALHOST} meta l4proto . th dport vmap @${C.serviceNodePorts}`
      : `ip daddr @${C.nodePortIPs} meta l4proto . th dport vmap @${C.serviceNodePorts}`,
  );

  if (spec.fullSyncFlushesContainers) {
    for (const store of stores.all) store.reset(tx);
  }
  // Newer kube-proxy instead starts from the elements the kernel already has
  // (the stores were opened on them), so a fresh table needs no flush at all.
}

/** Names of one endpoint's objects, computed once per sync. */
interface EndpointNames {
  readonly ep: EndpointInfo;
  readonly chain: string;
  /** '' unless the service port uses ClientIP affinity (the name is not needed otherwise). */
  readonly affinitySet: string;
}

/**
 * Names for the endpoints a service port can reach. The proxy layer already
 * de-duplicates endpoints by "ip:port", so one entry per endpoint.
 */
function endpointNames(sp: ServicePortInfo, endpoints: readonly EndpointInfo[]): EndpointNames[] {
  const affinity = sp.sessionAffinity === 'ClientIP';
  const out = new Array<EndpointNames>(endpoints.length);
  for (let i = 0; i < endpoints.length; i++) {
    const ep = endpoints[i] as EndpointInfo;
    const base = endpointChainBase(sp.namespace, sp.serviceName, sp.protocolLower, sp.portName, ep.ip, ep.port);
    out[i] = { ep, chain: PREFIX.endpoint + base, affinitySet: affinity ? PREFIX.affinity + base : '' };
  }
  return out;
}

/**
 * The names for `endpoints`, a subset of the reachable ones in the same order.
 * Usually it is the very same array (no Local policy, no topology), so this
 * costs nothing; otherwise look the names up by "ip:port".
 */
function namesFor(endpoints: readonly EndpointInfo[], all: readonly EndpointInfo[], names: readonly EndpointNames[]): readonly EndpointNames[] {
  if (endpoints === all) return names;
  const byEndpoint = new Map<string, EndpointNames>();
  for (const n of names) byEndpoint.set(n.ep.endpoint, n);
  const out: EndpointNames[] = [];
  for (const ep of endpoints) {
    const n = byEndpoint.get(ep.endpoint);
    if (n !== undefined) out.push(n);
  }
  return out;
}

/** Session-affinity lookups, then the random spread over endpoints. */
function writeServiceToEndpointRules(tx: Tx, sp: ServicePortInfo, chain: string, names: readonly EndpointNames[]): void {
  if (sp.sessionAffinity === 'ClientIP') {
    for (const n of names) tx.rule(chain, `ip saddr @${n.affinitySet} goto ${n.chain}`);
  }
  let vmap = '';
  for (let i = 0; i < names.length; i++) {
    vmap += `${i === 0 ? '' : ' , '}${i} : goto ${(names[i] as EndpointNames).chain}`;
  }
  tx.rule(chain, `numgen random mod ${names.length} vmap { ${vmap} }`);
}

/** One element a service port declares: index into CONTAINERS, joined key and value, comment. */
export interface ElementDecl {
  readonly store: number;
  readonly key: string;
  readonly value: string;
  readonly comment: string | null;
}

/**
 * What one service port declares in a sync whatever the kernel holds: its
 * chains (in ensure order), affinity sets and map/set elements (in ensure
 * order). Replaying these is what a skipped (unchanged) port does in a partial
 * sync, without computing a name or a string.
 */
export interface PortDecls {
  readonly chains: readonly string[];
  readonly affinitySets: readonly string[];
  readonly elements: readonly ElementDecl[];
  readonly endpointChains: number;
}

/**
 * A port's operations in a full sync into a fresh table, and what that text
 * assumed of the ports before it: `present[i]` says whether
 * decls.elements[i] was already declared (same key and value) by an earlier
 * port, so its add is not in the text. A Service's second port finds the
 * ClusterIP its first port declared, for example. The text is valid again
 * wherever the stores hold exactly that.
 */
export interface PortText {
  readonly text: string;
  readonly operations: number;
  readonly counts: Readonly<MutableCounts>;
  readonly present: readonly boolean[];
}

/** A memoised service port: its declarations and, unless its text depended on more than presence, its full-sync text. */
export interface PortEntry {
  readonly decls: PortDecls;
  /** null when an earlier port had declared one of its keys with another value (the text then holds a delete). */
  readonly full: PortText | null;
}

interface Recorder {
  readonly chains: string[];
  readonly affinitySets: string[];
  readonly elements: ElementDecl[];
  /** Per element: already in its store with the same value when declared. */
  readonly present: boolean[];
  /** No element key was in its store with a different value. */
  clean: boolean;
}

const newRecorder = (): Recorder => ({ chains: [], affinitySets: [], elements: [], present: [], clean: true });

/** What a recorder saw, as the port's declarations; `endpointChains` is how many the port added. */
const declsOf = (rec: Recorder, endpointChains: number): PortDecls => ({ chains: rec.chains, affinitySets: rec.affinitySets, elements: rec.elements, endpointChains });

/** CONTAINERS index of each store, as ElementDecl.store holds it. */
const STORE = { clusterIPs: 0, serviceIPs: 1, firewallIPs: 2, noEndpointServices: 3, noEndpointNodePorts: 4, serviceNodePorts: 5 } as const;

interface LoopState {
  tx: Tx;
  readonly cfg: SyncConfig;
  readonly stores: ElementStores;
  /** null when not tracking state: every service port's chain names are distinct by construction. */
  readonly activeChains: Set<string> | null;
  readonly activeAffinitySets: Set<string>;
  endpointChains: number;
  /** Set while a port's declarations are being recorded for the memo. */
  rec: Recorder | null;
}

function portChain(ls: LoopState, chain: string, skip: boolean): void {
  ls.rec?.chains.push(chain);
  ensureChain(ls.tx, chain, ls.activeChains, skip);
}

function declare(ls: LoopState, store: number, key: string, value: string, comment: string | null): void {
  const target = ls.stores.all[store] as ElementStore;
  const rec = ls.rec;
  if (rec !== null) {
    const existing = target.get(key);
    if (existing !== undefined && existing !== value) rec.clean = false;
    rec.present.push(existing !== undefined);
    rec.elements.push({ store, key, value, comment });
  }
  target.ensure(ls.tx, key, value, comment);
}

/** What writeServicePort does for a skipped port, from its recorded declarations. */
function replayDecls(ls: LoopState, d: PortDecls): void {
  for (const chain of d.chains) ensureChain(ls.tx, chain, ls.activeChains, true);
  for (const set of d.affinitySets) ls.activeAffinitySets.add(set);
  ls.endpointChains += d.endpointChains;
  for (const e of d.elements) (ls.stores.all[e.store] as ElementStore).ensure(ls.tx, e.key, e.value, e.comment);
}

/** Everything one service port contributes: chains, map elements, and (unless skipped) rules. */
function writeServicePort(ls: LoopState, sp: ServicePortInfo, cat: CategorizedEndpoints, skip: boolean): void {
  const { tx, cfg } = ls;
  const proto = sp.protocolLower;
  const affinity = sp.sessionAffinity === 'ClientIP';

  const all = cat.allReachableEndpoints;
  const names = endpointNames(sp, all);
  for (const n of names) {
    portChain(ls, n.chain, skip);
    if (affinity) {
      ls.activeAffinitySets.add(n.affinitySet);
      ls.rec?.affinitySets.push(n.affinitySet);
    }
  }
  ls.endpointChains += names.length;

  const base = servicePortChainBase(sp.namespace, sp.serviceName, proto, sp.portName);
  const clusterChain = PREFIX.cluster + base;
  const localChain = PREFIX.local + base;
  const externalChain = PREFIX.external + base;
  const firewallChain = PREFIX.firewall + base;

  const usesClusterChain = cat.clusterEndpoints.length > 0 && sp.usesClusterEndpoints;
  if (usesClusterChain) portChain(ls, clusterChain, skip);
  const usesLocalChain = cat.localEndpoints.length > 0 && sp.usesLocalEndpoints;
  if (usesLocalChain) portChain(ls, localChain, skip);

  const hasEndpoints = cat.hasAnyEndpoints;
  const internalChain = sp.internalPolicyLocal ? localChain : clusterChain;
  const hasInternal = hasEndpoints && !(sp.internalPolicyLocal && cat.localEndpoints.length === 0);
  const externalPolicyChain = sp.externalPolicyLocal ? localChain : clusterChain;
  const hasExternal = hasEndpoints && !(sp.externalPolicyLocal && cat.localEndpoints.length === 0);

  // The external chain is needed even without usable external endpoints: it
  // carries the short-circuit rules for pod- and node-originated traffic.
  const usesExternalChain = hasEndpoints && sp.externallyAccessible;
  if (usesExternalChain) portChain(ls, externalChain, skip);

  // No endpoints anywhere: reject; endpoints, but none for this kind of traffic: drop.
  const internalVerdict = hasEndpoints ? 'drop' : GOTO_REJECT;
  const externalVerdict = internalVerdict;
  const comment = sp.name;
  const port = sp.port;

  declare(ls, STORE.clusterIPs, sp.clusterIP, '', null);
  const clusterKey = `${sp.clusterIP} . ${proto} . ${port}`;
  if (hasInternal) declare(ls, STORE.serviceIPs, clusterKey, `goto ${internalChain}`, null);
  else declare(ls, STORE.noEndpointServices, clusterKey, internalVerdict, comment);

  for (const ip of sp.externalIPs) {
    const key = `${ip} . ${proto} . ${port}`;
    if (hasEndpoints) declare(ls, STORE.serviceIPs, key, `goto ${externalChain}`, null);
    if (!hasExternal) declare(ls, STORE.noEndpointServices, key, externalVerdict, comment);
  }

  const usesFirewall = sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  if (usesFirewall) portChain(ls, firewallChain, skip);
  for (const ip of sp.loadBalancerVIPs) {
    const key = `${ip} . ${proto} . ${port}`;
    if (hasEndpoints) declare(ls, STORE.serviceIPs, key, `goto ${externalChain}`, null);
    if (usesFirewall) declare(ls, STORE.firewallIPs, key, `goto ${firewallChain}`, null);
  }
  if (!hasExternal) {
    for (const ip of sp.loadBalancerVIPs) declare(ls, STORE.noEndpointServices, `${ip} . ${proto} . ${port}`, externalVerdict, comment);
  }

  if (sp.nodePort !== 0) {
    const key = `${proto} . ${sp.nodePort}`;
    // NodePorts are not subject to loadBalancerSourceRanges (long-standing behaviour).
    if (hasEndpoints) declare(ls, STORE.serviceNodePorts, key, `goto ${externalChain}`, null);
    if (!hasExternal) declare(ls, STORE.noEndpointNodePorts, key, externalVerdict, comment);
  }

  if (skip || !tx.emit) return;

  if (hasInternal) {
    const portMatch = cfg.spec.masqRuleMatchesPort ? ` ${proto} dport ${port}` : '';
    if (cfg.masqueradeAll) {
      tx.rule(internalChain, `ip daddr ${sp.clusterIP}${portMatch} ${JUMP_MASQ}`);
    } else if (cfg.clusterCIDR !== '') {
      // Off-cluster clients reaching a ClusterIP via a route to this node may be
      // forwarded off-node, so they must be masqueraded.
      tx.rule(internalChain, `ip daddr ${sp.clusterIP}${portMatch} ip saddr != ${cfg.clusterCIDR} ${JUMP_MASQ}`);
    }
  }

  if (usesExternalChain) {
    if (!sp.externalPolicyLocal) {
      tx.rule(externalChain, JUMP_MASQ);
    } else {
      if (cfg.clusterCIDR !== '') {
        tx.ruleWithComment(externalChain, `ip saddr ${cfg.clusterCIDR} goto ${clusterChain}`, 'short-circuit pod traffic');
      }
      tx.ruleWithComment(externalChain, `fib saddr type local ${JUMP_MASQ}`, 'masquerade local traffic');
      tx.ruleWithComment(externalChain, `fib saddr type local goto ${clusterChain}`, 'short-circuit local traffic');
    }
    if (hasExternal) tx.rule(externalChain, `goto ${externalPolicyChain}`);
  }

  if (usesFirewall) {
    const sources: string[] = [];
    let allowFromNode = false;
    for (const cidr of sp.loadBalancerSourceRanges) {
      sources.push(cidr.text);
      if (cidrContainsText(cidr, cfg.nodeIP)) allowFromNode = true;
    }
    // A node reaching its own LB VIP loops back with the VIP as source.
    if (allowFromNode) for (const ip of sp.loadBalancerVIPs) sources.push(ip);
    tx.rule(firewallChain, `ip saddr != { ${sources.join(' , ')} } drop`);
  }

  if (affinity) {
    for (const n of names) tx.timeoutSet(n.affinitySet, ADDR, sp.stickyMaxAgeSeconds);
  }
  if (usesClusterChain) writeServiceToEndpointRules(tx, sp, clusterChain, namesFor(cat.clusterEndpoints, all, names));
  if (usesLocalChain) writeServiceToEndpointRules(tx, sp, localChain, namesFor(cat.localEndpoints, all, names));

  const dnat = `meta l4proto ${proto} dnat to `;
  for (const n of names) {
    // Hairpin: a pod reaching itself through the service must be masqueraded.
    const hairpin = `ip saddr ${n.ep.ip} ${JUMP_MASQ}`;
    if (affinity) tx.rules3(n.chain, hairpin, `update @${n.affinitySet} { ip saddr }`, dnat + n.ep.endpoint);
    else tx.rules(n.chain, hairpin, dnat + n.ep.endpoint);
  }
}


/**
 * Build the transaction of one sync. `kernel` is null for a table that does
 * not exist yet (kube-proxy's listings then fail with "not found", which it
 * treats as empty).
 */
export function runSync(
  state: ProxyState,
  cfg: SyncConfig,
  mode: SyncMode,
  kernel: KernelView | null,
  out: SyncOutput,
  /** Memo entries aligned with state.servicePorts: skipped ports replay their declarations instead of being rendered. */
  cached: readonly (PortEntry | undefined)[] | null = null,
): SyncResult {
  const tx = new Tx(out.emit);
  // Stale-chain detection needs the active set whenever the kernel has chains.
  const track = out.trackState || kernel !== null;
  const stores = openStores(kernel);
  if (mode.kind === 'full') writeSetup(tx, cfg, stores);

  const ls: LoopState = {
    tx,
    cfg,
    stores,
    activeChains: track ? new Set() : null,
    activeAffinitySets: new Set(),
    endpointChains: 0,
    rec: null,
  };
  const ports = state.servicePorts;
  for (let i = 0; i < ports.length; i++) {
    const sp = ports[i] as ServicePortInfo;
    const skip = mode.kind === 'partial' && !mode.updated.has(serviceKey(sp));
    const entry = skip && cached !== null ? cached[i] : undefined;
    if (entry !== undefined) replayDecls(ls, entry.decls);
    else writeServicePort(ls, sp, categorizeEndpoints(endpointsOf(state, sp), sp, state.node), skip);
  }

  // Chains no longer used are only flushed now: kernels before 6.2 notice late
  // that a chain lost its last map reference, so deletion waits (≥1 s).
  const stale: string[] = [];
  if (kernel !== null && ls.activeChains !== null) {
    for (const chain of kernel.chains) {
      if (isServiceChainName(chain) && !ls.activeChains.has(chain)) {
        tx.flushChain(chain);
        stale.push(chain);
      }
    }
    // Affinity sets have no such problem and go at once.
    for (const set of kernel.affinitySets) {
      if (!ls.activeAffinitySets.has(set)) tx.deleteSet(set);
    }
  }
  for (const store of stores.all) store.cleanup(tx);

  const chains = ls.activeChains ?? new Set<string>();
  for (const chain of stale) chains.add(chain);
  const elements = new Map<string, ElementSnapshot>();
  if (out.trackState) for (const store of stores.all) elements.set(store.name, store.snapshot());
  return {
    tx,
    after: { chains, affinitySets: ls.activeAffinitySets, elements },
    staleChains: stale,
    servicePorts: state.servicePorts.length,
    endpointChains: ls.endpointChains,
  };
}

/** Whether a memoised port text fits the stores as they are now (see PortText). */
function textFits(stores: ElementStores, elements: readonly ElementDecl[], present: readonly boolean[]): boolean {
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i] as ElementDecl;
    const existing = (stores.all[e.store] as ElementStore).get(e.key);
    if (present[i] === true ? existing !== e.value : existing !== undefined) return false;
  }
  return true;
}

/**
 * A full sync into a fresh table (as runSync with kernel null, emitting,
 * not tracking state) that reuses memo entries: a port whose entry has text
 * that fits what the ports before it declared (textFits) is appended as that
 * text; every other port is rendered and its entry returned in `entries`
 * (aligned with state.servicePorts).
 */
export function runFullSyncMemo(state: ProxyState, cfg: SyncConfig, cached: readonly (PortEntry | undefined)[]): { result: SyncResult; entries: PortEntry[] } {
  const tx = new Tx(true);
  const stores = openStores(null);
  writeSetup(tx, cfg, stores);
  const ls: LoopState = { tx, cfg, stores, activeChains: null, activeAffinitySets: new Set(), endpointChains: 0, rec: null };
  const ports = state.servicePorts;
  const entries = new Array<PortEntry>(ports.length);
  for (let i = 0; i < ports.length; i++) {
    const sp = ports[i] as ServicePortInfo;
    const entry = cached[i];
    if (entry !== undefined && entry.full !== null && textFits(stores, entry.decls.elements, entry.full.present)) {
      for (const e of entry.decls.elements) (stores.all[e.store] as ElementStore).adopt(e.key, e.value);
      for (const set of entry.decls.affinitySets) ls.activeAffinitySets.add(set);
      ls.endpointChains += entry.decls.endpointChains;
      tx.appendText(entry.full.text, entry.full.operations, entry.full.counts);
      entries[i] = entry;
      continue;
    }
    const portTx = new Tx(true);
    const rec = newRecorder();
    const before = ls.endpointChains;
    ls.tx = portTx;
    ls.rec = rec;
    writeServicePort(ls, sp, categorizeEndpoints(endpointsOf(state, sp), sp, state.node), false);
    ls.tx = tx;
    ls.rec = null;
    const text = portTx.payload();
    tx.appendText(text, portTx.size, portTx.counts);
    const decls = declsOf(rec, ls.endpointChains - before);
    entries[i] = { decls, full: rec.clean ? { text, operations: portTx.size, counts: portTx.counts, present: rec.present } : null };
  }
  // Fresh stores have no leftovers; kept so the transaction ends as runSync's does.
  for (const store of stores.all) store.cleanup(tx);
  const result: SyncResult = {
    tx,
    after: { chains: new Set(), affinitySets: ls.activeAffinitySets, elements: new Map() },
    staleChains: [],
    servicePorts: ports.length,
    endpointChains: ls.endpointChains,
  };
  return { result, entries };
}

/**
 * The kernel a full sync of the ports with these entries leaves (what
 * runSync(full, no emit, trackState) computes), from their declarations alone.
 */
export function kernelViewOf(entries: readonly PortEntry[]): KernelView {
  const chains = new Set<string>();
  const affinitySets = new Set<string>();
  const maps = CONTAINERS.map(() => new Map<string, string>());
  for (const entry of entries) {
    const d = entry.decls;
    for (const c of d.chains) chains.add(c);
    for (const a of d.affinitySets) affinitySets.add(a);
    for (const e of d.elements) (maps[e.store] as Map<string, string>).set(e.key, e.value);
  }
  const elements = new Map<string, ElementSnapshot>();
  CONTAINERS.forEach((c, i) => elements.set(c.name, maps[i] as Map<string, string>));
  return { chains, affinitySets, elements };
}

/** Truncated names ("…...") are the one way two Services' chain names could meet. */
function hasTruncatedChain(entries: readonly PortEntry[], ports: readonly ServicePortInfo[], updated: ReadonlySet<string>): boolean {
  for (let i = 0; i < ports.length; i++) {
    if (!updated.has(serviceKey(ports[i] as ServicePortInfo))) continue;
    for (const c of (entries[i] as PortEntry).decls.chains) if (c.endsWith('...')) return true;
  }
  return false;
}

/**
 * The partial sync from `prev` to `next` (as runSync with kind 'partial' on
 * kernelViewOf(prevEntries), emitting) without building the set of every
 * chain: chain and affinity-set names embed the Service's namespace/name, so
 * only chains of updated Services can go stale, and only chains of updated
 * Services need the within-sync duplicate check. Returns null where that
 * reasoning does not hold (truncated names); the caller then takes the general path.
 *
 * `nextEntries` is read only for ports of Services not in `updated` (it may
 * have holes elsewhere); the updated ports' declarations, recorded as they
 * are written, fill those holes in place (without full-sync text: a partial
 * sync never renders one).
 */
export function runPartialSyncMemo(
  prev: ProxyState,
  prevEntries: readonly PortEntry[],
  next: ProxyState,
  nextEntries: (PortEntry | undefined)[],
  cfg: SyncConfig,
  updated: ReadonlySet<string>,
): SyncResult | null {
  if (hasTruncatedChain(prevEntries, prev.servicePorts, updated)) return null;
  const maps = CONTAINERS.map(() => new Map<string, string>());
  for (const entry of prevEntries) for (const e of entry.decls.elements) (maps[e.store] as Map<string, string>).set(e.key, e.value);
  const stores = openStores({ chains: new Set(), affinitySets: new Set(), elements: new Map(CONTAINERS.map((c, i) => [c.name, maps[i] as Map<string, string>])) });
  const tx = new Tx(true);
  // Chains and affinity sets of updated Services only.
  const ls: LoopState = { tx, cfg, stores, activeChains: new Set(), activeAffinitySets: new Set(), endpointChains: 0, rec: null };
  const ports = next.servicePorts;
  let truncated = false;
  for (let i = 0; i < ports.length; i++) {
    const sp = ports[i] as ServicePortInfo;
    if (updated.has(serviceKey(sp))) {
      const rec = newRecorder();
      const before = ls.endpointChains;
      ls.rec = rec;
      writeServicePort(ls, sp, categorizeEndpoints(endpointsOf(next, sp), sp, next.node), false);
      ls.rec = null;
      nextEntries[i] = { decls: declsOf(rec, ls.endpointChains - before), full: null };
      if (!truncated) truncated = rec.chains.some((c) => c.endsWith('...'));
      continue;
    }
    const d = (nextEntries[i] as PortEntry).decls;
    ls.endpointChains += d.endpointChains;
    for (const e of d.elements) (stores.all[e.store] as ElementStore).ensure(tx, e.key, e.value, e.comment);
  }
  const stale: string[] = [];
  const seenChains = new Set<string>();
  const seenSets = new Set<string>();
  const before = prev.servicePorts;
  for (let i = 0; i < before.length; i++) {
    if (!updated.has(serviceKey(before[i] as ServicePortInfo))) continue;
    for (const chain of (prevEntries[i] as PortEntry).decls.chains) {
      if (seenChains.has(chain)) continue;
      seenChains.add(chain);
      if (!(ls.activeChains as Set<string>).has(chain)) {
        tx.flushChain(chain);
        stale.push(chain);
      }
    }
  }
  for (let i = 0; i < before.length; i++) {
    if (!updated.has(serviceKey(before[i] as ServicePortInfo))) continue;
    for (const set of (prevEntries[i] as PortEntry).decls.affinitySets) {
      if (seenSets.has(set)) continue;
      seenSets.add(set);
      if (!ls.activeAffinitySets.has(set)) tx.deleteSet(set);
    }
  }
  // The duplicate reasoning needs untruncated names on both sides; the entries recorded above stay valid either way.
  if (truncated) return null;
  for (const store of stores.all) store.cleanup(tx);
  return {
    tx,
    // Not tracked on this path: the memo's next partial sync starts from the entries again.
    after: { chains: new Set(), affinitySets: new Set(), elements: new Map() },
    staleChains: stale,
    servicePorts: ports.length,
    endpointChains: ls.endpointChains,
  };
}
