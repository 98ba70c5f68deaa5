// Real packets through a loaded dataplane: the client namespace opens new
// connections to Service VIPs, the node namespace's rules DNAT them, the
// backend namespace answers and counts which endpoint each one landed on.
//
// The packet work is native (native/traffic.cc, no JavaScript per packet);
// this module is the shell around it: starting and stopping the responder,
// preparing the namespaces (conntrack flushed so every measured flow is a
// conntrack miss, CPU pinning), warm-up, and the pure checks on what came
// back — every hit on an endpoint of the Service it was sent to, and the spread
// over a Service's endpoints tested against the intended distribution
// (chi-square goodness of fit, with its own regularized-gamma CDF).
//
// CPU pinning: on a host with two or more CPUs the generator thread runs on
// CPU 0 and the responder thread on CPU 1. veth delivery is processed in the
// sender's softirq, so the node's rule walk for a new flow is charged to the
// generator's CPU, inside the timed window; the responder's work (and the
// reply's conntrack hit) stays off it. With one CPU neither is pinned; the
// result says whether pinning took (a cpuset may refuse it).
import { availableParallelism } from 'node:os';
import { InputError } from '../errors.js';
import { formatIPv4, parseIPv4 } from '../model/ip.js';
import type { ClusterModel, Endpoint, EndpointSlice, Protocol, Service } from '../model/types.js';
import { check, errnoName, loadNative } from '../native/index.js';
import { FLOW_ANSWERED, FLOW_FAILED, FLOW_TIMEOUT } from '../native/traffic.js';
import type { NativeFlowResult, TrafficAddon } from '../native/traffic.js';
import { mulberry32 } from '../stats/summary.js';
import type { Sandbox } from './sandbox.js';

// ---------------------------------------------------------------------------
// Chi-square goodness of fit (pure)

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Γ(z) for z > 0 (Lanczos approximation, g = 7; ~15 significant digits). */
export function lnGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  const x = z - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). The power series
 * of P converges fast below x < a + 1; above it the continued fraction of Q does
 * (modified Lentz), so each side is computed where it is accurate.
 */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return Number.NaN;
  if (x === 0) return 1;
  const prefactor = Math.exp(-x + a * Math.log(x) - lnGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * prefactor);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, prefactor * h);
}

/** P(X ≥ statistic) for X ~ χ²(dof): the p-value of a goodness-of-fit test. */
export function chiSquarePValue(statistic: number, dof: number): number {
  if (dof <= 0) return 1;
  return gammaQ(dof / 2, Math.max(0, statistic) / 2);
}

export interface ChiSquareResult {
  statistic: number;
  dof: number;
  pValue: number;
  /** Observations in all bins. */
  n: number;
  /** Smallest expected count; below 5 the χ² approximation gets rough. */
  minExpected: number;
  /** p ≥ alpha: the spread is consistent with the intended distribution. */
  pass: boolean;
  alpha: number;
}

/**
 * Pearson's χ² of observed counts against the intended probabilities (uniform
 * when omitted): Σ (O − E)² / E over k bins, k − 1 degrees of freedom.
 */
export function chiSquareTest(observed: readonly number[], probabilities?: readonly number[], alpha = 0.01): ChiSquareResult {
  const k = observed.length;
  if (k === 0) throw new RangeError('chiSquareTest: no bins');
  const probs = probabilities ?? observed.map(() => 1 / k);
  if (probs.length !== k) throw new RangeError('chiSquareTest: observed and probabilities differ in length');
  const total = probs.reduce((s, p) => s + p, 0);
  if (!(Math.abs(total - 1) < 1e-6) || probs.some((p) => !(p > 0))) throw new RangeError('chiSquareTest: probabilities must be positive and sum to 1');
  const n = observed.reduce((s, o) => s + o, 0);
  let statistic = 0;
  let minExpected = Number.POSITIVE_INFINITY;
  for (let i = 0; i < k; i++) {
    const e = n * (probs[i] as number);
    minExpected = Math.min(minExpected, e);
    if (e > 0) statistic += ((observed[i] as number) - e) ** 2 / e;
  }
  const dof = k - 1;
  const pValue = n === 0 ? 1 : chiSquarePValue(statistic, dof);
  return { statistic, dof, pValue, n, minExpected, pass: pValue >= alpha, alpha };
}

