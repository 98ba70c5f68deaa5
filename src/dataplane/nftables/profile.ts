// What differs between the kube-proxy generations we reproduce: the base
// chains (name, type, hook, priority, in creation order), the jumps from base
// chains to kube-proxy's top-level chains (in creation order, which is also
// rule order within each base chain), and two behaviours of the sync.

import type { NftProfile } from './types.js';

export interface BaseChain {
  readonly name: string;
  readonly type: 'filter' | 'nat';
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  /** Numeric, as knftables prints it (dstnat = -100, filter = 0, srcnat = 100). */
  readonly priority: number;
}

export interface JumpChain {
  readonly dst: string;
  readonly src: string;
  /** Match in front of the jump; '' for none. */
  readonly match: string;
}

export interface ProfileSpec {
  readonly baseChains: readonly BaseChain[];
  readonly jumpChains: readonly JumpChain[];
  /** The ClusterIP masquerade rule also matches "<proto> dport <port>". */
  readonly masqRuleMatchesPort: boolean;
  /**
   * A full sync flushes every map and set (older code) rather than reading
   * what the kernel holds and diffing against it (newer code).
   */
  readonly fullSyncFlushesContainers: boolean;
}

const DSTNAT = -100;
const FILTER = 0;
const SRCNAT = 100;
const NEW = 'ct state new';

// Chains every generation has.
const NAT_CHAINS: readonly BaseChain[] = [
  { name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: DSTNAT },
  { name: 'nat-output', type: 'nat', hook: 'output', priority: DSTNAT },
  { name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: SRCNAT },
];

// Reject/drop for endpoint-less services stays out of prerouting in both
// generations: `reject` is not allowed there on kernels before 5.9.
const V134: ProfileSpec = {
  baseChains: [
    { name: 'filter-prerouting-pre-dnat', type: 'filter', hook: 'prerouting', priority: DSTNAT - 10 },
    { name: 'filter-output-pre-dnat', type: 'filter', hook: 'output', priority: DSTNAT - 10 },
    { name: 'filter-input', type: 'filter', hook: 'input', priority: FILTER },
    { name: 'filter-forward', type: 'filter', hook: 'forward', priority: FILTER },
    { name: 'filter-output', type: 'filter', hook: 'output', priority: FILTER },
    ...NAT_CHAINS,
  ],
  jumpChains: [
    { dst: 'nodeport-endpoints-check', src: 'filter-input', match: NEW },
    { dst: 'service-endpoints-check', src: 'filter-input', match: NEW },
    { dst: 'service-endpoints-check', src: 'filter-forward', match: NEW },
    { dst: 'service-endpoints-check', src: 'filter-output', match: NEW },
    { dst: 'firewall-check', src: 'filter-prerouting-pre-dnat', match: NEW },
    { dst: 'firewall-check', src: 'filter-output-pre-dnat', match: NEW },
    { dst: 'services', src: 'nat-output', match: '' },
    { dst: 'services', src: 'nat-prerouting', match: '' },
    { dst: 'masquerading', src: 'nat-postrouting', match: '' },
    { dst: 'cluster-ips-check', src: 'filter-forward', match: NEW },
    { dst: 'cluster-ips-check', src: 'filter-output', match: NEW },
  ],
  masqRuleMatchesPort: false,
  fullSyncFlushesContainers: false,
};

const V133: ProfileSpec = {
  baseChains: [
    { name: 'filter-prerouting', type: 'filter', hook: 'prerouting', priority: DSTNAT - 10 },
    { name: 'filter-input', type: 'filter', hook: 'input', priority: DSTNAT - 10 },
    { name: 'filter-forward', type: 'filter', hook: 'forward', priority: DSTNAT - 10 },
    { name: 'filter-output', type: 'filter', hook: 'output', priority: DSTNAT - 10 },
    { name: 'filter-output-post-dnat', type: 'filter', hook: 'output', priority: DSTNAT + 10 },
    ...NAT_CHAINS,
  ],
  jumpChains: [
    { dst: 'nodeport-endpoints-check', src: 'filter-input', match: NEW },
    { dst: 'service-endpoints-check', src: 'filter-input', match: NEW },
    { dst: 'service-endpoints-check', src: 'filter-forward', match: NEW },
    { dst: 'service-endpoints-check', src: 'filter-output', match: NEW },
    { dst: 'firewall-check', src: 'filter-prerouting', match: NEW },
    { dst: 'firewall-check', src: 'filter-output', match: NEW },
    { dst: 'services', src: 'nat-output', match: '' },
    { dst: 'services', src: 'nat-prerouting', match: '' },
    { dst: 'masquerading', src: 'nat-postrouting', match: '' },
    { dst: 'cluster-ips-check', src: 'filter-forward', match: NEW },
    { dst: 'cluster-ips-check', src: 'filter-output-post-dnat', match: NEW },
  ],
  masqRuleMatchesPort: true,
  fullSyncFlushesContainers: true,
};

export function profileSpec(profile: NftProfile): ProfileSpec {
  return profile === 'v1.33' ? V133 : V134;
}
