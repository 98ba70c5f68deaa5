// The ipsets kube-proxy's IPVS mode keeps (pkg/proxy/ipvs/ipset.go and the
// ipsetInfo table in proxier.go): names, types, comments, and the textual
// entry forms of k8s.io/kubernetes/pkg/proxy/ipvs/ipset Entry.String().

/** ipset types the IPVS proxier uses. */
export type IpsetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

export interface IpsetSpec {
  readonly name: string;
  readonly type: IpsetType;
  /** Used only as the iptables `-m comment` text of rules matching the set. */
  readonly comment: string;
}

/** Set names, as constants so renderer code cannot misspell them. */
export const SET = {
  loopBack: 'KUBE-LOOP-BACK',
  clusterIP: 'KUBE-CLUSTER-IP',
  externalIP: 'KUBE-EXTERNAL-IP',
  externalIPLocal: 'KUBE-EXTERNAL-IP-LOCAL',
  loadBalancer: 'KUBE-LOAD-BALANCER',
  loadBalancerFW: 'KUBE-LOAD-BALANCER-FW',
  loadBalancerLocal: 'KUBE-LOAD-BALANCER-LOCAL',
  loadBalancerSourceIP: 'KUBE-LOAD-BALANCER-SOURCE-IP',
  loadBalancerSourceCIDR: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
  nodePortTCP: 'KUBE-NODE-PORT-TCP',
  nodePortLocalTCP: 'KUBE-NODE-PORT-LOCAL-TCP',
  nodePortUDP: 'KUBE-NODE-PORT-UDP',
  nodePortLocalUDP: 'KUBE-NODE-PORT-LOCAL-UDP',
  nodePortSCTP: 'KUBE-NODE-PORT-SCTP-HASH',
  nodePortLocalSCTP: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
  healthCheckNodePort: 'KUBE-HEALTH-CHECK-NODE-PORT',
  ipvsIPs: 'KUBE-IPVS-IPS',
} as const;

export type SetName = (typeof SET)[keyof typeof SET];

/** Every set the proxier ensures on each sync, in upstream's ipsetInfo order. */
export const IPSETS: readonly IpsetSpec[] = [
  { name: SET.loopBack, type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  { name: SET.clusterIP, type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  { name: SET.externalIP, type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  { name: SET.externalIPLocal, type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  { name: SET.loadBalancer, type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  { name: SET.loadBalancerFW, type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  { name: SET.loadBalancerLocal, type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  { name: SET.loadBalancerSourceIP, type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  { name: SET.loadBalancerSourceCIDR, type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  { name: SET.nodePortTCP, type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  { name: SET.nodePortLocalTCP, type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  { name: SET.nodePortUDP, type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  { name: SET.nodePortLocalUDP, type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  { name: SET.nodePortSCTP, type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  { name: SET.nodePortLocalSCTP, type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'" },
  { name: SET.healthCheckNodePort, type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  { name: SET.ipvsIPs, type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
];

const SPEC_BY_NAME: ReadonlyMap<string, IpsetSpec> = new Map(IPSETS.map((s) => [s.name, s]));

export function ipsetSpec(name: SetName): IpsetSpec {
  const spec = SPEC_BY_NAME.get(name);
  if (spec === undefined) throw new Error(`unknown ipset ${name}`);
  return spec;
}

/** util/ipset defaults (setIPSetDefaults): every hash set is created with these. */
export const IPSET_HASH_SIZE = 1024;
export const IPSET_MAX_ELEM = 65536;
/** DefaultPortRange of bitmap:port sets. */
export const IPSET_PORT_RANGE = '0-65535';

/** The `create` line `ipset restore` reads, with the parameters createSet passes. */
export function ipsetCreateLine(spec: IpsetSpec): string {
  if (spec.type === 'bitmap:port') return `create ${spec.name} ${spec.type} range ${IPSET_PORT_RANGE}`;
  return `create ${spec.name} ${spec.type} family inet hashsize ${IPSET_HASH_SIZE} maxelem ${IPSET_MAX_ELEM}`;
}

// Entry.String() forms.
/** hash:ip,port — "192.168.1.1,udp:53". */
export const ipPortEntry = (ip: string, proto: string, port: number): string => `${ip},${proto}:${port}`;
/** hash:ip,port,ip and hash:ip,port,net — "192.168.1.1,udp:53,10.0.0.1". */
export const ipPortIPEntry = (ip: string, proto: string, port: number, ip2OrNet: string): string => `${ip},${proto}:${port},${ip2OrNet}`;
