// kube-proxy iptables mode, rendered as the iptables-restore payload that
// pkg/proxy/iptables/proxier.go syncProxyRules writes on a full sync.
//
// Ordering follows the real writer: table by table, all chain declarations
// first (in creation order), then rules in emission order, services visited in
// model order. Upstream visits services in Go map order (random per sync);
// model order is our deterministic stand-in.
//
// Hot path: one template string per line, collected in chunked line sinks and
// joined once; hashes come precomputed/cached from the proxy state.

import type { ClusterModel, NodeContext } from '../../model/types.js';
import type { CanonicalCIDRv4 } from '../../model/ip.js';
import { cidrContainsText, parseCIDRv4Sloppy } from '../../model/ip.js';
import type { EndpointInfo, ProxyState, ServicePortInfo } from '../proxy/index.js';
import { buildProxyState, categorizeEndpoints, endpointChainHash, endpointsOf, masqueradeMarkFor, servicePortChainHash, ServicePortMemo } from '../proxy/index.js';
import { joinLines } from '../lines.js';
import type { IptablesFragments, IptablesJump, IptablesProgram, IptablesRenderOptions, ServicePortFragment, TableCounts } from './types.js';

export type { IptablesFragments, IptablesJump, IptablesProgram, IptablesRenderOptions, ServicePortFragment, TableCounts } from './types.js';

/** Chains kube-proxy owns outright. */
export const CHAIN = {
  services: 'KUBE-SERVICES',
  externalServices: 'KUBE-EXTERNAL-SERVICES',
  nodePorts: 'KUBE-NODEPORTS',
  postrouting: 'KUBE-POSTROUTING',
  markMasq: 'KUBE-MARK-MASQ',
  forward: 'KUBE-FORWARD',
  proxyFirewall: 'KUBE-PROXY-FIREWALL',
  kubeletFirewall: 'KUBE-FIREWALL',
} as const;

/** Upstream's largeClusterEndpointsThreshold. */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

const NFACCT_CT_INVALID = 'ct_state_invalid_dropped_pkts';
const NFACCT_LOCALHOST_NODEPORT = 'localhost_nps_accepted_pkts';
const NODEPORTS_COMMENT = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"';

export { masqueradeMarkFor };

// Probabilities repeat across services (1/n); format each n once per process.
const probabilityCache: string[] = [];

/**
 * Go's fmt.Sprintf("%0.10f", 1/n). Go rounds the exact binary value half-to-even;
 * JS toFixed rounds ties up, which differs when 1/n terminates at the 11th
 * decimal with a 5 (n = 2048 gives 0.0004882812 in Go).
 */
export function probability(n: number): string {
  const cached = probabilityCache[n];
  if (cached !== undefined) return cached;
  const x = 1 / n;
  let s = x.toFixed(10);
  const exact = x.toFixed(100);
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 11);
  if (/^50*$/.test(tail)) {
    // Exact tie: toFixed rounded up; Go keeps the even digit.
    const truncated = exact.slice(0, dot + 11);
    const last = Number(truncated[truncated.length - 1]);
    if (last % 2 === 0) s = truncated;
  }
  probabilityCache[n] = s;
  return s;
}

const chainLine = (name: string): string => `:${name} - [0:0]`;

/**
 * An append-only list of lines that joins every few thousand lines into one
 * chunk. Short-lived line strings then die young, and the final payload is a
 * join of a few hundred chunks instead of millions of lines.
 */
class LineSink {
  private readonly chunks: string[] = [];
  private cur: string[] = [];
  /** Lines written so far (upstream's LineBuffer.Lines()). */
  length = 0;

  push(line: string): void {
    this.cur.push(line);
    this.length++;
    if (this.cur.length === 4096) this.flush();
  }

  private flush(): void {
    if (this.cur.length === 0) return;
    this.chunks.push(joinLines(this.cur));
    this.cur = [];
  }

