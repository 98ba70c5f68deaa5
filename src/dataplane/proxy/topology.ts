// kube-proxy's CategorizeEndpoints: which endpoints a service port may use
// under Cluster and Local traffic policy on this node, with topology hints
// and the fallback to serving-terminating endpoints.

import type { CategorizedEndpoints, EndpointInfo, ProxyNode, ServicePortInfo } from './types.js';

/** Topology mode chosen from endpoint hints: '' (none), PreferSameZone or PreferSameNode. */
export type TopologyMode = '' | 'PreferSameZone' | 'PreferSameNode';

const EMPTY: readonly EndpointInfo[] = [];

/**
 * Pick the topology mode from hints on ready endpoints: node hints win when
 * every ready endpoint has one and one names this node; otherwise zone hints
 * when every ready endpoint has one and one names this node's zone.
 * (Node hints are already null when PreferSameTrafficDistribution is off.)
 */
export function topologyModeFromHints(endpoints: readonly EndpointInfo[], node: ProxyNode): TopologyMode {
  let allNode = true;
  let forNode = false;
  let allZone = true;
  let forZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    if (ep.nodeHints === null) allNode = false;
    else if (ep.nodeHints.has(node.nodeName)) forNode = true;
    if (ep.zoneHints === null) allZone = false;
    else if (ep.zoneHints.has(node.zone)) forZone = true;
  }
  if (allNode && forNode) return 'PreferSameNode';
  if (allZone && forZone) return 'PreferSameZone';
  return '';
}

function availableForTopology(ep: EndpointInfo, mode: TopologyMode, node: ProxyNode): boolean {
  switch (mode) {
    case '':
      return true;
    case 'PreferSameNode':
      return ep.nodeHints !== null && ep.nodeHints.has(node.nodeName);
    case 'PreferSameZone':
      return ep.zoneHints !== null && ep.zoneHints.has(node.zone);
  }
}

/**
 * Split a service port's endpoints into Cluster-policy and Local-policy sets
 * exactly as upstream does. "Usable" means ready; if none is, the
 * serving-and-terminating ones are used instead (independently per policy).
 * Where upstream merges the two lists through a map (random order), we keep
 * cluster endpoints first, then local-only ones, so output is deterministic.
 */
export function categorizeEndpoints(
  endpoints: readonly EndpointInfo[],
  svc: ServicePortInfo,
  node: ProxyNode,
): CategorizedEndpoints {
  let mode: TopologyMode = '';
  let clusterEndpoints: readonly EndpointInfo[] = EMPTY;
  let hasAnyEndpoints = false;

  if (svc.usesClusterEndpoints) {
    mode = topologyModeFromHints(endpoints, node);
    // Common case, and allocation-free: no topology and every endpoint ready.
    clusterEndpoints =
      mode === '' && endpoints.every((ep) => ep.ready)
        ? endpoints
        : endpoints.filter((ep) => ep.ready && availableForTopology(ep, mode, node));
    // No ready endpoint for the topology means none at all (the mode already fell back), so try terminating ones.
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter((ep) => ep.serving && ep.terminating);
    if (clusterEndpoints.length > 0) hasAnyEndpoints = true;
  }

  if (!svc.usesLocalEndpoints) {
    return { clusterEndpoints, localEndpoints: EMPTY, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }

  let localReady = false;
  let localServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localReady = true;
    } else if (ep.serving && ep.terminating) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localServingTerminating = true;
    }
  }

  let localEndpoints: readonly EndpointInfo[] = EMPTY;
  let usesServingTerminating = false;
  if (localReady) {
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  } else if (localServingTerminating) {
    usesServingTerminating = true;
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);
  }

  if (!svc.usesClusterEndpoints) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints };
  }
  // Without topology and terminating fallback, every ready local endpoint is already a cluster endpoint.
  if (mode === '' && !usesServingTerminating) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }
  const seen = new Set<string>();
  const all: EndpointInfo[] = [];
  for (const list of [clusterEndpoints, localEndpoints]) {
    for (const ep of list) {
      if (seen.has(ep.endpoint)) continue;
      seen.add(ep.endpoint);
      all.push(ep);
    }
  }
  return { clusterEndpoints, localEndpoints, allReachableEndpoints: all, hasAnyEndpoints };
}
