// Seeded synthetic clusters.
//
// Layouts:
//   'kube-proxy-scale'     — the objects of kube-proxy's own rule-count test
//                            (pkg/proxy/iptables/number_generated_rules_test.go),
//                            so rule counts here can be compared with upstream's.
//   'kube-proxy-nft-bench' — the objects of the nftables proxier's sync benchmark
//                            (pkg/proxy/nftables/proxier_benchmark_test.go).
//   'realistic'            — a varied cluster: namespaces, named and multiple
//                            ports, NodePorts/LoadBalancers with ingress IPs and
//                            source ranges, ClientIP affinity, Local traffic
//                            policies, endpoints spread over nodes and zones,
//                            some terminating or not ready.
//
// Everything derives from `seed` through one PRNG stream, so a run is repeated
// exactly from its parameters. Sizes are checked against the address and port
// ranges before anything is allocated: a benchmark that silently wrapped
// around an address range would measure duplicates, not scale.
//
// Speed and memory: objects that are identical everywhere (conditions, empty
// hint lists, the upstream layouts' shared endpoint lists) are shared and
// frozen. Treat generated models as read-only: copy an object before changing
// it (mutating a shared one throws, which is the point).

import { mulberry32 } from '../stats/summary.js';
import { InputError } from '../errors.js';
import { formatIPv4, parseIPv4 } from './ip.js';
import { DEFAULT_NODE_CONTEXT } from './types.js';
import type {
  ClusterModel,
  Endpoint,
  EndpointConditions,
  EndpointSlice,
  EndpointSlicePort,
  Protocol,
  Service,
  ServicePort,
  ServiceType,
} from './types.js';
import { DEFAULT_NODE_PORT_RANGE } from './validate.js';

export type Layout = 'kube-proxy-scale' | 'kube-proxy-nft-bench' | 'realistic';

/** Fractions of each Service type; ClusterIP, when omitted, takes what the others leave. */
export interface TypeMix {
  ClusterIP?: number;
  NodePort?: number;
  LoadBalancer?: number;
}

export interface GenerateOptions {
  services: number;
  endpointsPerService: number;
  /** Any integer; taken modulo 2^32. */
  seed: number;
  layout: Layout;
  /**
   * Default: all ClusterIP for the kube-proxy layouts (as upstream); for
   * 'realistic' 10% NodePort and 5% LoadBalancer, scaled down to what the node
   * port range holds.
   */
  typeMix?: TypeMix;
  /**
   * The node whose kube-proxy is being measured: 'realistic' places some
   * endpoints there; 'kube-proxy-nft-bench' places all there (upstream's fake
   * proxier hostname, 'test-node', is the default for that layout).
   * Default DEFAULT_NODE_CONTEXT.nodeName.
   */
  nodeName?: string;
  /** 'realistic': nodes endpoints are spread over (nodeName is one). Default: about 30 endpoints a node, 3..5000. */
  nodes?: number;
  /** 'realistic': zones, nodes are spread round-robin. Default 3. */
  zones?: number;
  /** 'realistic': namespaces. Default: about 40 Services each, 1..1000. */
  namespaces?: number;
}

// ---------------------------------------------------------------------------
// PRNG

// mulberry32 lives in src/stats (the bootstrap uses it too); re-exported for model users.
export { mulberry32 };

function randInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

/**
 * A bijection on 0..m-1 (i ↦ (a·i + b) mod m with gcd(a, m) = 1): random-looking,
 * collision-free addresses and ports in O(1) memory, whatever the cluster size.
 */
function affinePermutation(m: number, rand: () => number): (i: number) => number {
  if (m <= 1) return () => 0;
  let a = 1 + randInt(rand, m - 1);
  while (gcd(a, m) !== 1) a = (a % (m - 1)) + 1;
  const b = randInt(rand, m);
  // a·i < 2^21 · 2^21 for the ranges used here, well inside exact doubles.
  return (i) => (a * i + b) % m;
}