  /** Newline-terminated text chunks, in order. */
  parts(): readonly string[] {
    this.flush();
    return this.chunks;
  }
}

/** Where one service port's lines go. The full render points both nat sinks at one sink. */
interface ServicePortSinks {
  readonly filterRules: LineSink;
  readonly natChains: LineSink;
  /** Rules in KUBE-SERVICES / KUBE-NODEPORTS (upstream writes all of them before the port's own chains). */
  readonly natTop: LineSink;
  readonly natOwn: LineSink;
}

interface Ctx {
  readonly filterChains: LineSink;
  readonly filterRules: LineSink;
  readonly natChains: LineSink;
  readonly natRules: LineSink;
  readonly mark: string;
  readonly masqueradeAll: boolean;
  /** "! -s CIDR" / "-s CIDR" for --cluster-cidr local detection, or null when not configured. */
  readonly ifNotLocal: string | null;
  readonly ifLocal: string | null;
  readonly nodeIP: string;
  readonly localhostNodePorts: boolean;
  readonly nfacct: boolean;
  readonly largeClusterMode: boolean;
}

/** Render the filter and nat tables for `node` exactly as upstream kube-proxy's iptables proxier would. */
export function renderIptables(
  model: ClusterModel,
  node: NodeContext,
  options: IptablesRenderOptions = {},
): IptablesProgram {
  const state = options.proxyState ?? buildProxyState(model, node);
  return renderIptablesFromState(state, node, options);
}

/** As renderIptables, from an already computed proxy state. */
export function renderIptablesFromState(
  state: ProxyState,
  node: NodeContext,
  options: IptablesRenderOptions = {},
): IptablesProgram {
  const ctx = makeCtx(state, node, options);
  writePrologue(ctx, options);
  // Top-level and per-Service nat rules share one sink: the order is the same as emitted.
  const out: ServicePortSinks = { filterRules: ctx.filterRules, natChains: ctx.natChains, natTop: ctx.natRules, natOwn: ctx.natRules };
  for (const sp of state.servicePorts) renderServicePort(ctx, state, sp, out);
  writeEpilogue(ctx, options);
  return assemble(ctx, state);
}

/**
 * A renderer that, like a long-lived kube-proxy, keeps what each service port
 * rendered to and reuses it for Services the change tracker reports
 * unchanged since the previous render (same settings). Output is
 * byte-identical to renderIptablesFromState; programs also carry fragments,
 * from which a partial restore is assembled without re-reading the payload.
 */
export class IptablesRenderer {
  readonly #memo = new ServicePortMemo<ServicePortFragment>();

  /** changedServices(prev, next), reusing the set the render of `next` computed when it came after `prev`. */
  changesBetween(prev: ProxyState, next: ProxyState): ReadonlySet<string> {
    return this.#memo.changesBetween(prev, next);
  }

  render(state: ProxyState, node: NodeContext, options: IptablesRenderOptions = {}): IptablesProgram {
    const head = makeCtx(state, node, options);
    writePrologue(head, options);
    const tail = makeCtx(state, node, options);
    writeEpilogue(tail, options);
    // Everything renderServicePort reads besides the state and the port.
    const settings = JSON.stringify([head.mark, head.masqueradeAll, head.ifNotLocal, head.ifLocal, head.nodeIP, head.localhostNodePorts, head.nfacct, head.largeClusterMode, state.node.nodeName, state.node.zone]);
    const { entries } = this.#memo.lookup(state, settings);
    const ports = state.servicePorts;
    for (let i = 0; i < ports.length; i++) entries[i] ??= renderFragment(head, state, ports[i] as ServicePortInfo);
    const fragmentList = entries as ServicePortFragment[];
    this.#memo.commit(state, settings, fragmentList);
    const text = (sink: LineSink): string => sink.parts().join('');
    const fragments: IptablesFragments = {
      filterHead: text(head.filterChains) + text(head.filterRules),
      filterTail: text(tail.filterRules),
      natChainsHead: text(head.natChains),
      natRulesHead: text(head.natRules),
      natRulesTail: text(tail.natRules),
      ports: fragmentList,
    };
    let filterRules = head.filterRules.length + tail.filterRules.length;
    let natChains = head.natChains.length;
    let natRules = head.natRules.length + tail.natRules.length;
    for (const f of fragmentList) {
      filterRules += f.filterRules;
      natChains += f.natChainCount;
      natRules += f.natTopRules + f.natOwnRules;
    }
    const counts = { filter: { chains: head.filterChains.length, rules: filterRules }, nat: { chains: natChains, rules: natRules } };
    // Assembled when first read: a partial restore is assembled from the fragments instead.
    return programOf(() => payloadPartsFromFragments(fragments, null, null), counts, head.largeClusterMode, state, fragments);
  }
}

