// The one cluster model every backend renders from. It mirrors the parts of
// core/v1 Service and discovery/v1 EndpointSlice that kube-proxy reads, already
// normalised (defaults applied, strings parsed), so renderers stay pure and small.
// Manifests (src/model/manifests.ts) and the synthetic generator
// (src/model/synthetic.ts) both produce this shape.

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export type TrafficPolicy = 'Cluster' | 'Local';
export type IPFamily = 'IPv4' | 'IPv6';

export interface ServicePort {
  /** Port name; '' for an unnamed single port (kube-proxy then omits ":name"). */
  name: string;
  protocol: Protocol;
  port: number;
  /** Target port as written in the Service; endpoints carry the resolved number. */
  targetPort: number | string;
  /** Allocated NodePort, or 0 when the Service has none. */
  nodePort: number;
}

export interface Service {
  namespace: string;
  name: string;
  type: ServiceType;
  /** '' when unset, 'None' for headless Services (kube-proxy skips those). */
  clusterIP: string;
  clusterIPs: string[];
  ipFamilies: IPFamily[];
  externalIPs: string[];
  /** status.loadBalancer.ingress[].ip */
  loadBalancerIngressIPs: string[];
  loadBalancerSourceRanges: string[];
  sessionAffinity: 'None' | 'ClientIP';
  /** Only meaningful with ClientIP affinity; upstream default 10800. */
  sessionAffinityTimeoutSeconds: number;
  externalTrafficPolicy: TrafficPolicy;
  internalTrafficPolicy: TrafficPolicy;
  /** 0 when not allocated. */
  healthCheckNodePort: number;
  ports: ServicePort[];
  /** Where this object came from (file:doc index), for error messages. */
  source?: string;
}

export interface EndpointConditions {
  /** discovery/v1 semantics: nil ready is treated as true, nil serving as ready, nil terminating as false. */
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface Endpoint {
  addresses: string[];
  conditions: EndpointConditions;
  nodeName: string;
  zone: string;
  /** hints.forZones[].name; empty when there are no hints. */
  zoneHints: string[];
  /** hints.forNodes[].name (PreferSameNode traffic distribution); absent or empty when there are none. */
  nodeHints?: string[];
}

export interface EndpointSlicePort {
  name: string;
  protocol: Protocol;
  port: number;
}

export interface EndpointSlice {
  namespace: string;
  name: string;
  /** Label kubernetes.io/service-name. */
  serviceName: string;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  ports: EndpointSlicePort[];
  endpoints: Endpoint[];
  source?: string;
}

export interface ClusterModel {
  services: Service[];
  endpointSlices: EndpointSlice[];
}

/** Per-node settings kube-proxy takes from its flags and config. */
export interface NodeContext {
  nodeName: string;
  nodeIP: string;
  /** --cluster-cidr, used for local-traffic detection; '' disables it. */
  clusterCIDR: string;
  /** --iptables-masquerade-bit, default 14 → mark 0x4000. */
  masqueradeBit: number;
  /** The node's topology.kubernetes.io/zone label, used for topology-aware routing; absent or '' when unlabelled. */
  zone?: string;
}

export const DEFAULT_NODE_CONTEXT: NodeContext = {
  nodeName: 'node1',
  nodeIP: '192.168.0.2',
  clusterCIDR: '10.0.0.0/8',
  masqueradeBit: 14,
};