// ---------------------------------------------------------------------------
// Targets and hit verification (pure)

/** One Service port a flow is sent to, with the endpoints it must land on. */
export interface FlowTarget {
  /** namespace/name of the Service. */
  service: string;
  ip: string;
  port: number;
  /** Addresses of the Service's ready endpoints, in the order the spread is reported. */
  endpoints: readonly string[];
}

export type Position = 'first' | 'middle' | 'last' | 'random';
export const POSITIONS: readonly Position[] = ['first', 'middle', 'last', 'random'];

function targetOf(svc: Service, slice: EndpointSlice | undefined): FlowTarget {
  const port = svc.ports[0];
  if (!port || !svc.clusterIP) throw new InputError(`Service ${svc.namespace}/${svc.name}`, 'has no ClusterIP port to send to');
  const endpoints = (slice?.endpoints ?? []).filter((e) => e.conditions.ready).flatMap((e) => e.addresses.slice(0, 1));
  return { service: `${svc.namespace}/${svc.name}`, ip: svc.clusterIP, port: port.port, endpoints };
}

/**
 * Targets for flows at one position in the model's Service order (the order
 * the renderers emit them in: KUBE-SERVICES for iptables): first, middle and
 * last are one Service each, every flow to it; random draws one Service per
 * flow, uniformly over all of them (seeded).
 */
export function targetsAt(model: ClusterModel, position: Position, count: number, seed: number): FlowTarget[] {
  const n = model.services.length;
  if (n === 0) throw new InputError('targets', 'the model has no Services');
  const slices = new Map(model.endpointSlices.map((s) => [`${s.namespace}/${s.serviceName}`, s]));
  const at = (i: number): FlowTarget => {
    const svc = model.services[i] as Service;
    return targetOf(svc, slices.get(`${svc.namespace}/${svc.name}`));
  };
  if (position === 'first') return [at(0)];
  if (position === 'middle') return [at(Math.floor(n / 2))];
  if (position === 'last') return [at(n - 1)];
  const rand = mulberry32(seed);
  const cache = new Map<number, FlowTarget>();
  return Array.from({ length: count }, () => {
    const i = Math.floor(rand() * n);
    let t = cache.get(i);
    if (!t) cache.set(i, (t = at(i)));
    return t;
  });
}

/**
 * The model a datapath measurement sends packets through: Service ports of the
 * wanted protocol, and every Service with endpoints of its own (the synthetic
 * layouts share one endpoint list between all Services, which would make "did
 * this flow land on the right Service" unanswerable). Service i gets
 * endpoints base + i·E … base + i·E + E − 1, so rule counts and shapes are
 * those of the original model.
 */
export function withDistinctEndpoints(model: ClusterModel, protocol: Protocol, base = '172.16.0.1'): ClusterModel {
  const first = parseIPv4(base);
  if (first === undefined) throw new InputError('endpoint base', `not an IPv4 address: ${base}`);
  const bySvc = new Map(model.endpointSlices.map((s) => [`${s.namespace}/${s.serviceName}`, s]));
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  let next = first;
  for (const svc of model.services) {
    services.push({ ...svc, ports: svc.ports.map((p) => ({ ...p, protocol })) });
    const slice = bySvc.get(`${svc.namespace}/${svc.name}`);
    if (!slice) continue;
    const endpoints: Endpoint[] = slice.endpoints.map((e) => ({ ...e, addresses: [formatIPv4(next++)] }));
    endpointSlices.push({ ...slice, ports: slice.ports.map((p) => ({ ...p, protocol })), endpoints });
  }
  // 172.16.0.0/12 is what the sandbox's backend namespace owns.
  if (next - 1 > (parseIPv4('172.31.255.254') ?? 0)) throw new InputError('datapath model', `${next - first} endpoints do not fit in 172.16.0.0/12`);
  return { services, endpointSlices };
}

