// Semantic validation of a ClusterModel: the checks the API server would have
// made before kube-proxy ever saw the objects, plus the cross-object ones
// (duplicates, dangling EndpointSlices) that only make sense on a whole model.
//
// Manifests (manifests.ts) check structure and enums while decoding, then run
// this on the merged model. Synthetic models pass it by construction; tests
// assert that.
//
// Names are validated too, not for pedantry: renderers put namespace, name and
// port name into rule comments and chain-name hashes, so a newline or quote in
// a hand-edited manifest must stop here rather than inject into an
// iptables-restore or nft script.

import { InputError } from '../errors.js';
import { cidrFamilyOf, ipFamilyOf, isIPv4, isIPv6, specialIPReason } from './ip.js';
import type { ClusterModel, EndpointSlice, Service } from './types.js';

export interface Problem {
  /** What is wrong: "services.yaml doc 3: Service default/foo". */
  subject: string;
  reason: string;
}

export interface NodePortRange {
  min: number;
  max: number;
}

/** The API server's default --service-node-port-range. */
export const DEFAULT_NODE_PORT_RANGE: Readonly<NodePortRange> = Object.freeze({ min: 30000, max: 32767 });

export interface ValidateOptions {
  /** The cluster's --service-node-port-range; default 30000-32767. */
  nodePortRange?: NodePortRange;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDNSLabel(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

export function isDNSSubdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** A named targetPort: IANA service name, at most 15 characters, at least one letter, no "--". */
export function isPortName(s: string): boolean {
  return s.length <= 15 && IANA_SVC_NAME.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

function isLabelValue(s: string): boolean {
  return s.length <= 63 && LABEL_VALUE.test(s);
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** JSON.stringify keeps hostile strings (newlines, escapes) readable and on one line in messages. */
function q(s: string): string {
  return JSON.stringify(s);
}

export function serviceSubject(svc: Pick<Service, 'namespace' | 'name' | 'source'>): string {
  const what = `Service ${svc.namespace}/${svc.name}`;
  return svc.source ? `${svc.source}: ${what}` : what;
}

export function sliceSubject(slice: Pick<EndpointSlice, 'namespace' | 'name' | 'source'>): string {
  const what = `EndpointSlice ${slice.namespace}/${slice.name}`;
  return slice.source ? `${slice.source}: ${what}` : what;
}

function checkName(kind: 'namespace' | 'name', value: string, subdomain: boolean, report: (r: string) => void): void {
  const ok = subdomain ? isDNSSubdomain(value) : isDNSLabel(value);
  if (!ok) {
    const rule = subdomain ? 'a DNS-1123 subdomain' : 'a DNS-1123 label';
    report(`${kind} ${q(value)} is not ${rule} (lowercase letters, digits and "-")`);
  }
}

function validateService(svc: Service, range: NodePortRange, report: (r: string) => void): void {
  checkName('namespace', svc.namespace, false, report);
  checkName('name', svc.name, false, report);
  const headless = svc.clusterIP === 'None';
  const externalName = svc.type === 'ExternalName';

  if (!externalName) {
    if (svc.clusterIP === '') {
      report(`type ${svc.type} needs a clusterIP (set spec.clusterIP, or "None" for a headless Service)`);
    } else if (!headless && ipFamilyOf(svc.clusterIP) === undefined) {
      report(`clusterIP ${q(svc.clusterIP)} is not a valid IP address`);
    } else if (!headless) {
      // No service CIDR holds these: the allocator could never have handed one out.
      const special = specialIPReason(svc.clusterIP);
      if (special !== undefined) report(`clusterIP ${q(svc.clusterIP)} ${special}`);
    }
    if (headless && svc.type !== 'ClusterIP') {
      report(`a headless Service (clusterIP "None") must be type ClusterIP, not ${svc.type}`);
    }
    validateClusterIPs(svc, report);
  }

  for (const ip of svc.externalIPs) {
    const special = specialIPReason(ip);
    if (ipFamilyOf(ip) === undefined) report(`externalIPs entry ${q(ip)} is not a valid IP address`);
    else if (special !== undefined) report(`externalIPs entry ${q(ip)} ${special}`);
  }
  for (const ip of svc.loadBalancerIngressIPs) {
    if (ipFamilyOf(ip) === undefined) report(`status.loadBalancer.ingress ip ${q(ip)} is not a valid IP address`);
  }
  for (const r of svc.loadBalancerSourceRanges) {
    if (cidrFamilyOf(r) === undefined) report(`loadBalancerSourceRanges entry ${q(r)} is not a valid CIDR`);
  }
  if (svc.sessionAffinity === 'ClientIP') {
    const t = svc.sessionAffinityTimeoutSeconds;
    if (!Number.isInteger(t) || t < 1 || t > 86400) {
      report(`sessionAffinityConfig.clientIP.timeoutSeconds ${t} is out of range 1..86400`);
    }
  }
  if (svc.healthCheckNodePort !== 0 && !inRange(svc.healthCheckNodePort, range)) {
    report(`healthCheckNodePort ${svc.healthCheckNodePort} is outside the node port range ${range.min}-${range.max}`);
  }
  validateServicePorts(svc, range, report);
}

function validateClusterIPs(svc: Service, report: (r: string) => void): void {
  if (svc.clusterIPs.length > 2) report(`clusterIPs has ${svc.clusterIPs.length} entries; at most 2 (one per family)`);
  if (svc.clusterIPs.length > 0 && svc.clusterIPs[0] !== svc.clusterIP) {
    report(`clusterIPs[0] ${q(svc.clusterIPs[0] ?? '')} must equal clusterIP ${q(svc.clusterIP)}`);
  }
  const families: string[] = [];
  svc.clusterIPs.forEach((ip, i) => {
    if (ip === 'None') return;
    const fam = ipFamilyOf(ip);
    if (fam === undefined) {
      if (i > 0) report(`clusterIPs[${i}] ${q(ip)} is not a valid IP address`);
      return;
    }
    if (families.includes(fam)) report(`clusterIPs has two ${fam} addresses`);
    families.push(fam);
  });
  if (svc.ipFamilies.length > 0 && families.length > 0) {
    families.forEach((fam, i) => {
      if (svc.ipFamilies[i] !== undefined && svc.ipFamilies[i] !== fam) {
        report(`ipFamilies[${i}] is ${svc.ipFamilies[i]} but clusterIPs[${i}] is ${fam}`);
      }
    });
  }
}

/** The IPs a Service holds from the cluster's allocator (none for headless and ExternalName). */
function clusterIPsOf(svc: Service): Set<string> {
  return new Set([svc.clusterIP, ...svc.clusterIPs].filter((ip) => ip !== '' && ip !== 'None'));
}

function inRange(n: number, range: NodePortRange): boolean {
  return Number.isInteger(n) && n >= range.min && n <= range.max;
}

function validateServicePorts(svc: Service, range: NodePortRange, report: (r: string) => void): void {
  const headless = svc.clusterIP === 'None';
  if (svc.ports.length === 0 && !headless && svc.type !== 'ExternalName') {
    report('spec.ports is empty; a non-headless Service needs at least one port');
  }
  const names = new Set<string>();
  const portProto = new Set<string>();
  svc.ports.forEach((p, i) => {
    const at = `port ${p.name ? q(p.name) : `#${i + 1}`}`;
    if (p.name !== '' && !isDNSLabel(p.name)) report(`port name ${q(p.name)} is not a DNS-1123 label`);
    if (p.name === '' && svc.ports.length > 1) report(`port #${i + 1} needs a name: a Service with several ports must name each`);
    if (names.has(p.name) && p.name !== '') report(`port name ${q(p.name)} is used twice`);
    names.add(p.name);
    if (!isPort(p.port)) report(`${at}: port ${p.port} is out of range 1..65535`);
    const key = `${p.port}/${p.protocol}`;
    if (portProto.has(key)) report(`${at}: port ${key} is listed twice`);
    portProto.add(key);
    if (typeof p.targetPort === 'number') {
      if (!isPort(p.targetPort)) report(`${at}: targetPort ${p.targetPort} is out of range 1..65535`);
    } else if (!isPortName(p.targetPort)) {
      report(`${at}: targetPort ${q(p.targetPort)} is neither a port number nor a valid port name`);
    }
    // The API server allocates a NodePort Service's node ports (a LoadBalancer may opt out): one read back
    // from a cluster has them; without one, every backend would render it as a plain ClusterIP.
    if (p.nodePort === 0 && svc.type === 'NodePort') report(`${at}: type NodePort needs a nodePort (the API server allocates one; give it)`);
    if (p.nodePort !== 0) {
      if (svc.type !== 'NodePort' && svc.type !== 'LoadBalancer') {
        report(`${at}: nodePort ${p.nodePort} is set but type ${svc.type} has no node ports`);
      } else if (!inRange(p.nodePort, range)) {
        report(`${at}: nodePort ${p.nodePort} is outside the node port range ${range.min}-${range.max}`);
      }
    }
  });
}

/** Memoises a string check: node and zone names repeat across hundreds of thousands of endpoints. */
function memo(check: (s: string) => boolean): (s: string) => boolean {
  const good = new Set<string>();
  return (s) => {
    if (good.has(s)) return true;
    if (!check(s)) return false;
    if (good.size < 100000) good.add(s);
    return true;
  };
}

interface NameChecks {
  node: (s: string) => boolean;
  zone: (s: string) => boolean;
}

function validateSlice(slice: EndpointSlice, checks: NameChecks, report: (r: string) => void): void {
  checkName('namespace', slice.namespace, false, report);
  checkName('name', slice.name, true, report);
  if (!isDNSLabel(slice.serviceName)) {
    report(`label kubernetes.io/service-name ${q(slice.serviceName)} is not a valid Service name`);
  }
  const portNames = new Set<string>();
  slice.ports.forEach((p, i) => {
    const at = `port ${p.name ? q(p.name) : `#${i + 1}`}`;
    if (p.name !== '' && !isDNSLabel(p.name)) report(`port name ${q(p.name)} is not a DNS-1123 label`);
    // kube-proxy matches a Service port to a slice port by name: two of one name would each claim it.
    if (portNames.has(p.name)) report(`port name ${q(p.name)} is used twice`);
    portNames.add(p.name);
    if (!isPort(p.port)) report(`${at}: port ${p.port} is out of range 1..65535`);
  });
  const valid = slice.addressType === 'IPv4' ? isIPv4 : slice.addressType === 'IPv6' ? isIPv6 : isDNSSubdomain;
  slice.endpoints.forEach((ep, i) => {
    if (ep.addresses.length === 0) report(`endpoints[${i}] has no addresses`);
    for (const a of ep.addresses) {
      if (!valid(a)) {
        report(`endpoints[${i}] address ${q(a)} is not a valid ${slice.addressType} address`);
        continue;
      }
      const special = slice.addressType === 'FQDN' ? undefined : specialIPReason(a);
      if (special !== undefined) report(`endpoints[${i}] address ${q(a)} ${special}`);
    }
    if (ep.nodeName !== '' && !checks.node(ep.nodeName)) {
      report(`endpoints[${i}] nodeName ${q(ep.nodeName)} is not a valid node name`);
    }
    if (!checks.zone(ep.zone)) report(`endpoints[${i}] zone ${q(ep.zone)} is not a valid zone name`);
    for (const z of ep.zoneHints) {
      if (z === '' || !checks.zone(z)) report(`endpoints[${i}] zone hint ${q(z)} is not a valid zone name`);
    }
    for (const nd of ep.nodeHints ?? []) {
      if (!checks.node(nd)) report(`endpoints[${i}] node hint ${q(nd)} is not a valid node name`);
    }
  });
}

/** Every problem found in the model, in object order; empty when it is valid. */
export function validateModel(model: ClusterModel, options: ValidateOptions = {}): Problem[] {
  const range = options.nodePortRange ?? DEFAULT_NODE_PORT_RANGE;
  const problems: Problem[] = [];
  const services = new Map<string, Service>();
  // Node ports come from one allocator per cluster, so they are unique across
  // Services; one Service may reuse a number for TCP and UDP of the same port.
  const nodePortOwner = new Map<number, Service>();
  // Cluster IPs too (the API server's allocator): two Services on one IP would have each backend pick a
  // different winner (iptables the first rule, nftables the last element, IPVS both merged).
  const clusterIPOwner = new Map<string, Service>();

  for (const svc of model.services) {
    const subject = serviceSubject(svc);
    const report = (reason: string): void => {
      problems.push({ subject, reason });
    };
    const key = `${svc.namespace}/${svc.name}`;
    const earlier = services.get(key);
    if (earlier) {
      report(`duplicate Service name in namespace ${svc.namespace}${earlier.source ? ` (first defined at ${earlier.source})` : ''}`);
    } else {
      services.set(key, svc);
    }
    validateService(svc, range, report);
    // A second copy of one Service shares its IPs too: its duplicate name is the one problem to report.
    if (!earlier) for (const ip of clusterIPsOf(svc)) {
      const other = clusterIPOwner.get(ip);
      if (other && other !== svc) report(`cluster IP ${ip} is already used by ${serviceSubject(other)}`);
      else clusterIPOwner.set(ip, svc);
    }
    const own = new Set<number>();
    for (const p of svc.ports) if (p.nodePort !== 0) own.add(p.nodePort);
    if (svc.healthCheckNodePort !== 0) {
      if (own.has(svc.healthCheckNodePort)) report(`healthCheckNodePort ${svc.healthCheckNodePort} is also a nodePort`);
      own.add(svc.healthCheckNodePort);
    }
    for (const np of own) {
      const other = nodePortOwner.get(np);
      if (other && other !== svc) {
        report(`node port ${np} is already used by ${serviceSubject(other)}`);
      } else {
        nodePortOwner.set(np, svc);
      }
    }
  }

  const slices = new Map<string, EndpointSlice>();
  const checks: NameChecks = { node: memo(isDNSSubdomain), zone: memo(isLabelValue) };
  for (const slice of model.endpointSlices) {
    const subject = sliceSubject(slice);
    const report = (reason: string): void => {
      problems.push({ subject, reason });
    };
    const key = `${slice.namespace}/${slice.name}`;
    const earlier = slices.get(key);
    if (earlier) {
      report(`duplicate EndpointSlice name in namespace ${slice.namespace}${earlier.source ? ` (first defined at ${earlier.source})` : ''}`);
    } else {
      slices.set(key, slice);
    }
    validateSlice(slice, checks, report);
    if (!services.has(`${slice.namespace}/${slice.serviceName}`)) {
      report(`label kubernetes.io/service-name points at Service ${slice.namespace}/${slice.serviceName}, which is not in the input`);
    }
  }
  return problems;
}

/** The InputError for a non-empty problem list: the first problem, with a count of the rest. */
export function problemsToError(problems: readonly Problem[]): InputError | undefined {
  const first = problems[0];
  if (!first) return undefined;
  const more = problems.length - 1;
  const suffix = more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : '';
  return new InputError(first.subject, first.reason + suffix);
}

/** Throws an InputError naming the first problem when the model is not valid. */
export function assertValidModel(model: ClusterModel, options: ValidateOptions = {}): void {
  const err = problemsToError(validateModel(model, options));
  if (err) throw err;
}
