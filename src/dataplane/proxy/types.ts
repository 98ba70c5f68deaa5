// The proxy state every renderer works from: what kube-proxy's
// ServiceChangeTracker and EndpointsChangeTracker hold after a sync, for one
// IP family on one node. Renderers turn this into backend-specific rules.

import type { Protocol, Service } from '../../model/types.js';
import type { CanonicalCIDRv4 } from '../../model/ip.js';

/** Lower-case protocol as used in iptables/nft matches and in chain hashes. */
export type ProtocolLower = 'tcp' | 'udp' | 'sctp';

/** One proxied service port: kube-proxy's BaseServicePortInfo plus its ServicePortName. */
export interface ServicePortInfo {
  /** ServicePortName.String(): "ns/name:port", or "ns/name" when the port is unnamed. */
  readonly name: string;
  readonly namespace: string;
  readonly serviceName: string;
  readonly portName: string;
  readonly protocol: Protocol;
  readonly protocolLower: ProtocolLower;
  /** Cluster IP of the proxier's family, canonical text. */
  readonly clusterIP: string;
  readonly port: number;
  /** 0 when the port has no NodePort. */
  readonly nodePort: number;
  /** spec.externalIPs of this family, canonical text, in spec order. */
  readonly externalIPs: readonly string[];
  /** status.loadBalancer.ingress IPs of this family (VIP mode), in status order. */
  readonly loadBalancerVIPs: readonly string[];
  /** Parsed, trimmed spec.loadBalancerSourceRanges of this family; invalid entries dropped. */
  readonly loadBalancerSourceRanges: readonly CanonicalCIDRv4[];
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** ClientIP affinity timeout; 0 unless affinity is ClientIP. */
  readonly stickyMaxAgeSeconds: number;
  /** externalTrafficPolicy Local on a NodePort/LoadBalancer service. */
  readonly externalPolicyLocal: boolean;
  /** internalTrafficPolicy Local. */
  readonly internalPolicyLocal: boolean;
  /** Only set for LoadBalancer services with externalTrafficPolicy Local; otherwise 0. */
  readonly healthCheckNodePort: number;
  /** Reachable other than via the cluster IP (NodePort, external IP or LB VIP). */
  readonly externallyAccessible: boolean;
  /** Ever routes to endpoints under "Cluster" policy (needs KUBE-SVC-). */
  readonly usesClusterEndpoints: boolean;
  /** Ever routes to endpoints under "Local" policy (needs KUBE-SVL-). */
  readonly usesLocalEndpoints: boolean;
  /** Key into ProxyState.endpoints: name + "/" + protocol (kube-proxy keys endpoints by name and protocol). */
  readonly key: string;
  /** The Service this port came from. */
  readonly service: Service;
  /** "namespace/name" of that Service, the unit change tracking works in (built once, read on every sync). */
  readonly serviceKey: string;
}

/**
 * One endpoint of a service port: kube-proxy's BaseEndpointInfo. It does not
 * know its service port, so service ports whose slices share one endpoint
 * list share these objects too (the KUBE-SEP- hash, which depends on the port,
 * is endpointChainHash in chainhash.ts).
 */
export interface EndpointInfo {
  /** Canonical IP text (first address of the discovery Endpoint). */
  readonly ip: string;
  /** The same IP as a uint32 host value (what an eBPF map stores), parsed once. */
  readonly ipv4: number;
  readonly port: number;
  /** "ip:port", BaseEndpointInfo.String(); the unit of de-duplication and sorting. */
  readonly endpoint: string;
  /** nodeName equals this node's name. */
  readonly isLocal: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** Zone hints, or null when the endpoint has none. */
  readonly zoneHints: ReadonlySet<string> | null;
  /** Node hints, or null when the endpoint has none (or PreferSameTrafficDistribution is off). */
  readonly nodeHints: ReadonlySet<string> | null;
}

/** The node-side inputs to topology decisions. */
export interface ProxyNode {
  readonly nodeName: string;
  /** topology.kubernetes.io/zone of the node; '' when unlabelled. */
  readonly zone: string;
}

/** Everything a renderer needs, computed once per render. */
export interface ProxyState {
  readonly ipFamily: 'IPv4';
  readonly node: ProxyNode;
  /** Service ports in model order (services in order, ports in spec order). */
  readonly servicePorts: readonly ServicePortInfo[];
  /** Endpoints per ServicePortInfo.key, sorted by "ip:port" string as upstream sorts them. */
  readonly endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
  /** Sum of endpoint counts over proxied service ports (upstream's largeClusterMode input). */
  readonly totalEndpoints: number;
}

/** Options mirroring kube-proxy feature gates that change the proxy state. */
export interface ProxyStateOptions {
  /** Feature gate PreferSameTrafficDistribution (node hints honoured); default true. */
  readonly preferSameTrafficDistribution?: boolean;
}

/** Result of kube-proxy's CategorizeEndpoints for one service port. */
export interface CategorizedEndpoints {
  /** Usable endpoints under Cluster policy (topology applied); empty when the port never uses Cluster policy. */
  readonly clusterEndpoints: readonly EndpointInfo[];
  /** Usable endpoints under Local policy; empty when the port never uses Local policy. */
  readonly localEndpoints: readonly EndpointInfo[];
  /** Union of the two: every endpoint this node may DNAT to (each needs a KUBE-SEP- chain). */
  readonly allReachableEndpoints: readonly EndpointInfo[];
  /** Whether any usable endpoint exists anywhere in the cluster. */
  readonly hasAnyEndpoints: boolean;
}