function renderFragment(ctx: Ctx, state: ProxyState, sp: ServicePortInfo): ServicePortFragment {
  const out: ServicePortSinks = { filterRules: new LineSink(), natChains: new LineSink(), natTop: new LineSink(), natOwn: new LineSink() };
  renderServicePort(ctx, state, sp, out);
  const text = (sink: LineSink): string => {
    const parts = sink.parts();
    return parts.length === 1 ? (parts[0] as string) : parts.join('');
  };
  return {
    filter: text(out.filterRules),
    filterRules: out.filterRules.length,
    natChains: text(out.natChains),
    natChainCount: out.natChains.length,
    natTop: text(out.natTop),
    natTopRules: out.natTop.length,
    natOwn: text(out.natOwn),
    natOwnRules: out.natOwn.length,
  };
}

/**
 * The restore payload the fragments make up. With `updated` (Services,
 * "namespace/name") and the `serviceKeys` of the ports, the partial one:
 * the port's own chains only for updated Services, as upstream's
 * MinimizeIPTablesRestore writes it; with null, the full one.
 */
export function payloadFromFragments(f: IptablesFragments, serviceKeys: readonly string[] | null, updated: ReadonlySet<string> | null): string {
  return payloadPartsFromFragments(f, serviceKeys, updated).join('');
}

/** payloadFromFragments as its pieces, in order, not joined (empty pieces included). */
export function payloadPartsFromFragments(f: IptablesFragments, serviceKeys: readonly string[] | null, updated: ReadonlySet<string> | null): string[] {
  const parts: string[] = ['*filter\n', f.filterHead];
  for (const p of f.ports) if (p.filter !== '') parts.push(p.filter);
  parts.push(f.filterTail, 'COMMIT\n*nat\n', f.natChainsHead);
  const whole = (i: number): boolean => updated === null || updated.has(serviceKeys?.[i] ?? '');
  for (let i = 0; i < f.ports.length; i++) if (whole(i)) parts.push((f.ports[i] as ServicePortFragment).natChains);
  parts.push(f.natRulesHead);
  for (let i = 0; i < f.ports.length; i++) {
    const p = f.ports[i] as ServicePortFragment;
    parts.push(p.natTop);
    if (whole(i)) parts.push(p.natOwn);
  }
  parts.push(f.natRulesTail, 'COMMIT\n');
  return parts;
}

function makeCtx(state: ProxyState, node: NodeContext, options: IptablesRenderOptions): Ctx {
  const nodePortIPs = options.nodePortIPs ?? [];
  // Upstream forces localhost NodePorts off when --nodeport-addresses excludes 127.0.0.0/8.
  const localhostAllowed = nodePortIPs.length === 0 || nodePortIPs.some((ip) => ip.startsWith('127.'));
  const localCidr: CanonicalCIDRv4 | undefined = node.clusterCIDR === '' ? undefined : parseCIDRv4Sloppy(node.clusterCIDR);
  const threshold = options.largeClusterEndpointsThreshold ?? LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  return {
    filterChains: new LineSink(),
    filterRules: new LineSink(),
    natChains: new LineSink(),
    natRules: new LineSink(),
    mark: options.masqueradeMark ?? masqueradeMarkFor(node.masqueradeBit),
    masqueradeAll: options.masqueradeAll ?? false,
    ifNotLocal: localCidr === undefined ? null : `! -s ${localCidr.text}`,
    ifLocal: localCidr === undefined ? null : `-s ${localCidr.text}`,
    nodeIP: node.nodeIP,
    localhostNodePorts: (options.localhostNodePorts ?? true) && localhostAllowed,
    nfacct: options.nfacct ?? true,
    largeClusterMode: state.totalEndpoints > threshold,
  };
}

