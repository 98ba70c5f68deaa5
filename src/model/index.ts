// Public API of the cluster model: the types every backend renders from, the
// two ways to obtain a model (manifests, synthetic), validation, and the IPv4
// helpers renderers share.

export type * from './types.js';
export { DEFAULT_NODE_CONTEXT } from './types.js';

export { loadManifestFiles, parseManifests, SERVICE_NAME_LABEL } from './manifests.js';
export type { IgnoredKind, ManifestModel, ManifestOptions } from './manifests.js';

export { generateCluster, mulberry32 } from './synthetic.js';
export type { GenerateOptions, Layout, TypeMix } from './synthetic.js';

export {
  assertValidModel,
  DEFAULT_NODE_PORT_RANGE,
  isDNSLabel,
  isDNSSubdomain,
  isPortName,
  problemsToError,
  serviceSubject,
  sliceSubject,
  validateModel,
} from './validate.js';
export type { NodePortRange, Problem, ValidateOptions } from './validate.js';

export {
  cidrContains,
  cidrContainsText,
  cidrFamilyOf,
  cidrSize,
  formatCIDRv4,
  formatIPv4,
  ipFamilyOf,
  IPV4_MAX,
  isIP,
  isIPv4,
  isIPv6,
  looksIPv6,
  normalizeIPv4,
  parseCIDRv4,
  parseCIDRv4Sloppy,
  parseIPv4,
  parseIPv4Sloppy,
  prefixMask,
} from './ip.js';
export type { CanonicalCIDRv4, CIDRv4 } from './ip.js';
