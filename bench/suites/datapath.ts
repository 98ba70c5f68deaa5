// What one new connection costs through each dataplane, with real packets:
// for every backend and Service count, the rules are loaded into a fresh
// sandbox's node namespace, and new UDP flows (and TCP connect–request–close,
// where the profile asks) go from the client namespace to a Service VIP at the
// first, middle, last or a random position in the rule order. Every flow is a
// conntrack miss (fresh source port, table flushed per point, warm-up
// discarded), every hit is checked to have landed on an endpoint of the right
// Service, and the spread over endpoints is χ²-tested against uniform. Per
// backend and position the drift-corrected medians are fitted to cost = a +
// b·Services, and a backend is called O(1) only when b is indistinguishable
// from zero (costFit).
// A baseline with no rules at all (client straight to an endpoint address) is
// measured in the same run, so the generator's own cost is known.
//
// Repeatability: a point's flows are split into rounds, and every round of
// every point is paired with a baseline round run right before it in a
// no-rules sandbox kept for the whole sweep. The machine's slow drift (other
// load, frequency) moves both halves of a pair alike, so besides the pooled
// latency each point reports the median over its rounds of point − baseline
// (overBaselineMedianUs) and point / baseline (baselineRatio).
//
// Cross-check (profiles that ask for it, or `kscale dataplane connect
// --cross-check`): wrk with `Connection: close` against kscale's TCP CRR
// through one VIP of the first available backend (nftables preferred) at the
// smallest Service count; see src/dataplane/crosscheck.ts.
import type { ProfileName, Suite, SuiteContext } from '../../src/bench/types.js';
import type { DataplaneBackend } from '../../src/dataplane/backend.js';
import { BACKENDS } from '../../src/dataplane/backends.js';
import { ENDPOINT_CIDR, sandboxNode } from '../../src/dataplane/measure-sync.js';
import { createSandbox } from '../../src/dataplane/sandbox.js';
import type { Sandbox } from '../../src/dataplane/sandbox.js';
import {
  chiSquareTest, mergeRuns, pooledSpread, POSITIONS, runTcpCrr, runUdpFlows, startResponder, targetsAt, verifyHits, withDistinctEndpoints,
} from '../../src/dataplane/traffic.js';
import { crossCheckTcpCrr, wrkMissing } from '../../src/dataplane/crosscheck.js';
import type { FlowRun, FlowTarget, Position, Responder } from '../../src/dataplane/traffic.js';
import { generateCluster } from '../../src/model/index.js';
import type { Measurement, ParamValue } from '../../src/results/types.js';
import { bootstrapSlopeCI, fitTheilSen, slopeIsZero } from '../../src/stats/fit.js';
import { median, mulberry32, summarize } from '../../src/stats/summary.js';

export const DATAPATH_SUITE = 'datapath';

type Proto = 'udp' | 'tcp';

interface DatapathSizes {
  services: number[];
  endpoints: number;
  /** Measured flows per point (backend × Services × position × proto). */
  flows: number;
  warmup: number;
  protos: Proto[];
  /** Deadline of one flow. */
  timeoutMs: number;
  /** Longest one rule load may take. */
  toolBudgetMs: number;
  /** Rounds each point's flows are split into, each paired with a baseline round. */
  rounds: number;
  /** Run the wrk cross-check (skipped with its reason when wrk is missing). */
  crossCheck: boolean;
  /** UDP flows per sendmmsg; 1 (default) = one flow at a time. */
  batch?: number;
}