function gcd(x: number, y: number): number {
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

// ---------------------------------------------------------------------------
// Shared frozen pieces

function frozen<T>(items: T[]): T[] {
  // Typed as mutable because the model types are; mutation still throws at run time.
  return Object.freeze(items) as T[];
}

const READY: EndpointConditions = Object.freeze({ ready: true, serving: true, terminating: false });
const TERMINATING_SERVING: EndpointConditions = Object.freeze({ ready: false, serving: true, terminating: true });
const TERMINATING: EndpointConditions = Object.freeze({ ready: false, serving: false, terminating: true });
const NOT_READY: EndpointConditions = Object.freeze({ ready: false, serving: false, terminating: false });
const NONE: string[] = frozen([]);
const RANGES_ONE = frozen(['203.0.113.0/25']);
const RANGES_TWO = frozen(['198.51.100.0/24', '203.0.113.0/24']);
const IPV4_FAMILY = frozen(['IPv4' as const]);

// ---------------------------------------------------------------------------
// Limits, checked before generating

const SUBJECT = 'synthetic cluster';

function fail(reason: string): never {
  throw new InputError(SUBJECT, reason);
}

function checkCount(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
  return v;
}

interface TypeCounts {
  ClusterIP: number;
  NodePort: number;
  LoadBalancer: number;
}

/** Exact counts by largest remainder, so "10% LoadBalancer" of 50 Services is exactly 5, for every seed. */
function typeCounts(services: number, mix: Required<TypeMix>): TypeCounts {
  const shares = [mix.ClusterIP * services, mix.NodePort * services, mix.LoadBalancer * services];
  const counts = shares.map(Math.floor);
  const frac = (k: number): number => (shares[k] ?? 0) - (counts[k] ?? 0);
  let left = services - counts.reduce((a, c) => a + c, 0);
  // Hand the remainder to the largest fractional parts; ties go to the earlier type.
  for (const k of [0, 1, 2].sort((x, y) => frac(y) - frac(x) || x - y)) {
    if (left <= 0) break;
    counts[k] = (counts[k] ?? 0) + 1;
    left--;
  }
  return { ClusterIP: counts[0] ?? 0, NodePort: counts[1] ?? 0, LoadBalancer: counts[2] ?? 0 };
}

function resolveMix(mix: TypeMix | undefined): Required<TypeMix> | undefined {
  if (mix === undefined) return undefined;
  for (const [k, v] of Object.entries(mix)) {
    if (!['ClusterIP', 'NodePort', 'LoadBalancer'].includes(k)) fail(`typeMix has unknown Service type ${JSON.stringify(k)}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) fail(`typeMix.${k} must be a fraction in 0..1, got ${String(v)}`);
  }
  const np = mix.NodePort ?? 0;
  const lb = mix.LoadBalancer ?? 0;
  const cip = mix.ClusterIP ?? 1 - np - lb;
  const sum = cip + np + lb;
  if (cip < -1e-9 || Math.abs(sum - 1) > 1e-6) fail(`typeMix fractions must add up to 1, got ${+sum.toFixed(6)}`);
  return { ClusterIP: Math.max(0, cip), NodePort: np, LoadBalancer: lb };
}

const NODE_PORTS = DEFAULT_NODE_PORT_RANGE.max - DEFAULT_NODE_PORT_RANGE.min + 1; // 2768

// Address plans. Ranges are inclusive of the first usable address.
const SCALE_VIP_BASE = parseIPv4('10.0.0.1') ?? 0;
const SCALE_EP_BASE = parseIPv4('172.16.0.1') ?? 0;
/** 172.16.0.1 … 172.31.255.254: the /12 minus network and broadcast. */
const EP_CAPACITY = 2 ** 20 - 2;
/** Upstream counts Service ports up from 80, so port 80+i must stay ≤ 65535. */
const SCALE_MAX_SERVICES = 65535 - 80 + 1;
/** Upstream's nft benchmark writes the index as (i/250+1).(i%250+1) into two octets. */
const NFT_MAX_INDEX = 254 * 250 + 249 + 1;
const NFT_EP_BASE = parseIPv4('10.0.0.0') ?? 0;
const REAL_VIP_BASE = parseIPv4('10.96.0.1') ?? 0; // 10.96.0.0/12, kubeadm's default service CIDR
const REAL_VIP_CAPACITY = 2 ** 20 - 2;
const REAL_LB_BASE = parseIPv4('198.18.0.1') ?? 0; // 198.18.0.0/15 is reserved for benchmarking (RFC 2544)
const REAL_EXTERNAL_BASE = parseIPv4('198.19.0.1') ?? 0;
const REAL_LB_CAPACITY = 2 ** 16 - 2;
/** NodePort/LoadBalancer Services get at most this many ports in 'realistic'. */
const REAL_MAX_NODEPORT_PORTS = 2;

interface Plan {
  opts: GenerateOptions;
  counts: TypeCounts;
  nodeName: string;
}

function plan(opts: GenerateOptions): Plan {
  if (typeof opts !== 'object' || opts === null) fail('options must be an object');
  const layouts: Layout[] = ['kube-proxy-scale', 'kube-proxy-nft-bench', 'realistic'];
  if (!layouts.includes(opts.layout)) fail(`unknown layout ${JSON.stringify(opts.layout)} (expected ${layouts.join(', ')})`);
  const services = checkCount('services', opts.services, 0);
  const epps = checkCount('endpointsPerService', opts.endpointsPerService, 0);
  if (typeof opts.seed !== 'number' || !Number.isSafeInteger(opts.seed)) fail(`seed must be an integer, got ${String(opts.seed)}`);
  const defaultNode = opts.layout === 'kube-proxy-nft-bench' ? 'test-node' : DEFAULT_NODE_CONTEXT.nodeName;
  const nodeName = opts.nodeName ?? defaultNode;
  if (typeof nodeName !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName) || nodeName.length > 253) {
    fail(`nodeName ${JSON.stringify(nodeName)} is not a valid node name`);
  }
  const mix = resolveMix(opts.typeMix);

  if (opts.layout === 'kube-proxy-scale') {
    const counts = typeCounts(services, mix ?? { ClusterIP: 1, NodePort: 0, LoadBalancer: 0 });
    if (services > SCALE_MAX_SERVICES) {
      fail(`layout kube-proxy-scale gives Service i port 80+i, so at most ${SCALE_MAX_SERVICES} Services fit; got ${services}`);
    }
    if (epps > EP_CAPACITY) {
      fail(`layout kube-proxy-scale numbers endpoints from 172.16.0.1 within 172.16.0.0/12, so at most ${EP_CAPACITY} endpoints per Service fit; got ${epps}`);
    }
    const withNodePort = counts.NodePort + counts.LoadBalancer;
    if (withNodePort > 0 && services > NODE_PORTS) {
      fail(`layout kube-proxy-scale gives Service i nodePort 30000+i, so with NodePort or LoadBalancer Services at most ${NODE_PORTS} Services fit in 30000-32767; got ${services}`);
    }
    const hcMax = Math.floor((DEFAULT_NODE_PORT_RANGE.max - 32000 + 1) / 2);
    if (counts.LoadBalancer > 0 && services > hcMax) {
      fail(`layout kube-proxy-scale gives LoadBalancer Service i healthCheckNodePort 32000+services+i, so with LoadBalancers at most ${hcMax} Services fit below 32768; got ${services}`);
    }
    return { opts, counts, nodeName };
  }

  if (opts.layout === 'kube-proxy-nft-bench') {
    const counts = typeCounts(services, mix ?? { ClusterIP: 1, NodePort: 0, LoadBalancer: 0 });
    if (counts.ClusterIP !== services) fail('layout kube-proxy-nft-bench has only ClusterIP Services (as upstream); drop typeMix or use another layout');
    if (services > NFT_MAX_INDEX) {
      fail(`layout kube-proxy-nft-bench writes ClusterIPs as 172.30.(i/250+1).(i%250+1), so at most ${NFT_MAX_INDEX} Services fit; got ${services}`);
    }
    if (epps > NFT_MAX_INDEX) {
      fail(`layout kube-proxy-nft-bench writes endpoint j's second octet as j/250+1, so at most ${NFT_MAX_INDEX} endpoints per Service fit; got ${epps}`);
    }
    return { opts, counts, nodeName };
  }

  // realistic
  checkCount('nodes', opts.nodes ?? 3, 1, 100000);
  checkCount('zones', opts.zones ?? 3, 1, 26 * 26);
  checkCount('namespaces', opts.namespaces ?? 1, 1, 100000);
  if (services > REAL_VIP_CAPACITY) {
    fail(`layout realistic allocates ClusterIPs from 10.96.0.0/12, which holds ${REAL_VIP_CAPACITY} Services; got ${services}`);
  }
  if (services * epps > EP_CAPACITY) {
    fail(`layout realistic allocates endpoint IPs from 172.16.0.0/12, which holds ${EP_CAPACITY}; ${services} × ${epps} = ${services * epps}`);
  }
  // Each NodePort Service needs up to 2 node ports, each LoadBalancer up to 3
  // (2 ports + a health check port when externalTrafficPolicy is Local).
  const perNP = REAL_MAX_NODEPORT_PORTS;
  const perLB = REAL_MAX_NODEPORT_PORTS + 1;
  let counts: TypeCounts;
  if (mix) {
    counts = typeCounts(services, mix);
    const need = counts.NodePort * perNP + counts.LoadBalancer * perLB;
    if (need > NODE_PORTS) {
      fail(`typeMix gives ${counts.NodePort} NodePort and ${counts.LoadBalancer} LoadBalancer Services, which may need ${need} node ports; 30000-32767 holds ${NODE_PORTS}`);
    }
  } else {
    counts = typeCounts(services, { ClusterIP: 0.85, NodePort: 0.1, LoadBalancer: 0.05 });
    const need = counts.NodePort * perNP + counts.LoadBalancer * perLB;
    if (need > NODE_PORTS) {
      const scale = NODE_PORTS / need;
      const np = Math.floor(counts.NodePort * scale);
      const lb = Math.floor(counts.LoadBalancer * scale);
      counts = { ClusterIP: services - np - lb, NodePort: np, LoadBalancer: lb };
    }
  }
  return { opts, counts, nodeName };
}

/** Service types by index: exact counts, positions shuffled by the seed. */
function assignTypes(counts: TypeCounts, rand: () => number): Uint8Array {
  const n = counts.ClusterIP + counts.NodePort + counts.LoadBalancer;
  const t = new Uint8Array(n); // 0 ClusterIP, 1 NodePort, 2 LoadBalancer
  t.fill(1, counts.ClusterIP, counts.ClusterIP + counts.NodePort);
  t.fill(2, counts.ClusterIP + counts.NodePort);
  if (counts.NodePort + counts.LoadBalancer === 0 || counts.ClusterIP + counts.NodePort === 0) return t;
  for (let i = n - 1; i > 0; i--) {
    const j = randInt(rand, i + 1);
    const x = t[i] ?? 0;
    t[i] = t[j] ?? 0;
    t[j] = x;
  }
  return t;
}

const TYPES: readonly ServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer'];

function baseService(namespace: string, name: string, type: ServiceType, clusterIP: string, ports: ServicePort[]): Service {
  return {
    namespace,
    name,
    type,
    clusterIP,
    clusterIPs: [clusterIP],
    ipFamilies: IPV4_FAMILY,
    externalIPs: NONE,
    loadBalancerIngressIPs: NONE,
    loadBalancerSourceRanges: NONE,
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: 10800,
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    healthCheckNodePort: 0,
    ports,
  };
}

// ---------------------------------------------------------------------------
// Layout: kube-proxy-scale

function generateScale(p: Plan, rand: () => number): ClusterModel {
  const n = p.opts.services;
  const epps = p.opts.endpointsPerService;
  const types = assignTypes(p.counts, rand);
  // Upstream: one endpoint list, copied into every slice. Here it is shared.
  const eps: Endpoint[] = [];
  for (let j = 0; j < epps; j++) {
    eps.push(
      Object.freeze({ addresses: frozen([formatIPv4(SCALE_EP_BASE + j)]), conditions: READY, nodeName: '', zone: '', zoneHints: NONE }),
    );
  }
  const endpoints = frozen(eps);
  const slicePorts: EndpointSlicePort[] = frozen([Object.freeze({ name: '8080', protocol: 'TCP' as const, port: 8080 })]);
  // Upstream's LoadBalancer variant; the source range is written " 1.2.3.4/28"
  // there, and the model holds it trimmed, as kube-proxy reads it.
  const lbExternal = frozen(['1.2.3.4']);
  const lbRanges = frozen(['1.2.3.4/28']);
  const lbIngress = frozen(['1.2.3.4']);

  const services: Service[] = new Array<Service>(n);
  const slices: EndpointSlice[] = new Array<EndpointSlice>(n);
  for (let i = 0; i < n; i++) {
    const type = TYPES[types[i] ?? 0] ?? 'ClusterIP';
    const name = `svc${i}`;
    const hasNodePort = type !== 'ClusterIP';
    const svc = baseService('namespace', name, type, formatIPv4(SCALE_VIP_BASE + i), [
      { name: '8080', protocol: 'TCP', port: 80 + i, targetPort: 8080, nodePort: hasNodePort ? 30000 + i : 0 },
    ]);
    if (type === 'LoadBalancer') {
      svc.externalIPs = lbExternal;
      svc.loadBalancerSourceRanges = lbRanges;
      svc.loadBalancerIngressIPs = lbIngress;
      svc.healthCheckNodePort = 32000 + n + i;
    }
    services[i] = svc;
    slices[i] = { namespace: 'namespace', name, serviceName: name, addressType: 'IPv4', ports: slicePorts, endpoints };
  }
  return { services, endpointSlices: slices };
}

// ---------------------------------------------------------------------------
// Layout: kube-proxy-nft-bench

function generateNftBench(p: Plan): ClusterModel {
  const n = p.opts.services;
  const epps = p.opts.endpointsPerService;
  const slicePorts: EndpointSlicePort[] = frozen([Object.freeze({ name: 'p80', protocol: 'TCP' as const, port: 80 })]);
  // Upstream leaves targetPort unset; the API default is the port itself.
  const servicePorts: ServicePort[] = frozen([Object.freeze({ name: 'p80', protocol: 'TCP' as const, port: 80, targetPort: 80, nodePort: 0 })]);
  const services: Service[] = new Array<Service>(n);
  const slices: EndpointSlice[] = new Array<EndpointSlice>(n);
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    const clusterIP = `172.30.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`;
    services[i] = baseService('ns', name, 'ClusterIP', clusterIP, servicePorts);
    const endpoints: Endpoint[] = new Array<Endpoint>(epps);
    for (let j = 0; j < epps; j++) {
      const k = i * epps + j;
      // Upstream's formula, octet by octet: 10.(j/250+1).((k/250)%250+1).(k%250+1).
      const ip = formatIPv4(NFT_EP_BASE + (Math.floor(j / 250) + 1) * 65536 + ((Math.floor(k / 250) % 250) + 1) * 256 + (k % 250) + 1);
      endpoints[j] = { addresses: [ip], conditions: READY, nodeName: p.nodeName, zone: '', zoneHints: NONE };
    }
    slices[i] = { namespace: 'ns', name: `${name}-1`, serviceName: name, addressType: 'IPv4', ports: slicePorts, endpoints };
  }
  return { services, endpointSlices: slices };
}