export interface TargetHits {
  service: string;
  sent: number;
  answered: number;
  /** Requests the responder answered on this Service's endpoints. */
  hits: number;
  /** Hits per endpoint, in FlowTarget.endpoints order. */
  perEndpoint: number[];
}

export interface HitCheck {
  ok: boolean;
  perService: TargetHits[];
  /** Hits on addresses that are no endpoint of any targeted Service. */
  misrouted: number;
  problems: string[];
}

/**
 * Every flow must have landed on an endpoint of the Service it was sent to.
 * With distinct endpoints per Service, a Service's hits lie between its
 * answered flows (each answer proves one hit) and its sent flows (each flow is
 * one datagram or one request); anything on other addresses is misrouted.
 */
export function verifyHits(targets: readonly FlowTarget[], outcome: ArrayLike<number>, hits: ReadonlyMap<string, number>): HitCheck {
  const problems: string[] = [];
  const owner = new Map<string, { t: TargetHits; index: number }>();
  const byService = new Map<string, TargetHits>();
  for (const t of targets) {
    if (byService.has(t.service)) continue;
    const th: TargetHits = { service: t.service, sent: 0, answered: 0, hits: 0, perEndpoint: t.endpoints.map(() => 0) };
    byService.set(t.service, th);
    t.endpoints.forEach((addr, index) => {
      const prev = owner.get(addr);
      if (prev && prev.t.service !== t.service) throw new InputError('hit verification', `endpoint ${addr} belongs to both ${prev.t.service} and ${t.service}; hits cannot be attributed`);
      owner.set(addr, { t: th, index });
    });
  }
  for (let i = 0; i < outcome.length; i++) {
    const th = byService.get((targets[i % targets.length] as FlowTarget).service) as TargetHits;
    th.sent++;
    if (outcome[i] === FLOW_ANSWERED) th.answered++;
  }
  let misrouted = 0;
  for (const [addr, count] of hits) {
    const o = owner.get(addr);
    if (!o) {
      misrouted += count;
      continue;
    }
    o.t.hits += count;
    o.t.perEndpoint[o.index] = (o.t.perEndpoint[o.index] ?? 0) + count;
  }
  if (misrouted > 0) problems.push(`${misrouted} request(s) answered on addresses that are no endpoint of a targeted Service`);
  for (const th of byService.values()) {
    if (th.hits < th.answered) problems.push(`${th.service}: ${th.answered} answered but only ${th.hits} hit its endpoints`);
    if (th.hits > th.sent) problems.push(`${th.service}: ${th.hits} hits on its endpoints for ${th.sent} flows sent`);
  }
  return { ok: problems.length === 0, perService: [...byService.values()], misrouted, problems };
}

/**
 * Hits pooled by endpoint position across the targeted Services (endpoint j of
 * every Service in one bin), for one χ² over the selection. Every targeted
 * Service must have the same number of endpoints.
 */
export function pooledSpread(check: HitCheck): number[] {
  const first = check.perService[0];
  if (!first) return [];
  const k = first.perEndpoint.length;
  const bins = new Array<number>(k).fill(0);
  for (const th of check.perService) {
    if (th.perEndpoint.length !== k) throw new InputError('spread', `${th.service} has ${th.perEndpoint.length} endpoints, ${first.service} ${k}; pool only equal-sized Services`);
    th.perEndpoint.forEach((c, j) => (bins[j] = (bins[j] ?? 0) + c));
  }
  return bins;
}

// ---------------------------------------------------------------------------
// Shell: responder, generators, namespaces

function addon(): TrafficAddon {
  const n = loadNative();
  if (!n.ok) throw new Error(n.reason);
  // NativeAddon does not declare the traffic functions yet; they are in src/native/traffic.ts.
  return n.addon as unknown as TrafficAddon;
}