export const DATAPATH_SIZES: Record<ProfileName, DatapathSizes> = {
  smoke: { services: [100, 500, 1000], endpoints: 4, flows: 200, warmup: 50, protos: ['udp'], timeoutMs: 1000, toolBudgetMs: 60_000, rounds: 2, crossCheck: false },
  // TCP needs the rules rendered for TCP, so a second load per size: only the full profile pays for it.
  // 100 short rounds of 50 flows, each next to a baseline round: this VM's own speed drifts by up to 30% within
  // minutes, and the per-round ratio to the interleaved baseline moved between three runs of 18 points
  // (npm run repeatability:datapath) a median 1.8%, 2.0% and 1.8% (worst 3.8%, 5.7% and 3.0%) with 100 rounds, against
  // 2.1-3.9% (worst 7.4-10.5%) with 20 and 5.9% (worst 18.5%) with 5. A round costs about 19 ms, mostly the
  // two `ip netns exec` of its conntrack flush and drop counter, its flows under 1 ms.
  quick: { services: [100, 1000, 2000], endpoints: 4, flows: 5000, warmup: 100, protos: ['udp'], timeoutMs: 1000, toolBudgetMs: 60_000, rounds: 100, crossCheck: true },
  full: { services: [100, 1000, 5000, 10_000, 25_000, 50_000], endpoints: 10, flows: 5000, warmup: 200, protos: ['udp', 'tcp'], timeoutMs: 2000, toolBudgetMs: 600_000, rounds: 100, crossCheck: true },
  ci: { services: [100, 1000], endpoints: 4, flows: 1000, warmup: 100, protos: ['udp'], timeoutMs: 1000, toolBudgetMs: 60_000, rounds: 5, crossCheck: false },
};

/** The responder answers on the synthetic layout's target port. */
const TARGET_PORT = 8080;
/** Below this p-value the spread over endpoints is reported as not uniform. */
const CHI_SQUARE_ALPHA = 0.01;

export interface DatapathSweepOptions extends DatapathSizes {
  backends: readonly DataplaneBackend<unknown>[];
  positions?: readonly Position[];
  ctx: Pick<SuiteContext, 'caps' | 'prefix' | 'seed' | 'progress' | 'record'>;
}

function steps(o: Pick<DatapathSweepOptions, 'backends' | 'services' | 'protos' | 'crossCheck'>): number {
  return 1 + o.backends.length * o.services.length * o.protos.length + (o.crossCheck ? 1 : 0);
}

/** One round of a point and the baseline round run right before it: medians, µs. */
interface RoundPair {
  pointUs: number;
  baseUs: number;
}

/** The pairs where both the point and its baseline round were answered. */
function answeredPairs(pairs: readonly RoundPair[]): RoundPair[] {
  return pairs.filter((p) => Number.isFinite(p.pointUs) && Number.isFinite(p.baseUs) && p.baseUs > 0);
}

function pairExtra(pairs: readonly RoundPair[]): Record<string, ParamValue | number[]> {
  const ok = answeredPairs(pairs);
  if (ok.length === 0) return {};
  return {
    rounds: ok.length,
    roundMediansUs: ok.map((p) => p.pointUs),
    roundBaselineMediansUs: ok.map((p) => p.baseUs),
    baselineMedianUs: median(ok.map((p) => p.baseUs)),
    overBaselineMedianUs: median(ok.map((p) => p.pointUs - p.baseUs)),
    baselineRatio: median(ok.map((p) => p.pointUs / p.baseUs)),
  };
}

function measurementOf(params: Record<string, ParamValue>, run: FlowRun, targets: readonly FlowTarget[], hitTable: ReadonlyMap<string, number>, responderPinned: boolean, pairs: readonly RoundPair[]): Measurement {
  const hits = verifyHits(targets, run.outcome, hitTable);
  const spread = pooledSpread(hits);
  const chi = spread.length > 1 ? chiSquareTest(spread, undefined, CHI_SQUARE_ALPHA) : undefined;
  const base: Measurement = { suite: DATAPATH_SUITE, name: 'new-connection', unit: 'µs', params, status: 'ok' };
  const extra = {
    hitsVerified: hits.ok,
    ...(hits.ok ? {} : { hitProblems: hits.problems.slice(0, 5) }),
    spread,
    ...(chi ? { chiSquare: { statistic: chi.statistic, dof: chi.dof, pValue: chi.pValue, uniform: chi.pass, alpha: chi.alpha, minExpected: chi.minExpected } } : {}),
    sent: run.sent,
    answered: run.answered,
    timeouts: run.timeouts,
    errors: run.errors,
    ...(run.firstError ? { firstError: run.firstError } : {}),
    loss: run.loss,
    ratePerSec: run.ratePerSec,
    ...(run.batch > 1 ? { batch: run.batch, ...(run.sendRatePerSec !== undefined ? { sendRatePerSec: run.sendRatePerSec } : {}) } : {}),
    warmupDiscarded: run.warmup,
    generatorPinned: run.pinned,
    responderPinned,
    distinctServices: hits.perService.length,
    ...(run.latencyUs.length > 0 ? pairExtra(pairs) : {}),
  };
  if (run.latencyUs.length === 0) return { ...base, status: 'failed', reason: `no flow answered (${run.timeouts} timed out, ${run.errors} failed${run.firstError ? `, first error ${run.firstError}` : ''})`, extra };
  const m: Measurement = { ...base, samples: run.latencyUs, summary: summarize(run.latencyUs), extra };
  // A flow on the wrong Service means the dataplane is wrong; its latency is not the one asked about.
  return hits.ok ? m : { ...m, status: 'failed', reason: `hit verification: ${hits.problems[0] ?? ''}` };
}