// ---------------------------------------------------------------------------
// Layout: realistic

interface PortTemplate {
  name: string;
  port: number;
  target: number;
  /** IANA name used when targetPort is written by name. */
  targetName: string;
  protocol: Protocol;
}

const PORT_TEMPLATES: readonly PortTemplate[] = [
  { name: 'http', port: 80, target: 8080, targetName: 'http', protocol: 'TCP' },
  { name: 'https', port: 443, target: 8443, targetName: 'https', protocol: 'TCP' },
  { name: 'grpc', port: 9090, target: 9090, targetName: 'grpc', protocol: 'TCP' },
  { name: 'metrics', port: 9100, target: 9100, targetName: 'metrics', protocol: 'TCP' },
  { name: 'dns', port: 53, target: 53, targetName: 'dns', protocol: 'UDP' },
  { name: 'dns-tcp', port: 53, target: 53, targetName: 'dns-tcp', protocol: 'TCP' },
  { name: 'redis', port: 6379, target: 6379, targetName: 'redis', protocol: 'TCP' },
  { name: 'postgres', port: 5432, target: 5432, targetName: 'postgres', protocol: 'TCP' },
  { name: 'amqp', port: 5672, target: 5672, targetName: 'amqp', protocol: 'TCP' },
  { name: 'statsd', port: 8125, target: 8125, targetName: 'statsd', protocol: 'UDP' },
  { name: 'sip', port: 5060, target: 5060, targetName: 'sip', protocol: 'SCTP' },
];

