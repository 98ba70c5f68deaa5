// Public types of the iptables-mode renderer.

import type { ProxyState } from '../proxy/index.js';

/** kube-proxy flags and host facts that change the iptables payload. */
export interface IptablesRenderOptions {
  /** --iptables-localhost-nodeports (upstream default true): adds KUBE-FIREWALL and localhost NodePort rules. */
  readonly localhostNodePorts?: boolean;
  /** --masquerade-all: SNAT every packet to a cluster IP instead of only off-cluster sources. */
  readonly masqueradeAll?: boolean;
  /** iptables supports MASQUERADE --random-fully (kube-proxy probes this; upstream's fake says no). Default false. */
  readonly randomFully?: boolean;
  /** net.netfilter.nf_conntrack_tcp_be_liberal is set: the INVALID-drop rule is omitted. Default false. */
  readonly conntrackTCPLiberal?: boolean;
  /**
   * The nfacct counters (ct_state_invalid_dropped_pkts, localhost_nps_accepted_pkts)
   * could be created, so rules use `-m nfacct`. Default true, as on a kernel with
   * nfnetlink_acct; set false when xt_nfacct is missing or iptables-restore will fail.
   */
  readonly nfacct?: boolean;
  /**
   * Node IPs selected by --nodeport-addresses. Omitted or empty means "all local
   * addresses" (upstream default): one `-m addrtype --dst-type LOCAL` jump.
   */
  readonly nodePortIPs?: readonly string[];
  /** Mark string; defaults to Go's %#08x of 1<<masqueradeBit ("0x00004000"). Upstream's fake proxier uses "0x4000". */
  readonly masqueradeMark?: string;
  /** Comments on per-endpoint rules are dropped above this many endpoints (upstream constant 1000). */
  readonly largeClusterEndpointsThreshold?: number;
  /** Precomputed proxy state, to share one computation across backends. */
  readonly proxyState?: ProxyState;
}

/** Sizes of one table's part of the payload. */
export interface TableCounts {
  /** Chain declaration lines (":NAME - [0:0]"). */
  readonly chains: number;
  /** Rule lines ("-A …"); what upstream's LineBuffer.Lines() and its rule-count metric report. */
  readonly rules: number;
}

/** An iptables-restore program for the filter and nat tables. */
export interface IptablesProgram {
  readonly kind: 'iptables';
  /** filter table lines, from "*filter" through "COMMIT" (derived lazily from the payload). */
  readonly filter: readonly string[];
  /** nat table lines, from "*nat" through "COMMIT" (derived lazily from the payload). */
  readonly nat: readonly string[];
  /** The exact bytes kube-proxy hands to `iptables-restore --noflush --counters`. */
  readonly payload: string;
  /**
   * The payload in pieces whose concatenation is `payload` (some may be
   * empty): what loaders write, so the whole text is never joined.
   */
  readonly chunks: readonly string[];
  readonly counts: {
    readonly filter: TableCounts;
    readonly nat: TableCounts;
    readonly rules: number;
    readonly chains: number;
  };
  /** Whether comments on endpoint rules were dropped (total endpoints above the threshold). */
  readonly largeClusterMode: boolean;
  readonly totalEndpoints: number;
  readonly servicePorts: number;
  /**
   * The payload cut into its fixed parts and one fragment per service port;
   * only programs from an IptablesRenderer carry it (what a partial restore is assembled from).
   */
  readonly fragments?: IptablesFragments;
}

/** One service port's share of the payload, newline-terminated lines per part ('' when none). */
export interface ServicePortFragment {
  /** filter-table rules (REJECT/DROP for missing endpoints, firewall drops, health-check accepts). */
  readonly filter: string;
  readonly filterRules: number;
  /** Declarations of the port's own nat chains (KUBE-SVC-, -SVL-, -EXT-, -FW-, -SEP-). */
  readonly natChains: string;
  readonly natChainCount: number;
  /** Its rules in the shared chains KUBE-SERVICES and KUBE-NODEPORTS, which every sync rewrites. */
  readonly natTop: string;
  readonly natTopRules: number;
  /** Its rules in its own chains, which a partial sync writes only when the Service changed. */
  readonly natOwn: string;
  readonly natOwnRules: number;
}

/** A payload as parts: it is their concatenation (see iptables/sync.ts payloadFromFragments). */
export interface IptablesFragments {
  /** Fixed filter chain declarations and rules before the first service port. */
  readonly filterHead: string;
  readonly filterTail: string;
  readonly natChainsHead: string;
  readonly natRulesHead: string;
  readonly natRulesTail: string;
  /** Aligned with the proxy state's servicePorts. */
  readonly ports: readonly ServicePortFragment[];
}

/** One jump kube-proxy installs from a built-in chain with plain `iptables -I` (not via restore). */
export interface IptablesJump {
  readonly table: 'filter' | 'nat';
  /** Built-in chain the jump lives in. */
  readonly chain: 'INPUT' | 'FORWARD' | 'OUTPUT' | 'PREROUTING' | 'POSTROUTING';
  /** The kube chain jumped to (also ensured with `iptables -N`). */
  readonly target: string;
  /** Rule arguments after the chain name, exactly as kube-proxy passes them. */
  readonly args: readonly string[];
}