/** Chains and rules written before the first service port. */
function writePrologue(ctx: Ctx, options: IptablesRenderOptions): void {
  const { filterChains, filterRules, natChains, natRules, mark } = ctx;
  for (const c of [CHAIN.services, CHAIN.externalServices, CHAIN.forward, CHAIN.nodePorts, CHAIN.proxyFirewall]) {
    filterChains.push(chainLine(c));
  }
  for (const c of [CHAIN.services, CHAIN.nodePorts, CHAIN.postrouting, CHAIN.markMasq]) natChains.push(chainLine(c));

  natRules.push(`-A ${CHAIN.postrouting} -m mark ! --mark ${mark}/${mark} -j RETURN`);
  // Clear the mark so a packet re-entering the stack is not masqueraded twice.
  natRules.push(`-A ${CHAIN.postrouting} -j MARK --xor-mark ${mark}`);
  natRules.push(
    `-A ${CHAIN.postrouting} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE` +
      (options.randomFully === true ? ' --random-fully' : ''),
  );
  natRules.push(`-A ${CHAIN.markMasq} -j MARK --or-mark ${mark}`);

  if (ctx.localhostNodePorts) {
    // route_localnet opens 127/8 to the outside; upstream duplicates kubelet's guard rule.
    filterChains.push(chainLine(CHAIN.kubeletFirewall));
    filterRules.push(
      `-A ${CHAIN.kubeletFirewall} -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
    );
  }
}

/** Rules written after the last service port. */
function writeEpilogue(ctx: Ctx, options: IptablesRenderOptions): void {
  const { filterRules, natRules, mark } = ctx;
  const nodePortIPs = options.nodePortIPs ?? [];
  // The NodePort dispatch must be the last rule of KUBE-SERVICES.
  if (nodePortIPs.length === 0) {
    const localhostGuard = ctx.localhostNodePorts ? '' : ' ! -d 127.0.0.0/8';
    natRules.push(
      `-A ${CHAIN.services} -m comment --comment ${NODEPORTS_COMMENT} -m addrtype --dst-type LOCAL${localhostGuard} -j ${CHAIN.nodePorts}`,
    );
  } else {
    for (const ip of nodePortIPs) {
      // Loopback addresses are only usable when localhost NodePorts are enabled.
      if (ip.startsWith('127.') && !ctx.localhostNodePorts) continue;
      natRules.push(`-A ${CHAIN.services} -m comment --comment ${NODEPORTS_COMMENT} -d ${ip} -j ${CHAIN.nodePorts}`);
    }
  }

  if (options.conntrackTCPLiberal !== true) {
    // INVALID packets can reset established connections unless conntrack is liberal.
    filterRules.push(
      `-A ${CHAIN.forward} -m conntrack --ctstate INVALID${ctx.nfacct ? ` -m nfacct --nfacct-name ${NFACCT_CT_INVALID}` : ''} -j DROP`,
    );
  }
  filterRules.push(`-A ${CHAIN.forward} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`);
  filterRules.push(
    `-A ${CHAIN.forward} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );
}

function assemble(ctx: Ctx, state: ProxyState): IptablesProgram {
  const parts: string[] = ['*filter\n'];
  for (const sink of [ctx.filterChains, ctx.filterRules]) for (const c of sink.parts()) parts.push(c);
  parts.push('COMMIT\n*nat\n');
  for (const sink of [ctx.natChains, ctx.natRules]) for (const c of sink.parts()) parts.push(c);
  parts.push('COMMIT\n');
  const counts = {
    filter: { chains: ctx.filterChains.length, rules: ctx.filterRules.length },
    nat: { chains: ctx.natChains.length, rules: ctx.natRules.length },
  };
  return programOf(parts, counts, ctx.largeClusterMode, state, undefined);
}

/**
 * The program around its payload's pieces (or a function producing them on
 * first use). The joined payload and the line arrays are built only when
 * read: loaders and `kscale rules` write the pieces one after another.
 */
function programOf(
  pieces: readonly string[] | (() => readonly string[]),
  counts: { filter: TableCounts; nat: TableCounts },
  largeClusterMode: boolean,
  state: ProxyState,
  fragments: IptablesFragments | undefined,
): IptablesProgram {
  let chunks: readonly string[] | null = typeof pieces === 'function' ? null : pieces;
  const chunksOf = (): readonly string[] => (chunks ??= (pieces as () => readonly string[])());
  let payload: string | null = null;
  const payloadOf = (): string => (payload ??= chunksOf().join(''));
  const natStart = (): number => payloadOf().indexOf('COMMIT\n*nat\n') + 7;
  // Line arrays are derived on first use: at 50k services they are millions of strings.
  let filter: string[] | null = null;
  let nat: string[] | null = null;
  const filterCounts = counts.filter;
  const natCounts = counts.nat;
  return {
    kind: 'iptables',
    get filter(): readonly string[] {
      filter ??= payloadOf().slice(0, natStart() - 1).split('\n');
      return filter;
    },
    get nat(): readonly string[] {
      const p = payloadOf();
      nat ??= p.slice(natStart(), p.length - 1).split('\n');
      return nat;
    },
    get payload(): string {
      return payloadOf();
    },
    get chunks(): readonly string[] {
      return chunksOf();
    },
    counts: {
      filter: filterCounts,
      nat: natCounts,
      rules: filterCounts.rules + natCounts.rules,
      chains: filterCounts.chains + natCounts.chains,
    },
    largeClusterMode,
    totalEndpoints: state.totalEndpoints,
    servicePorts: state.servicePorts.length,
    ...(fragments === undefined ? {} : { fragments }),
  };
}

function renderServicePort(ctx: Ctx, state: ProxyState, sp: ServicePortInfo, out: ServicePortSinks): void {
  const { filterRules, natChains, natTop } = out;
  const natRules = out.natOwn;
  const name = sp.name;
  const proto = sp.protocolLower;
  const hash = servicePortChainHash(sp);
  const clusterPolicyChain = `KUBE-SVC-${hash}`;
  const localPolicyChain = `KUBE-SVL-${hash}`;
  const externalTrafficChain = `KUBE-EXT-${hash}`;
  const fwChain = `KUBE-FW-${hash}`;
  const protoMatch = `-m ${proto} -p ${proto}`;
  const dport = `--dport ${sp.port}`;

  const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints } = categorizeEndpoints(
    endpointsOf(state, sp),
    sp,
    state.node,
  );
  const hasEndpoints = hasAnyEndpoints;
  const usesClusterPolicyChain = clusterEndpoints.length > 0 && sp.usesClusterEndpoints;
  const usesLocalPolicyChain = localEndpoints.length > 0 && sp.usesLocalEndpoints;

  let internalTrafficChain = clusterPolicyChain;
  let hasInternalEndpoints = hasEndpoints;
  if (sp.internalPolicyLocal) {
    internalTrafficChain = localPolicyChain;
    if (localEndpoints.length === 0) hasInternalEndpoints = false;
  }
  let externalPolicyChain = clusterPolicyChain;
  let hasExternalEndpoints = hasEndpoints;
  if (sp.externalPolicyLocal) {
    externalPolicyChain = localPolicyChain;
    if (localEndpoints.length === 0) hasExternalEndpoints = false;
  }
  // The EXT chain is needed even without external endpoints: it short-circuits local traffic.
  const usesExternalTrafficChain = hasEndpoints && sp.externallyAccessible;
  const usesFWChain = hasEndpoints && sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  const loadBalancerTrafficChain = usesFWChain ? fwChain : externalTrafficChain;

  let internalFilterTarget = '';
  let internalFilterComment = '';
  let externalFilterTarget = '';
  let externalFilterComment = '';
  if (!hasEndpoints) {
    internalFilterTarget = 'REJECT';
    internalFilterComment = `"${name} has no endpoints"`;
    externalFilterTarget = 'REJECT';
    externalFilterComment = internalFilterComment;
  } else {
    if (!hasInternalEndpoints) {
      internalFilterTarget = 'DROP';
      internalFilterComment = `"${name} has no local endpoints"`;
    }
    if (!hasExternalEndpoints) {
      externalFilterTarget = 'DROP';
      externalFilterComment = `"${name} has no local endpoints"`;
    }
  }

  // Cluster IP.
  if (hasInternalEndpoints) {
    natTop.push(
      `-A ${CHAIN.services} -m comment --comment "${name} cluster IP" ${protoMatch} -d ${sp.clusterIP} ${dport} -j ${internalTrafficChain}`,
    );
  } else {
    filterRules.push(
      `-A ${CHAIN.services} -m comment --comment ${internalFilterComment} ${protoMatch} -d ${sp.clusterIP} ${dport} -j ${internalFilterTarget}`,
    );
  }

  // External IPs.
  for (const ip of sp.externalIPs) {
    if (hasEndpoints) {
      natTop.push(
        `-A ${CHAIN.services} -m comment --comment "${name} external IP" ${protoMatch} -d ${ip} ${dport} -j ${externalTrafficChain}`,
      );
    }
    if (!hasExternalEndpoints) {
      filterRules.push(
        `-A ${CHAIN.externalServices} -m comment --comment ${externalFilterComment} ${protoMatch} -d ${ip} ${dport} -j ${externalFilterTarget}`,
      );
    }
  }

  // Load-balancer VIPs.
  for (const ip of sp.loadBalancerVIPs) {
    if (hasEndpoints) {
      natTop.push(
        `-A ${CHAIN.services} -m comment --comment "${name} loadbalancer IP" ${protoMatch} -d ${ip} ${dport} -j ${loadBalancerTrafficChain}`,
      );
    }
    if (usesFWChain) {
      filterRules.push(
        `-A ${CHAIN.proxyFirewall} -m comment --comment "${name} traffic not accepted by ${fwChain}" ${protoMatch} -d ${ip} ${dport} -j DROP`,
      );
    }
  }
  if (!hasExternalEndpoints) {
    for (const ip of sp.loadBalancerVIPs) {
      filterRules.push(
        `-A ${CHAIN.externalServices} -m comment --comment ${externalFilterComment} ${protoMatch} -d ${ip} ${dport} -j ${externalFilterTarget}`,
      );
    }
  }

  // NodePort (not subject to loadBalancerSourceRanges, as upstream).
  if (sp.nodePort !== 0) {
    if (hasEndpoints) {
      // A dedicated localhost rule exists only to count packets in the nfacct counter.
      if (ctx.localhostNodePorts && ctx.nfacct) {
        natTop.push(
          `-A ${CHAIN.nodePorts} -m comment --comment ${name} ${protoMatch} -d 127.0.0.0/8 --dport ${sp.nodePort} -m nfacct --nfacct-name ${NFACCT_LOCALHOST_NODEPORT} -j ${externalTrafficChain}`,
        );
      }
      natTop.push(`-A ${CHAIN.nodePorts} -m comment --comment ${name} ${protoMatch} --dport ${sp.nodePort} -j ${externalTrafficChain}`);
    }
    if (!hasExternalEndpoints) {
      filterRules.push(
        `-A ${CHAIN.externalServices} -m comment --comment ${externalFilterComment} -m addrtype --dst-type LOCAL ${protoMatch} --dport ${sp.nodePort} -j ${externalFilterTarget}`,
      );
    }
  }

  // Health-check NodePort: always accepted, local endpoints or not.
  if (sp.healthCheckNodePort !== 0) {
    filterRules.push(
      `-A ${CHAIN.nodePorts} -m comment --comment "${name} health check node port" -m tcp -p tcp --dport ${sp.healthCheckNodePort} -j ACCEPT`,
    );
  }

  // Internal traffic: masquerade what does not come from the pod network.
  if (hasInternalEndpoints) {
    const match = `-A ${internalTrafficChain} -m comment --comment "${name} cluster IP" ${protoMatch} -d ${sp.clusterIP} ${dport}`;
    if (ctx.masqueradeAll) natRules.push(`${match} -j ${CHAIN.markMasq}`);
    else if (ctx.ifNotLocal !== null) natRules.push(`${match} ${ctx.ifNotLocal} -j ${CHAIN.markMasq}`);
  }

  if (usesExternalTrafficChain) {
    natChains.push(chainLine(externalTrafficChain));
    if (!sp.externalPolicyLocal) {
      // Endpoints may be on other nodes: masquerade so replies come back here.
      natRules.push(
        `-A ${externalTrafficChain} -m comment --comment "masquerade traffic for ${name} external destinations" -j ${CHAIN.markMasq}`,
      );
    } else {
      if (ctx.ifLocal !== null) {
        // Pods reaching an external VIP behave as if they went out and came back in: no policy.
        natRules.push(
          `-A ${externalTrafficChain} -m comment --comment "pod traffic for ${name} external destinations" ${ctx.ifLocal} -j ${clusterPolicyChain}`,
        );
      }
      // Host-originated traffic gets the VIP as source, so it must be masqueraded and sent cluster-wide.
      natRules.push(
        `-A ${externalTrafficChain} -m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${CHAIN.markMasq}`,
      );
      natRules.push(
        `-A ${externalTrafficChain} -m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${clusterPolicyChain}`,
      );
    }
    if (hasExternalEndpoints) natRules.push(`-A ${externalTrafficChain} -j ${externalPolicyChain}`);
  }

  if (usesFWChain) {
    natChains.push(chainLine(fwChain));
    const prefix = `-A ${fwChain} -m comment --comment "${name} loadbalancer IP"`;
    let allowFromNode = false;
    for (const cidr of sp.loadBalancerSourceRanges) {
      natRules.push(`${prefix} -s ${cidr.text} -j ${externalTrafficChain}`);
      if (cidrContainsText(cidr, ctx.nodeIP)) allowFromNode = true;
    }
    // Node-to-VIP traffic on VIP-style LBs loops back with the VIP as source.
    if (allowFromNode) {
      for (const ip of sp.loadBalancerVIPs) natRules.push(`${prefix} -s ${ip} -j ${externalTrafficChain}`);
    }
    // Falling off the end means not DNATed; KUBE-PROXY-FIREWALL drops it in filter.
    natRules.push(`-A ${fwChain} -m comment --comment "other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL"`);
  }

  const endpoints = endpointsOf(state, sp);
  const sepName = (ep: EndpointInfo): string => `KUBE-SEP-${endpointChainHash(sp, endpoints, ep)}`;

  if (usesClusterPolicyChain) {
    natChains.push(chainLine(clusterPolicyChain));
    writeServiceToEndpointRules(ctx, natRules, sp, clusterPolicyChain, clusterEndpoints, sepName);
  }
  if (usesLocalPolicyChain) {
    natChains.push(chainLine(localPolicyChain));
    writeServiceToEndpointRules(ctx, natRules, sp, localPolicyChain, localEndpoints, sepName);
  }

  const comment = ctx.largeClusterMode ? '' : ` -m comment --comment ${name}`;
  const affinity = sp.sessionAffinity === 'ClientIP';
  for (const ep of allReachableEndpoints) {
    const sep = sepName(ep);
    natChains.push(chainLine(sep));
    // Hairpin: a pod reaching itself through the service must be SNATed.
    natRules.push(`-A ${sep}${comment} -s ${ep.ip} -j ${CHAIN.markMasq}`);
    const recent = affinity ? ` -m recent --name ${sep} --set` : '';
    natRules.push(`-A ${sep}${comment}${recent} ${protoMatch} -j DNAT --to-destination ${ep.endpoint}`);
  }
}