const NAMESPACE_WORDS = ['default', 'kube-system', 'monitoring', 'ingress-nginx', 'payments', 'checkout', 'search', 'identity'];
const SERVICE_WORDS = ['api', 'web', 'auth', 'cart', 'catalog', 'orders', 'users', 'cache', 'db', 'queue', 'gateway', 'worker', 'frontend', 'backend', 'metrics', 'dns'];
/** The EndpointSlice controller's generateName alphabet (no vowels, no look-alikes). */
const NAME_SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
/** The EndpointSlice controller's default --max-endpoints-per-slice. */
const MAX_ENDPOINTS_PER_SLICE = 100;

/** Five characters like the EndpointSlice controller's generateName suffix, built in one allocation. */
function nameSuffix(rand: () => number): string {
  const k = NAME_SUFFIX_CHARS.length;
  const c = (): number => NAME_SUFFIX_CHARS.charCodeAt(randInt(rand, k));
  return String.fromCharCode(c(), c(), c(), c(), c());
}

function zoneName(z: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return z < 26 ? `zone-${letters[z]}` : `zone-${letters[Math.floor(z / 26) - 1]}${letters[z % 26]}`;
}

interface PortSet {
  /** Frozen, nodePort 0: shared as-is by ClusterIP Services, copied for NodePort/LoadBalancer. */
  ports: ServicePort[];
  slicePorts: EndpointSlicePort[];
}

