// Shared kube-proxy "proxy state" layer: service ports, endpoints, topology
// categorisation and chain-name hashes, for every dataplane renderer.

export type {
  CategorizedEndpoints,
  EndpointInfo,
  ProtocolLower,
  ProxyNode,
  ProxyState,
  ProxyStateOptions,
  ServicePortInfo,
} from './types.js';
export { base32Prefix, clearHashCache, endpointHash, portProtoHash, sha256Base32 } from './hash.js';
export { endpointChainHash, servicePortChainHash } from './chainhash.js';
export {
  endpointsKey,
  ipv4ClusterIP,
  protocolLower,
  servicePortNameString,
  servicePortsOf,
  shouldSkipService,
} from './serviceports.js';
export type { EndpointsMapOptions } from './endpoints.js';
export { buildEndpointsMap, compareEndpoints } from './endpoints.js';
export type { TopologyMode } from './topology.js';
export { categorizeEndpoints, topologyModeFromHints } from './topology.js';
export { buildProxyState, endpointsOf, ProxyStateMemo } from './state.js';
export { masqueradeMarkFor } from './mark.js';
export { changedServices, serviceKey } from './changes.js';
export type { MemoLookup } from './memo.js';
export { ServicePortMemo } from './memo.js';