function writeServiceToEndpointRules(
  ctx: Ctx,
  natRules: LineSink,
  sp: ServicePortInfo,
  chain: string,
  endpoints: readonly EndpointInfo[],
  sepName: (ep: EndpointInfo) => string,
): void {
  const name = sp.name;
  const withComment = !ctx.largeClusterMode;
  if (sp.sessionAffinity === 'ClientIP') {
    for (const ep of endpoints) {
      const sep = sepName(ep);
      const comment = withComment ? ` -m comment --comment "${name} -> ${ep.endpoint}"` : '';
      natRules.push(
        `-A ${chain}${comment} -m recent --name ${sep} --rcheck --seconds ${sp.stickyMaxAgeSeconds} --reap -j ${sep}`,
      );
    }
  }
  // Cascade: rule i matches with probability 1/(n-i) of what is left; the last always matches.
  const n = endpoints.length;
  for (let i = 0; i < n; i++) {
    const ep = endpoints[i] as EndpointInfo;
    const comment = withComment ? ` -m comment --comment "${name} -> ${ep.endpoint}"` : '';
    const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
    natRules.push(`-A ${chain}${comment}${stat} -j ${sepName(ep)}`);
  }
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'] as const;

/** Upstream's iptablesJumpChains followed by iptablesKubeletJumpChains, in order. */
const JUMPS: ReadonlyArray<{ table: IptablesJump['table']; chain: IptablesJump['chain']; target: string; comment: string; extra: readonly string[] }> = [
  { table: 'filter', target: CHAIN.externalServices, chain: 'INPUT', comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', target: CHAIN.externalServices, chain: 'FORWARD', comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', target: CHAIN.nodePorts, chain: 'INPUT', comment: 'kubernetes health check service ports', extra: [] },
  { table: 'filter', target: CHAIN.services, chain: 'FORWARD', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', target: CHAIN.services, chain: 'OUTPUT', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', target: CHAIN.forward, chain: 'FORWARD', comment: 'kubernetes forwarding rules', extra: [] },
  { table: 'filter', target: CHAIN.proxyFirewall, chain: 'INPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', target: CHAIN.proxyFirewall, chain: 'OUTPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', target: CHAIN.proxyFirewall, chain: 'FORWARD', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'nat', target: CHAIN.services, chain: 'OUTPUT', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', target: CHAIN.services, chain: 'PREROUTING', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', target: CHAIN.postrouting, chain: 'POSTROUTING', comment: 'kubernetes postrouting rules', extra: [] },
  { table: 'filter', target: CHAIN.kubeletFirewall, chain: 'INPUT', comment: '', extra: [] },
  { table: 'filter', target: CHAIN.kubeletFirewall, chain: 'OUTPUT', comment: '', extra: [] },
];

/**
 * The jumps from built-in chains that kube-proxy installs with
 * `iptables -N <target>` plus `iptables -I <chain> <args>` (EnsureChain /
 * EnsureRule Prepend) before each full sync, outside the restore payload.
 * Arguments are argv elements; the comment is one element, unquoted.
 */
export function renderIptablesJumps(): IptablesJump[] {
  return JUMPS.map((j) => ({
    table: j.table,
    chain: j.chain,
    target: j.target,
    args: [...j.extra, ...(j.comment === '' ? [] : ['-m', 'comment', '--comment', j.comment]), '-j', j.target],
  }));
}