/** Flows of one round: its share of the point's flows, after a fixed warm-up of its own (conntrack flushed before both). */
function roundFlows(proto: Proto, sandbox: Sandbox, targets: readonly FlowTarget[], o: DatapathSizes, responder: Responder, count: number): Promise<FlowRun> {
  const opts = { count, warmup: Math.max(20, Math.ceil(o.warmup / o.rounds)), timeoutMs: o.timeoutMs, responder, batch: proto === 'udp' ? o.batch ?? 1 : 1 };
  return proto === 'udp' ? runUdpFlows(sandbox, targets, opts) : runTcpCrr(sandbox, targets, opts);
}

/** Flows per round: the point's flows split evenly, the last round taking the rest. */
export function roundCounts(flows: number, rounds: number): number[] {
  const r = Math.max(1, Math.min(rounds, flows));
  const each = Math.floor(flows / r);
  return Array.from({ length: r }, (_, i) => (i === r - 1 ? flows - each * (r - 1) : each));
}

/** The generator's own cost: client straight to an endpoint address in a sandbox with no rules, kept for the whole sweep. */
interface BaselineBench {
  /** One baseline round; its median, µs (NaN when nothing was answered). */
  round(proto: Proto, count: number): Promise<number>;
  /** The generator-baseline measurements, every round pooled. */
  measurements(): Measurement[];
  close(): Promise<void>;
}

async function openBaseline(o: DatapathSweepOptions): Promise<BaselineBench> {
  const sandbox = await createSandbox({ prefix: o.ctx.prefix, label: 'dp-base', endpointCidrs: [ENDPOINT_CIDR] });
  let responder: Responder;
  try {
    responder = startResponder(sandbox, { udp: [TARGET_PORT], tcp: [TARGET_PORT] });
  } catch (err) {
    await sandbox.destroy();
    throw err;
  }
  const target: FlowTarget = { service: 'none/direct', ip: '172.16.0.1', port: TARGET_PORT, endpoints: ['172.16.0.1'] };
  const runs = new Map<Proto, { runs: FlowRun[]; hits: Map<string, number> }>();
  return {
    async round(proto, count) {
      const run = await roundFlows(proto, sandbox, [target], o, responder, count);
      const acc = runs.get(proto) ?? { runs: [], hits: new Map<string, number>() };
      acc.runs.push(run);
      for (const [a, n] of responder.hits()) acc.hits.set(a, (acc.hits.get(a) ?? 0) + n);
      runs.set(proto, acc);
      return run.latencyUs.length > 0 ? median(run.latencyUs) : Number.NaN;
    },
    measurements() {
      return [...runs].map(([proto, acc]) => ({ ...measurementOf({ backend: 'none', proto }, mergeRuns(acc.runs), [target], acc.hits, responder.totals().pinned, []), name: 'generator-baseline' }));
    },
    async close() {
      responder.stop();
      await sandbox.destroy();
    },
  };
}

interface Point {
  services: number;
  medianUs: number;
  /** Its rounds, each with the baseline round run right before it (none: no baseline, the fit uses medianUs). */
  pairs?: readonly RoundPair[];
}

/**
 * One backend at one size and protocol: load, then rounds; in each round a
 * baseline round and then every position's share of flows. False when the
 * load ran out of the tool budget.
 */
