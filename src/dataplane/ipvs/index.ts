// kube-proxy IPVS mode: the dummy-device addresses, ipsets, iptables rules and
// IPVS virtual/real servers one full sync programs. Pure functions; loading
// into a kernel lives elsewhere.

export type { IpvsCounts, IpvsIpset, IpvsProgram, IpvsRealServer, IpvsRenderOptions, IpvsVirtualServer } from './types.js';
export type { IpsetSpec, IpsetType, SetName } from './ipsets.js';
export { IPSETS, SET } from './ipsets.js';
export {
  DEFAULT_SCHEDULER,
  DUMMY_DEVICE,
  formatIpBatch,
  formatIpsetRestore,
  formatIpvsadmRestore,
  formatIpvsProgram,
  IPVS_CHAIN,
  renderIpvs,
  renderIpvsFromState,
  renderIpvsJumps,
} from './render.js';