/**
 * Picks a Service's ports. Only a few thousand distinct port sets exist, so
 * they are built once and shared: at 10^5 Services that saves tens of MB and
 * much of the garbage-collection time. The hot path allocates nothing: the
 * choice is encoded into a number, 6 bits a port (template index, by-name bit),
 * plus a leading bit for "unnamed".
 */
function pickPorts(rand: () => number, count: number, cache: Map<number, PortSet>): PortSet {
  let key = 0;
  let used = 0;
  for (let k = 0; k < count; k++) {
    let t: number;
    do t = randInt(rand, PORT_TEMPLATES.length);
    while (used & (1 << t));
    used |= 1 << t;
    const byName = rand() < 0.2 ? 1 : 0;
    key = key * 64 + t * 2 + byName;
  }
  // A lone port is often left unnamed in real manifests.
  const unnamed = count === 1 && rand() < 0.3;
  key = (key + (unnamed ? 64 ** count : 0)) * 4 + count;
  let set = cache.get(key);
  if (set === undefined) {
    set = buildPortSet(key);
    cache.set(key, set);
  }
  return set;
}

function buildPortSet(key: number): PortSet {
  const count = key % 4;
  let rest = Math.floor(key / 4);
  const picks: { t: PortTemplate; byName: boolean }[] = [];
  for (let k = 0; k < count; k++) {
    const code = rest % 64;
    rest = Math.floor(rest / 64);
    picks.unshift({ t: PORT_TEMPLATES[code >> 1] ?? (PORT_TEMPLATES[0] as PortTemplate), byName: (code & 1) === 1 });
  }
  const unnamed = rest === 1;
  return {
    ports: frozen(
      picks.map(({ t, byName }) =>
        Object.freeze({ name: unnamed ? '' : t.name, protocol: t.protocol, port: t.port, targetPort: byName ? t.targetName : t.target, nodePort: 0 }),
      ),
    ),
    // Endpoint ports carry the resolved target number under the Service port's name.
    slicePorts: frozen(picks.map(({ t }) => Object.freeze({ name: unnamed ? '' : t.name, protocol: t.protocol, port: t.target }))),
  };
}