async function measureSize(backend: DataplaneBackend<unknown>, services: number, proto: Proto, o: DatapathSweepOptions, bench: BaselineBench | undefined, points: Map<string, Point[]>): Promise<boolean> {
  const positions = o.positions ?? POSITIONS;
  const params = (position: Position): Record<string, ParamValue> => ({ backend: backend.name, services, endpoints: o.endpoints, position, proto, ...(proto === 'udp' && (o.batch ?? 1) > 1 ? { batch: o.batch ?? 1 } : {}) });
  const model = withDistinctEndpoints(generateCluster({ services, endpointsPerService: o.endpoints, layout: 'kube-proxy-scale', seed: o.ctx.seed }), proto === 'udp' ? 'UDP' : 'TCP');
  const sandbox = await createSandbox({ prefix: o.ctx.prefix, label: `dp-${backend.name}-${services}-${proto}`, endpointCidrs: [ENDPOINT_CIDR], toolTimeoutMs: o.toolBudgetMs });
  let responder: Responder | undefined;
  const done = new Set<Position>();
  try {
    const load = await backend.load(sandbox, backend.render(model, sandboxNode(sandbox)));
    responder = startResponder(sandbox, { [proto]: [TARGET_PORT] });
    const counts = roundCounts(o.flows, o.rounds);
    const all = new Map(positions.map((p) => [p, targetsAt(model, p, o.flows, o.ctx.seed)]));
    const acc = new Map(positions.map((p) => [p, { runs: [] as FlowRun[], targets: [] as FlowTarget[], hits: new Map<string, number>(), pairs: [] as RoundPair[] }]));
    let offset = 0;
    for (const count of counts) {
      const baseUs = bench ? await bench.round(proto, count) : Number.NaN;
      for (const position of positions) {
        const full = all.get(position) as FlowTarget[];
        // Random draws one target per flow: each round takes its slice, so the rounds together send the point's draw.
        const targets = full.length === 1 ? full : full.slice(offset, offset + count);
        const run = await roundFlows(proto, sandbox, targets, o, responder, count);
        const a = acc.get(position) as { runs: FlowRun[]; targets: FlowTarget[]; hits: Map<string, number>; pairs: RoundPair[] };
        a.runs.push(run);
        if (full.length !== 1) a.targets.push(...targets);
        for (const [addr, n] of responder.hits()) a.hits.set(addr, (a.hits.get(addr) ?? 0) + n);
        a.pairs.push({ pointUs: run.latencyUs.length > 0 ? median(run.latencyUs) : Number.NaN, baseUs });
      }
      offset += count;
    }
    for (const position of positions) {
      const a = acc.get(position) as { runs: FlowRun[]; targets: FlowTarget[]; hits: Map<string, number>; pairs: RoundPair[] };
      const full = all.get(position) as FlowTarget[];
      const m = measurementOf(params(position), mergeRuns(a.runs), full.length === 1 ? full : a.targets, a.hits, responder.totals().pinned, a.pairs);
      o.ctx.record({ ...m, extra: { ...m.extra, loadWallMs: load.wallMs } });
      done.add(position);
      if (m.status === 'ok' && m.summary) {
        const key = `${backend.name}|${position}|${proto}`;
        points.set(key, [...(points.get(key) ?? []), { services, medianUs: m.summary.median, pairs: a.pairs }]);
      }
    }
  } catch (err) {
    const reason = (err as Error).message;
    for (const position of positions) {
      if (!done.has(position)) o.ctx.record({ suite: DATAPATH_SUITE, name: 'new-connection', unit: 'µs', params: params(position), status: 'failed', reason });
    }
    return !/killed after \d+ ms/.test(reason);
  } finally {
    responder?.stop();
    await sandbox.destroy();
  }
  return true;
}

/** Backends the cross-check prefers, in order: an O(n) walk makes the last Service measurably dearer than the first. */
const CROSS_CHECK_BACKENDS = ['iptables-legacy', 'iptables-nft', 'nftables'];
/**
 * Services the cross-check loads, whatever the profile's sweep: the walk to the
 * last of them (about 40 µs through iptables-legacy) must stand well clear of
 * wrk's cycle-to-cycle noise (at 2,000 Services the two tools' differences were
 * 10 and 3 µs). iptables-legacy restores 5,000 Services in a few seconds.
 */
