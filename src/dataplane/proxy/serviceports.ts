// Service → service ports, as kube-proxy's ServiceChangeTracker builds them
// for a single-family (IPv4) proxier.

import type { Protocol, Service } from '../../model/types.js';
import type { CanonicalCIDRv4 } from '../../model/ip.js';
import { looksIPv6, normalizeIPv4, parseCIDRv4Sloppy } from '../../model/ip.js';
import type { ProtocolLower, ServicePortInfo } from './types.js';

/** ServicePortName.String(): "ns/name:port", with ":port" omitted for an unnamed port. */
export function servicePortNameString(namespace: string, name: string, portName: string): string {
  return portName === '' ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

/** Key under which endpoints of a service port are stored (name and protocol, like upstream's map key). */
export function endpointsKey(servicePortName: string, protocol: Protocol): string {
  return `${servicePortName}/${protocol}`;
}

const LOWER: Record<Protocol, ProtocolLower> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/** Lower-case protocol name. */
export function protocolLower(protocol: Protocol): ProtocolLower {
  return LOWER[protocol];
}

/**
 * The IPv4 cluster IP kube-proxy would use, or '' when the service has none
 * (GetClusterIPByFamily: with no ipFamilies, fall back to clusterIP if it is IPv4).
 */
export function ipv4ClusterIP(svc: Service): string {
  if (svc.ipFamilies.length === 0) {
    if (svc.clusterIP === '' || svc.clusterIP === 'None' || looksIPv6(svc.clusterIP)) return '';
    return normalizeIPv4(svc.clusterIP) ?? '';
  }
  for (let i = 0; i < svc.ipFamilies.length; i++) {
    if (svc.ipFamilies[i] === 'IPv4') {
      const ip = svc.clusterIPs[i];
      if (ip === undefined) return '';
      return normalizeIPv4(ip) ?? '';
    }
  }
  return '';
}

/** ShouldSkipService: headless, no cluster IP, or ExternalName services are never proxied. */
export function shouldSkipService(svc: Service): boolean {
  if (svc.clusterIP === '' || svc.clusterIP === 'None') return true;
  return svc.type === 'ExternalName';
}

const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_CIDRS: readonly CanonicalCIDRv4[] = Object.freeze([]);

// Most Services have no external IPs, LoadBalancer IPs or source ranges: they share one empty list.
function ipv4List(values: readonly string[]): readonly string[] {
  if (values.length === 0) return NO_STRINGS;
  const out: string[] = [];
  for (const v of values) {
    const ip = normalizeIPv4(v.trim());
    if (ip !== undefined) out.push(ip);
  }
  return out;
}

function cidrList(values: readonly string[]): readonly CanonicalCIDRv4[] {
  if (values.length === 0) return NO_CIDRS;
  const out: CanonicalCIDRv4[] = [];
  for (const v of values) {
    const c = parseCIDRv4Sloppy(v);
    if (c !== undefined) out.push(c);
  }
  return out;
}

/**
 * apiservice.ExternallyAccessible: NodePort and LoadBalancer Services, and
 * ClusterIP Services with spec.externalIPs. (Per port, reachability is
 * decided again from the port's NodePort and the IPs; see servicePortsOf.)
 */
function serviceExternallyAccessible(svc: Service): boolean {
  return svc.type === 'LoadBalancer' || svc.type === 'NodePort' || (svc.type === 'ClusterIP' && svc.externalIPs.length > 0);
}

/**
 * apiservice.ExternalPolicyLocal: externalTrafficPolicy Local counts only on an
 * externally accessible Service — including a ClusterIP Service with
 * externalIPs, whose external-IP traffic then goes to local endpoints only.
 */
function externalPolicyLocal(svc: Service): boolean {
  return serviceExternallyAccessible(svc) && svc.externalTrafficPolicy === 'Local';
}

/**
 * The proxied ports of one Service for the IPv4 proxier, in spec order; empty
 * when kube-proxy would skip the Service.
 */
export function servicePortsOf(svc: Service): ServicePortInfo[] {
  if (shouldSkipService(svc)) return [];
  const clusterIP = ipv4ClusterIP(svc);
  if (clusterIP === '') return [];

  // Per-service values are shared by all its ports.
  const externalIPs = ipv4List(svc.externalIPs);
  // An empty entry is no address and drops out, as any unparsable one does.
  const loadBalancerVIPs = ipv4List(svc.loadBalancerIngressIPs);
  const sourceRanges = cidrList(svc.loadBalancerSourceRanges);
  const etpLocal = externalPolicyLocal(svc);
  const itpLocal = svc.internalTrafficPolicy === 'Local';
  const affinity = svc.sessionAffinity;
  const sticky = affinity === 'ClientIP' ? svc.sessionAffinityTimeoutSeconds : 0;
  const hcPort = svc.type === 'LoadBalancer' && etpLocal ? svc.healthCheckNodePort : 0;
  const serviceKey = `${svc.namespace}/${svc.name}`;

  return svc.ports.map((p): ServicePortInfo => {
    const name = servicePortNameString(svc.namespace, svc.name, p.name);
    const externallyAccessible = p.nodePort !== 0 || loadBalancerVIPs.length > 0 || externalIPs.length > 0;
    return {
      name,
      namespace: svc.namespace,
      serviceName: svc.name,
      portName: p.name,
      protocol: p.protocol,
      protocolLower: LOWER[p.protocol],
      clusterIP,
      port: p.port,
      nodePort: p.nodePort,
      externalIPs,
      loadBalancerVIPs,
      loadBalancerSourceRanges: sourceRanges,
      sessionAffinity: affinity,
      stickyMaxAgeSeconds: sticky,
      externalPolicyLocal: etpLocal,
      internalPolicyLocal: itpLocal,
      healthCheckNodePort: hcPort,
      externallyAccessible,
      usesClusterEndpoints: !itpLocal || externallyAccessible,
      usesLocalEndpoints: itpLocal || (etpLocal && externallyAccessible),
      key: endpointsKey(name, p.protocol),
      service: svc,
      serviceKey,
    };
  });
}