function generateRealistic(p: Plan, rand: () => number): ClusterModel {
  const n = p.opts.services;
  const epps = p.opts.endpointsPerService;
  const total = n * epps;
  const nodeCount = p.opts.nodes ?? Math.min(5000, Math.max(3, Math.ceil(total / 30)));
  const zoneCount = p.opts.zones ?? 3;
  const nsCount = p.opts.namespaces ?? Math.min(1000, Math.max(1, Math.ceil(n / 40)));

  const namespaces = Array.from({ length: nsCount }, (_, k) => NAMESPACE_WORDS[k] ?? `team-${k - NAMESPACE_WORDS.length + 1}`);
  const zones = Array.from({ length: zoneCount }, (_, z) => zoneName(z));
  const zoneHintLists = zones.map((z) => frozen([z]));
  // Node 0 is the node under test, so "local" endpoints exist at every size.
  const nodes = Array.from({ length: nodeCount }, (_, k) => (k === 0 ? p.nodeName : `node-${k}`));
  if (nodeCount > 1 && nodes.indexOf(p.nodeName, 1) > 0) fail(`nodeName ${JSON.stringify(p.nodeName)} clashes with a generated node name`);

  const types = assignTypes(p.counts, rand);
  const vip = affinePermutation(REAL_VIP_CAPACITY, rand);
  const podIP = affinePermutation(EP_CAPACITY, rand);
  const nodePort = affinePermutation(NODE_PORTS, rand);
  let nextPod = 0;
  let nextNodePort = 0;
  let nextLB = 0;
  let nextExternal = 0;
  const portSets = new Map<number, PortSet>();

  const services: Service[] = new Array<Service>(n);
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    const type = TYPES[types[i] ?? 0] ?? 'ClusterIP';
    const external = type !== 'ClusterIP';
    const namespace = namespaces[randInt(rand, nsCount)] ?? 'default';
    const name = `${SERVICE_WORDS[randInt(rand, SERVICE_WORDS.length)] ?? 'svc'}-${i}`;
    const r = rand();
    const portCount = external ? (r < 0.7 ? 1 : 2) : r < 0.6 ? 1 : r < 0.9 ? 2 : 3;
    const portSet = pickPorts(rand, portCount, portSets);
    const ports = external
      ? portSet.ports.map((sp) => ({ ...sp, nodePort: DEFAULT_NODE_PORT_RANGE.min + nodePort(nextNodePort++) }))
      : portSet.ports;
    // Decide everything first and build the object once: assigning fields
    // afterwards changes their tracked types, and V8 then throws away the
    // optimised loop, a measurable cost at 10^5 Services.
    const etpLocal = external && rand() < 0.3;
    let ingress = NONE;
    let ranges = NONE;
    let externalIPs = NONE;
    let healthCheckNodePort = 0;
    if (type === 'LoadBalancer') {
      ingress = [formatIPv4(REAL_LB_BASE + (nextLB++ % REAL_LB_CAPACITY))];
      const s = rand();
      ranges = s < 0.2 ? RANGES_ONE : s < 0.3 ? RANGES_TWO : NONE;
      // The API server allocates a health check port only for Local LoadBalancers.
      if (etpLocal) healthCheckNodePort = DEFAULT_NODE_PORT_RANGE.min + nodePort(nextNodePort++);
    } else if (rand() < 0.01) {
      externalIPs = [formatIPv4(REAL_EXTERNAL_BASE + (nextExternal++ % REAL_LB_CAPACITY))];
    }
    const clientIP = rand() < 0.05;
    const t = clientIP ? rand() : 0;
    const clusterIP = formatIPv4(REAL_VIP_BASE + vip(i));
    const svc: Service = {
      namespace,
      name,
      type,
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilies: IPV4_FAMILY,
      externalIPs,
      loadBalancerIngressIPs: ingress,
      loadBalancerSourceRanges: ranges,
      sessionAffinity: clientIP ? 'ClientIP' : 'None',
      sessionAffinityTimeoutSeconds: !clientIP || t < 0.7 ? 10800 : t < 0.9 ? 3600 : 600,
      externalTrafficPolicy: etpLocal ? 'Local' : 'Cluster',
      internalTrafficPolicy: rand() < 0.02 ? 'Local' : 'Cluster',
      healthCheckNodePort,
      ports,
    };
    services[i] = svc;

    const slicePorts = portSet.slicePorts;
    const hinted = rand() < 0.1; // topology-aware routing enabled
    // Slice names need only differ within the Service (the prefix is unique),
    // so the set exists only for Services with several slices.
    const sliceNames = epps > MAX_ENDPOINTS_PER_SLICE ? new Set<string>() : undefined;
    for (let first = 0; first < epps || (first === 0 && epps === 0); first += MAX_ENDPOINTS_PER_SLICE) {
      const size = Math.min(MAX_ENDPOINTS_PER_SLICE, epps - first);
      const endpoints: Endpoint[] = new Array<Endpoint>(size);
      for (let j = 0; j < size; j++) {
        const node = randInt(rand, nodeCount);
        const zone = node % zoneCount;
        const c = rand();
        const conditions = c < 0.01 ? TERMINATING_SERVING : c < 0.02 ? TERMINATING : c < 0.03 ? NOT_READY : READY;
        endpoints[j] = {
          addresses: [formatIPv4(SCALE_EP_BASE + podIP(nextPod++))],
          conditions,
          nodeName: nodes[node] ?? p.nodeName,
          zone: zones[zone] ?? '',
          zoneHints: hinted ? (zoneHintLists[zone] ?? NONE) : NONE,
        };
      }
      let sliceName = `${name}-${nameSuffix(rand)}`;
      if (sliceNames) {
        while (sliceNames.has(sliceName)) sliceName = `${name}-${nameSuffix(rand)}`;
        sliceNames.add(sliceName);
      }
      slices.push({ namespace, name: sliceName, serviceName: name, addressType: 'IPv4', ports: slicePorts, endpoints });
      if (epps === 0) break;
    }
  }
  return { services, endpointSlices: slices };
}

// ---------------------------------------------------------------------------
// Public API

/**
 * A deterministic synthetic cluster: the same options give an identical model.
 * Throws InputError, before allocating anything, when the size does not fit
 * the layout's address or port ranges.
 */
export function generateCluster(opts: GenerateOptions): ClusterModel {
  const p = plan(opts);
  const rand = mulberry32(opts.seed);
  switch (opts.layout) {
    case 'kube-proxy-scale':
      return generateScale(p, rand);
    case 'kube-proxy-nft-bench':
      return generateNftBench(p);
    case 'realistic':
      return generateRealistic(p, rand);
  }
}