const CROSS_CHECK_SERVICES = 5000;

/**
 * wrk against kscale's TCP CRR through the VIP of the last Service in
 * KUBE-SERVICES and of the first: each tool's difference (last − first) is the
 * rule walk a new connection pays, a pure dataplane cost both must see alike.
 * iptables (else the first available backend) with CROSS_CHECK_SERVICES Services.
 */
async function crossCheck(o: DatapathSweepOptions): Promise<void> {
  const { caps } = o.ctx;
  const available = o.backends.filter((b) => b.probe(caps).available);
  const backend = CROSS_CHECK_BACKENDS.map((n) => available.find((b) => b.name === n)).find((b) => b !== undefined) ?? available[0];
  const services = CROSS_CHECK_SERVICES;
  const params: Record<string, ParamValue> = { backend: backend?.name ?? 'none', services, endpoints: o.endpoints, position: 'last', reference: 'first', proto: 'tcp', tool: 'wrk' };
  const base = { suite: DATAPATH_SUITE, name: 'cross-check', unit: 'µs', params };
  o.ctx.progress.step('datapath: cross-check with wrk');
  const missing = backend ? await wrkMissing() : 'no backend available';
  if (missing || !backend) {
    o.ctx.record({ ...base, status: 'skipped', reason: missing ?? 'no backend available' });
    return;
  }
  const model = withDistinctEndpoints(generateCluster({ services, endpointsPerService: o.endpoints, layout: 'kube-proxy-scale', seed: o.ctx.seed }), 'TCP');
  const sandbox = await createSandbox({ prefix: o.ctx.prefix, label: `dp-xc-${backend.name}`, endpointCidrs: [ENDPOINT_CIDR], toolTimeoutMs: o.toolBudgetMs });
  let responder: Responder | undefined;
  try {
    await backend.load(sandbox, backend.render(model, sandboxNode(sandbox)));
    responder = startResponder(sandbox, { tcp: [TARGET_PORT] });
    const [target] = targetsAt(model, 'last', 1, o.ctx.seed) as [FlowTarget];
    const [reference] = targetsAt(model, 'first', 1, o.ctx.seed) as [FlowTarget];
    const r = await crossCheckTcpCrr(sandbox, target, responder, { rounds: 4, flowsPerRound: Math.max(200, Math.ceil(o.flows / 2)), wrkSeconds: 1, timeoutMs: o.timeoutMs, reference });
    // Loss is reported, not fatal below 1%: a stray lost flow does not move either median.
    const lossOk = (x: { errors: number; connections: number }): boolean => x.errors <= 0.01 * (x.errors + x.connections);
    const ok = r.misrouted === 0 && lossOk(r.kscale) && lossOk(r.wrk) && r.wrk.connections > 0;
    o.ctx.record({
      ...base,
      status: ok ? 'ok' : 'failed',
      ...(ok ? {} : { reason: `misrouted ${r.misrouted}, kscale lost ${r.kscale.errors}, wrk errors ${r.wrk.errors}, wrk connections ${r.wrk.connections}` }),
      ...(r.kscale.cycleUs.length > 0 ? { samples: r.kscale.cycleUs, summary: summarize(r.kscale.cycleUs) } : {}),
      extra: {
        quantity: 'per-connection cycle (answer to next answer, one connection at a time); summary/samples are kscale\'s',
        kscaleMedianUs: r.kscale.medianCycleUs,
        wrkMedianUs: r.wrk.medianCycleUs,
        ratio: r.ratio,
        // The walk from the first Service to the last, as each tool sees it (cycle to last − cycle to first), and their ratio:
        // the tools' own overheads cancel, so this is where they must agree.
        kscaleFirstMedianUs: r.reference?.kscaleMedianCycleUs ?? null,
        wrkFirstMedianUs: r.reference?.wrkMedianCycleUs ?? null,
        kscaleLastMinusFirstUs: r.reference?.kscaleDeltaUs ?? null,
        wrkLastMinusFirstUs: r.reference?.wrkDeltaUs ?? null,
        lastMinusFirstRatio: r.reference?.deltaRatio ?? null,
        kscaleRoundMediansUs: r.kscale.roundMediansUs,
        wrkRoundMediansUs: r.wrk.roundMediansUs,
        kscaleConnectToAnswerMedianUs: r.kscale.medianConnectToAnswerUs,
        wrkRequestToResponseMedianUs: r.wrk.medianRequestToResponseUs,
        kscaleConnections: r.kscale.connections,
        kscaleLost: r.kscale.errors,
        wrkErrors: r.wrk.errors,
        wrkConnections: r.wrk.connections,
        responderAnsweredForWrk: r.responderAnsweredForWrk,
        misrouted: r.misrouted,
        wrkCpu: r.wrkPinnedCpu,
      },
    });
  } catch (err) {
    o.ctx.record({ ...base, status: 'failed', reason: (err as Error).message });
  } finally {
    responder?.stop();
    await sandbox.destroy();
  }
}