/** Generator on CPU 0, responder on CPU 1 when there are two CPUs; unpinned (-1) otherwise. */
export function pinningPlan(cpus: number): { generator: number; responder: number } {
  return cpus >= 2 ? { generator: 0, responder: 1 } : { generator: -1, responder: -1 };
}

export interface Responder {
  /** Answered requests per destination address (the endpoint the flow was DNATed to). */
  hits(): Map<string, number>;
  /** Totals since the start or the last reset. */
  totals(): { udp: number; tcp: number; errors: number; pinned: boolean };
  reset(): void;
  stop(): void;
}

/** Start the native responder in the sandbox's backend namespace on 0.0.0.0:<port> for each port. */
export function startResponder(sandbox: Pick<Sandbox, 'backend'>, ports: { udp?: readonly number[]; tcp?: readonly number[] }, cpu = pinningPlan(availableParallelism()).responder): Responder {
  const a = addon();
  const handle = check(`traffic responder in ${sandbox.backend.name}`, a.trafficResponderStart(sandbox.backend.path, [...(ports.udp ?? [])], [...(ports.tcp ?? [])], cpu));
  let stopped = false;
  const read = () => check('traffic responder hits', a.trafficResponderHits(handle));
  return {
    hits() {
      const h = read();
      const out = new Map<string, number>();
      h.addrs.forEach((addr, i) => out.set(formatIPv4(addr), h.counts[i] as number));
      return out;
    },
    totals() {
      const { udp, tcp, errors, pinned } = read();
      return { udp, tcp, errors, pinned };
    },
    reset() {
      check('traffic responder reset', a.trafficResponderReset(handle));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      check('traffic responder stop', a.trafficResponderStop(handle));
    },
  };
}

/** Empty the node namespace's connection-tracking table, so the next flows are all conntrack misses. */
export async function flushConntrack(sandbox: Pick<Sandbox, 'node' | 'exec'>): Promise<void> {
  const r = await sandbox.exec(sandbox.node, 'conntrack', ['-F'], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`conntrack -F in ${sandbox.node.name} exited ${r.code}: ${r.stderr.trim()}`);
}

/**
 * Empties the node's conntrack table and reads its drop counter right after,
 * in one command: every round of a datapath point does this, and each
 * `ip netns exec` costs about 5 ms on the 2-vCPU VM (four of them were 19 of
 * a round's 23 ms, its 50 flows under 1 ms). The drop counter as
 * conntrackDrops reads it (0 when it cannot be read).
 */
export async function flushConntrackReadDrops(sandbox: Pick<Sandbox, 'node' | 'exec'>): Promise<number> {
  const r = await sandbox.exec(sandbox.node, 'sh', ['-c', `conntrack -F >&2 || exit ${FLUSH_FAILED}; cat /proc/net/stat/nf_conntrack 2>/dev/null || true`], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`conntrack -F in ${sandbox.node.name} failed${r.code === FLUSH_FAILED ? '' : ` (exit ${r.code})`}: ${r.stderr.trim()}`);
  return conntrackStatColumn(r.stdout, 'drop');
}

/** flushConntrackReadDrops' exit status when conntrack -F failed (not one conntrack or sh uses). */
const FLUSH_FAILED = 101;

/** Packets the node's conntrack dropped so far (table full, nothing to evict): /proc/net/stat/nf_conntrack's `drop`, summed over CPUs. */
export async function conntrackDrops(sandbox: Pick<Sandbox, 'node' | 'exec'>): Promise<number> {
  // A diagnostic: a namespace that cannot be read (gone, no conntrack yet) counts as no drops, never as the run's error.
  const r = await sandbox.exec(sandbox.node, 'cat', ['/proc/net/stat/nf_conntrack'], { timeoutMs: 10_000 }).catch(() => undefined);
  return r?.code === 0 ? conntrackStatColumn(r.stdout, 'drop') : 0;
}

