// Public types of the kube-proxy IPVS-mode renderer.

import type { Protocol } from '../../model/types.js';
import type { IptablesJump } from '../iptables/types.js';
import type { ProxyState } from '../proxy/index.js';
import type { IpsetType } from './ipsets.js';

export type { IptablesJump };

/** kube-proxy flags and host facts that change what IPVS mode programs. */
export interface IpvsRenderOptions {
  /** --ipvs-scheduler; upstream default "rr". "mh" also sets the mh-port scheduler flag, as kube-proxy does. */
  readonly scheduler?: string;
  /** --masquerade-all. Default false. */
  readonly masqueradeAll?: boolean;
  /** Mark string; default Go's %#08x of 1<<masqueradeBit ("0x00004000"). */
  readonly masqueradeMark?: string;
  /** iptables supports MASQUERADE --random-fully. Default false. */
  readonly randomFully?: boolean;
  /**
   * Addresses NodePort virtual servers listen on. Upstream's default
   * (empty --nodeport-addresses) is every local address except those on
   * kube-ipvs0; a sandboxed node has one, so the default is [nodeIP].
   */
  readonly nodePortIPs?: readonly string[];
  /**
   * Addresses already on the node's other interfaces: external and LB IPs
   * among them are not bound to kube-ipvs0. Default: nodePortIPs plus nodeIP.
   */
  readonly nodeAddresses?: readonly string[];
  /** Precomputed proxy state, to share one computation across backends. */
  readonly proxyState?: ProxyState;
}

export interface IpvsRealServer {
  readonly address: string;
  readonly port: number;
  /** kube-proxy always uses weight 1 and masquerading (NAT) forwarding. */
  readonly weight: number;
}

export interface IpvsVirtualServer {
  readonly protocol: Protocol;
  readonly address: string;
  readonly port: number;
  readonly scheduler: string;
  /** ClientIP affinity timeout in seconds (IP_VS_SVC_F_PERSISTENT); 0 when not persistent. */
  readonly persistentTimeout: number;
  /** Scheduler flags for ipvsadm -b ("mh-port" with the mh scheduler), empty otherwise. */
  readonly schedFlags: readonly string[];
  readonly realServers: readonly IpvsRealServer[];
  /** What the address is: cluster IP, external IP, LB ingress IP or node IP (NodePort). */
  readonly role: 'cluster-ip' | 'external-ip' | 'load-balancer' | 'node-port';
  /** ServicePortName string of the (first) service port that created it. */
  readonly servicePort: string;
}

export interface IpvsIpset {
  readonly name: string;
  readonly type: IpsetType;
  readonly comment: string;
  /** Entries in Entry.String() form, sorted and de-duplicated as kube-proxy's sets.String holds them. */
  readonly entries: readonly string[];
}

export interface IpvsCounts {
  readonly virtualServers: number;
  readonly realServers: number;
  readonly addresses: number;
  readonly ipsets: number;
  readonly ipsetEntries: number;
  readonly iptablesChains: number;
  readonly iptablesRules: number;
}

/**
 * Everything IPVS mode programs for one sync. Load order matters: the dummy
 * device and its addresses, then the ipsets (iptables rules reference them),
 * then iptables, then the virtual servers.
 */
export interface IpvsProgram {
  readonly kind: 'ipvs';
  readonly dummyDevice: 'kube-ipvs0';
  /** IPv4 addresses bound to kube-ipvs0 (as /32), in first-use order. */
  readonly addresses: readonly string[];
  readonly virtualServers: readonly IpvsVirtualServer[];
  /** All 17 sets, in upstream's order, empty ones included (kube-proxy ensures each). */
  readonly ipsets: readonly IpvsIpset[];
  /** `ip -batch -` input: create the dummy device, then one `addr add` per address. */
  readonly ipBatch: string;
  /** `ipset restore` input: create lines, then add lines (run it with -exist for idempotence). */
  readonly ipsetRestore: string;
  /** `ipvsadm-restore` input: -A per virtual server, -a per real server. */
  readonly ipvsadmRestore: string;
  /** `iptables-restore --noflush` input: nat then filter, as upstream writes it. */
  readonly iptablesRestore: string;
  readonly counts: IpvsCounts;
  /** Sets whose entries exceed maxelem: the kernel (and so kube-proxy) would refuse the overflow. */
  readonly warnings: readonly string[];
  readonly servicePorts: number;
  readonly totalEndpoints: number;
}