/**
 * The error one size's drift-corrected cost carries beyond its rounds' spread
 * (one standard deviation, as a share). Measured on the 2-vCPU VM: one point's
 * baselineRatio across three runs spread a median 1.6-2.0%, at worst 5.7%
 * (max - min, so about 1.7 standard deviations), and fresh loads of the same
 * iptables-legacy rules, interleaved, differed by up to 5.6%.
 */
export const SIZE_SD = 0.025;

/**
 * cost = a + b·Services for one backend, position and protocol; a and b in ns.
 *
 * With paired baseline rounds (the sweep's default), the fit goes through
 * drift-corrected costs: each point's median over its rounds of point /
 * baseline, times the median baseline round of all the fit's points. The
 * sizes of a sweep are measured minutes apart, and this VM's speed moves by
 * 10-30% in minutes, which the raw medians carry into the slope (eBPF's
 * raw medians rose 14 -> 17 µs from 100 to 2,000 Services in one quick run,
 * its ratios 1%); the ratio cancels it, as it does for repeatability. b's 95%
 * interval is a bootstrap over the rounds (bootstrapSlopeCI), with each
 * size's cost also carrying SIZE_SD, because each size is its own load of
 * the rules measured minutes from the others: the rounds of one size cannot
 * show how far a fresh load, or the ratio's imperfect cancelling of the VM's
 * drift, moves it. The backend is called O(1) when the interval holds zero.
 *
 * Without baselines: Theil–Sen through the raw medians, with the t interval
 * over them (none with two sizes, so no O(1) call).
 */
export function costFit(backend: string, position: string, proto: string, endpoints: number, pts: readonly Point[], seed = 1): Measurement {
  const params = { backend, position, proto, endpoints };
  const base = { suite: DATAPATH_SUITE, name: 'cost-fit', unit: 'ns', params };
  if (new Set(pts.map((p) => p.services)).size < 2) return { ...base, status: 'skipped', reason: `fit needs two or more Service counts, got ${pts.length} point(s)` };
  const xs = pts.map((p) => p.services);
  const rawNs = pts.map((p) => p.medianUs * 1000);
  const answered = pts.map((p) => answeredPairs(p.pairs ?? []));
  if (answered.every((a) => a.length > 0)) {
    const baselineUs = median(answered.flatMap((a) => a.map((p) => p.baseUs)));
    const samples = answered.map((a) => a.map((p) => (p.pointUs / p.baseUs) * baselineUs * 1000));
    const ys = samples.map((v) => median(v));
    const fit = fitTheilSen(xs, ys);
    const ci = bootstrapSlopeCI(xs, samples, mulberry32(seed), 2000, SIZE_SD);
    const span = Math.max(...xs) - Math.min(...xs);
    const atSmallest = fit.intercept + fit.slope * Math.min(...xs);
    return {
      ...base,
      status: 'ok',
      extra: {
        a: fit.intercept, b: fit.slope, bCI: [ci.low, ci.high], o1: ci.low <= 0 && ci.high >= 0, r2: fit.r2, method: fit.method,
        // The fitted change from the smallest size to the largest, as a share of the cost at the smallest.
        rangeChange: (fit.slope * span) / atSmallest,
        sizeSd: SIZE_SD,
        basis: 'drift-corrected: point/baseline per round × the median baseline round; b interval by bootstrap over rounds',
        baselineMedianUs: baselineUs, n: fit.n, services: xs, mediansNs: ys, rawMediansNs: rawNs, rounds: answered.map((a) => a.length),
      },
    };
  }
  const fit = fitTheilSen(xs, rawNs);
  const ciKnown = Number.isFinite(fit.slopeCI.low) && Number.isFinite(fit.slopeCI.high);
  return {
    ...base,
    status: 'ok',
    extra: {
      a: fit.intercept,
      b: fit.slope,
      ...(ciKnown ? { bCI: [fit.slopeCI.low, fit.slopeCI.high], o1: slopeIsZero(fit) } : { note: 'two Service counts: no interval for b, so no O(1) call' }),
      r2: fit.r2,
      method: fit.method,
      basis: 'raw medians (no baseline rounds)',
      n: fit.n,
      services: xs,
      mediansNs: rawNs,
    },
  };
}