/** One column of /proc/net/stat/nf_conntrack (a header line, then one line of hex counters per CPU), summed. */
export function conntrackStatColumn(text: string, column: string): number {
  const [header, ...cpus] = text.trim().split('\n');
  const at = header?.trim().split(/\s+/).indexOf(column) ?? -1;
  if (at < 0) return 0;
  return cpus.reduce((sum, line) => sum + (Number.parseInt(line.trim().split(/\s+/)[at] ?? '0', 16) || 0), 0);
}

const preparedClients = new WeakSet<object>();

/**
 * The client namespace hands out ephemeral TCP ports from a wide range and may
 * reuse its own TIME_WAIT ports, so long CRR loops do not run out of ports.
 */
async function prepareClient(sandbox: Pick<Sandbox, 'client' | 'exec'>): Promise<void> {
  if (preparedClients.has(sandbox)) return;
  const r = await sandbox.exec(sandbox.client, 'sysctl', ['-q', '-w', 'net.ipv4.ip_local_port_range=10000 65000', '-w', 'net.ipv4.tcp_tw_reuse=1'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`sysctl in ${sandbox.client.name} exited ${r.code}: ${r.stderr.trim()}`);
  preparedClients.add(sandbox);
}

export interface FlowOptions {
  /** Measured flows. */
  count: number;
  /** Flows sent first and discarded (caches, first-use allocations); default min(100, count). */
  warmup?: number;
  /** Deadline of each flow; default 1000 ms. */
  timeoutMs?: number;
  /** Flows in flight at once; default 1 (each flow's latency is its own). */
  window?: number;
  /** Flush the node's conntrack table before the warm-up and again before the measured flows; default true. */
  flushConntrack?: boolean;
  /** Reset this responder's hit table after the warm-up, so it counts the measured flows only. */
  responder?: Responder;
  /** CPU for the generator thread; default from pinningPlan. */
  cpu?: number;
  /** Busy-poll for answers; default true (the responder also spins while flows arrive). */
  spin?: boolean;
  /**
   * UDP: first packets of this many flows leave in one sendmmsg (raw socket, a
   * fresh source port per flow), each flow timed from the start of that call;
   * default 1 (one flow at a time). TCP accepts only 1.
   */
  batch?: number;
}

export interface FlowRun {
  proto: 'udp' | 'tcp';
  /** Per measured flow: FLOW_ANSWERED / FLOW_TIMEOUT / FLOW_FAILED; flow i went to targets[i % targets.length]. */
  outcome: Uint8Array;
  /** Latency of the answered flows in flow order, µs. */
  latencyUs: number[];
  sent: number;
  answered: number;
  timeouts: number;
  errors: number;
  /** errno name of the first failed flow, when one failed; else, when the node's conntrack dropped packets, that it was full. */
  firstError?: string;
  /** Packets the node's conntrack dropped during the measured flows (its table was full). */
  conntrackDrops?: number;
  /** (timeouts + errors) / sent. */
  loss: number;
  wallMs: number;
  /** Answered flows per second of wall time. */
  ratePerSec: number;
  warmup: number;
  pinned: boolean;
  /** Flows per sendmmsg (1 = one flow at a time). */
  batch: number;
  /** Batch mode: first packets sent per second of time inside sendmmsg (the node's rule work for them runs there too). */
  sendRatePerSec?: number;
  /** Completion-to-completion intervals of the answered flows, µs (one flow at a time: one whole connection cycle each). */
  cycleUs: number[];
}

/**
 * Gaps between consecutive answers, in completion order: with one flow at a
 * time, each gap is one whole connection (set-up, first packet to answer,
 * close) — the quantity a client like wrk, which sees no connect timing,
 * measures too. Flows that were not answered end no gap; a gap spanning one
 * is still one answered flow's cycle plus the lost one, so it is kept.
 */
export function completionIntervalsUs(startNs: ArrayLike<number>, latencyNs: ArrayLike<number>, outcome: ArrayLike<number>): number[] {
  const done: number[] = [];
  for (let i = 0; i < outcome.length; i++) if (outcome[i] === FLOW_ANSWERED) done.push((startNs[i] as number) + (latencyNs[i] as number));
  done.sort((a, b) => a - b);
  const out: number[] = [];
  for (let i = 1; i < done.length; i++) out.push(((done[i] as number) - (done[i - 1] as number)) / 1000);
  return out;
}

/**
 * Runs to the same targets one after the other (rounds of one point) as one
 * run: outcomes concatenated in run order, so flow i of the whole still went
 * to the i-th target of the runs' target lists concatenated.
 */
export function mergeRuns(runs: readonly FlowRun[]): FlowRun {
  const first = runs[0];
  if (!first) throw new RangeError('mergeRuns: no runs');
  const outcome = new Uint8Array(runs.reduce((n, r) => n + r.outcome.length, 0));
  let at = 0;
  for (const r of runs) {
    outcome.set(r.outcome, at);
    at += r.outcome.length;
  }
  const sum = (f: (r: FlowRun) => number): number => runs.reduce((n, r) => n + f(r), 0);
  const answered = sum((r) => r.answered);
  const sent = sum((r) => r.sent);
  const wallMs = sum((r) => r.wallMs);
  const firstError = runs.find((r) => r.firstError)?.firstError;
  const sendRates = runs.map((r) => r.sendRatePerSec).filter((x): x is number => x !== undefined);
  return {
    proto: first.proto,
    outcome,
    latencyUs: runs.flatMap((r) => r.latencyUs),
    sent,
    answered,
    timeouts: sum((r) => r.timeouts),
    errors: sum((r) => r.errors),
    ...(firstError ? { firstError } : {}),
    loss: sent > 0 ? sum((r) => r.timeouts + r.errors) / sent : 0,
    wallMs,
    ratePerSec: wallMs > 0 ? answered / (wallMs / 1000) : 0,
    warmup: sum((r) => r.warmup),
    pinned: runs.every((r) => r.pinned),
    batch: first.batch,
    ...(sendRates.length > 0 ? { sendRatePerSec: sendRates.reduce((a, b) => a + b, 0) / sendRates.length } : {}),
    cycleUs: runs.flatMap((r) => r.cycleUs),
  };
}

/** Source ports of UDP flows count up from here (below it the client namespace has nothing bound). */
const UDP_PORT_BASE = 10_000;
const UDP_MAX_FLOWS = 65_535 - UDP_PORT_BASE;
/** Largest sendmmsg batch (the addon's limit). */
export const MAX_BATCH = 1024;

function nativeTargets(targets: readonly FlowTarget[]): { ips: Uint32Array; ports: Uint16Array } {
  const ips = new Uint32Array(targets.length);
  const ports = new Uint16Array(targets.length);
  targets.forEach((t, i) => {
    const ip = parseIPv4(t.ip);
    if (ip === undefined || !Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw new InputError('flow target', `${t.ip}:${t.port} is not an IPv4 address and port`);
    ips[i] = ip;
    ports[i] = t.port;
  });
  return { ips, ports };
}

/** One native run; warm-up and measured runs both go through here. */
async function nativeRun(sandbox: Pick<Sandbox, 'client'>, proto: 'udp' | 'tcp', t: { ips: Uint32Array; ports: Uint16Array }, count: number, o: FlowOptions): Promise<NativeFlowResult> {
  const a = addon();
  const opts = {
    netns: sandbox.client.path,
    ...t,
    count,
    timeoutMs: o.timeoutMs ?? 1000,
    window: o.window ?? 1,
    cpu: o.cpu ?? pinningPlan(availableParallelism()).generator,
    portBase: proto === 'udp' ? UDP_PORT_BASE : 0,
    spin: o.spin ?? true,
    batch: o.batch ?? 1,
  };
  const op = proto === 'udp' ? 'UDP flows' : 'TCP CRR';
  const pending = check(op, proto === 'udp' ? a.trafficUdpFlows(opts) : a.trafficTcpCrr(opts));
  return check(`${op} from ${sandbox.client.name}`, await pending);
}

async function runFlows(sandbox: Pick<Sandbox, 'client' | 'node' | 'exec'>, proto: 'udp' | 'tcp', targets: readonly FlowTarget[], o: FlowOptions): Promise<FlowRun> {
  if (targets.length === 0) throw new InputError('flows', 'no targets');
  if (!Number.isInteger(o.count) || o.count < 1) throw new InputError('flows', `count must be a positive integer, got ${o.count}`);
  const batch = o.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH) throw new InputError('flows', `batch must be an integer from 1 to ${MAX_BATCH}, got ${batch}`);
  if (proto === 'tcp' && batch !== 1) throw new InputError('flows', 'batched first packets (sendmmsg) are for UDP new flows only; TCP CRR runs one handshake per connection');
  if (proto === 'udp' && o.count > UDP_MAX_FLOWS) throw new InputError('flows', `at most ${UDP_MAX_FLOWS} UDP flows per run (one fresh source port each), got ${o.count}`);
  const warmup = Math.min(o.warmup ?? Math.min(100, o.count), proto === 'udp' ? UDP_MAX_FLOWS : Number.MAX_SAFE_INTEGER);
  const t = nativeTargets(targets);
  if (proto === 'tcp') await prepareClient(sandbox);
  const flush = o.flushConntrack ?? true;
  // What the warm-up leaves in the table, the flush before the measured flows empties.
  if (warmup > 0) await nativeRun(sandbox, proto, t, warmup, o);
  const dropsBefore = flush ? await flushConntrackReadDrops(sandbox) : await conntrackDrops(sandbox);
  o.responder?.reset();
  const r = await nativeRun(sandbox, proto, t, o.count, o);
  // A full table drops first packets silently (they time out): say so, or the loss looks like the dataplane's.
  const ctDrops = (await conntrackDrops(sandbox)) - dropsBefore;
  const ctFull = ctDrops > 0 ? `nf_conntrack table full in ${sandbox.node.name} (${ctDrops} packets dropped)` : undefined;
  const latencyUs: number[] = [];
  for (let i = 0; i < r.outcome.length; i++) if (r.outcome[i] === FLOW_ANSWERED) latencyUs.push((r.latencyNs[i] as number) / 1000);
  const wallMs = r.wallNs / 1e6;
  return {
    proto,
    outcome: r.outcome,
    latencyUs,
    sent: o.count,
    answered: latencyUs.length,
    timeouts: r.timeouts,
    errors: r.errors,
    ...(r.firstErrno !== 0 ? { firstError: errnoName(r.firstErrno) } : ctFull ? { firstError: ctFull } : {}),
    ...(ctDrops > 0 ? { conntrackDrops: ctDrops } : {}),
    loss: (r.timeouts + r.errors) / o.count,
    wallMs,
    ratePerSec: wallMs > 0 ? latencyUs.length / (wallMs / 1000) : 0,
    warmup,
    pinned: r.pinned,
    batch,
    ...(r.batches > 0 && r.sendNs > 0 ? { sendRatePerSec: r.startNs.filter(Number.isFinite).length / (r.sendNs / 1e9) } : {}),
    cycleUs: completionIntervalsUs(r.startNs, r.latencyNs, r.outcome),
  };
}

/** UDP new flows: each flow one datagram from a fresh source port to its target, timed to the echo. */
export function runUdpFlows(sandbox: Pick<Sandbox, 'client' | 'node' | 'exec'>, targets: readonly FlowTarget[], o: FlowOptions): Promise<FlowRun> {
  return runFlows(sandbox, 'udp', targets, o);
}

/** TCP connect–request–response–close: each connection timed from connect() to the one-byte answer. */
export function runTcpCrr(sandbox: Pick<Sandbox, 'client' | 'node' | 'exec'>, targets: readonly FlowTarget[], o: FlowOptions): Promise<FlowRun> {
  return runFlows(sandbox, 'tcp', targets, o);
}

export { FLOW_ANSWERED, FLOW_FAILED, FLOW_TIMEOUT };
