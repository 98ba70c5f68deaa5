// kube-proxy nftables mode: render the transactions kube-proxy writes (full
// sync, partial sync, stale-chain cleanup) as `nft -f` text. Pure functions;
// loading into a kernel lives elsewhere.

export type {
  NftCounts,
  NftIncremental,
  NftIncrementalContext,
  NftProfile,
  NftProgram,
  NftRenderOptions,
} from './types.js';
export {
  changedServices,
  masqueradeMarkFor,
  renderNftables,
  renderNftablesFromState,
  NftRenderer,
  renderNftablesIncremental,
  renderNftablesIncrementalFromStates,
  renderStaleChainCleanup,
  resolveConfig,
} from './render.js';
export { endpointChainBase, hashAndTruncate, isServiceChainName, servicePortChainBase } from './names.js';
export type { Ruleset } from './ruleset.js';
export { applyLine, applyTransaction, dumpRuleset, emptyRuleset } from './ruleset.js';