export async function runDatapathSweep(o: DatapathSweepOptions): Promise<void> {
  const { caps } = o.ctx;
  const positions = o.positions ?? POSITIONS;
  const missing = !caps.native_addon.available ? caps.native_addon.reason : !caps.conntrack.available ? `conntrack: ${caps.conntrack.reason}` : !caps.root.available ? `needs root: ${caps.root.reason}` : undefined;
  const skipAll = (backend: string, services: number, proto: Proto, reason: string): void => {
    for (const position of positions) o.ctx.record({ suite: DATAPATH_SUITE, name: 'new-connection', unit: 'µs', params: { backend, services, endpoints: o.endpoints, position, proto }, status: 'skipped', reason });
  };
  if (missing) {
    for (const b of o.backends) for (const s of o.services) for (const p of o.protos) skipAll(b.name, s, p, missing);
    return;
  }
  // The no-rules baseline sandbox lives for the whole sweep: every round of every point is paired with a round of it.
  let bench: BaselineBench | undefined;
  o.ctx.progress.step('datapath: no-rules baseline');
  try {
    bench = await openBaseline(o);
  } catch (err) {
    for (const proto of o.protos) o.ctx.record({ suite: DATAPATH_SUITE, name: 'generator-baseline', unit: 'µs', params: { backend: 'none', proto }, status: 'failed', reason: (err as Error).message });
  }
  try {
    const points = new Map<string, Point[]>();
    for (const backend of o.backends) {
      const availability = backend.probe(caps);
      for (const proto of o.protos) {
        // A load that ran out of the tool budget at one size is not tried at larger ones.
        let outOfTime: number | undefined;
        for (const services of o.services) {
          o.ctx.progress.step(`datapath: ${backend.name} ${services} Services ${proto}`);
          if (!availability.available) {
            skipAll(backend.name, services, proto, availability.reason);
            continue;
          }
          if (outOfTime !== undefined && services >= outOfTime) {
            skipAll(backend.name, services, proto, `not run: loading ${outOfTime} Services into ${backend.name} already exceeded the ${o.toolBudgetMs} ms tool budget`);
            continue;
          }
          if (!(await measureSize(backend, services, proto, o, bench, points))) outOfTime = services;
        }
        if (!availability.available) continue;
        for (const position of positions) o.ctx.record(costFit(backend.name, position, proto, o.endpoints, points.get(`${backend.name}|${position}|${proto}`) ?? [], o.ctx.seed));
      }
    }
    if (bench) for (const m of bench.measurements()) o.ctx.record(m);
  } finally {
    await bench?.close();
  }
  if (o.crossCheck) await crossCheck(o);
}

export const datapathSuite: Suite = {
  name: DATAPATH_SUITE,
  description: 'first packet through every dataplane: new-connection latency by Service count and position, hits verified, cost per Service fitted',
  steps: (profile) => steps({ backends: BACKENDS, ...DATAPATH_SIZES[profile.name] }),
  async run(ctx) {
    await runDatapathSweep({ backends: BACKENDS, ...DATAPATH_SIZES[ctx.profile.name], ctx });
  },
};
