// What one new connection costs through each dataplane, with real packets:
// for every backend and Service count, the rules are loaded into a fresh
// sandbox's node namespace, and new UDP flows (and TCP connect–request–close,
// where the profile asks) go from the client namespace to a Service VIP at the
// first, middle, last or a random position in the rule order. Every flow is a
// conntrack miss (fresh source port, table flushed per point, warm-up
// discarded), every hit is checked to have landed on an endpoint of the right
// Service, and the spread over endpoints is χ²-tested against uniform. Per
// backend and position the medians are fitted to cost = a + b·Services, and a
// backend is called O(1) only when b's 95% interval contains zero.
// A baseline with no rules at all (client straight to an endpoint address) is
// measured in the same run, so the generator's own cost is known.
import type { ProfileName, Suite, SuiteContext } from '../../src/bench/types.js';
import type { DataplaneBackend } from '../../src/dataplane/backend.js';
import { BACKENDS } from '../../src/dataplane/backends.js';
import { ENDPOINT_CIDR, sandboxNode } from '../../src/dataplane/measure-sync.js';
import { createSandbox } from '../../src/dataplane/sandbox.js';
import type { Sandbox } from '../../src/dataplane/sandbox.js';
import {
  chiSquareTest, pooledSpread, POSITIONS, runTcpCrr, runUdpFlows, startResponder, targetsAt, verifyHits, withDistinctEndpoints,
} from '../../src/dataplane/traffic.js';
import type { FlowRun, FlowTarget, Position, Responder } from '../../src/dataplane/traffic.js';
import { generateCluster } from '../../src/model/index.js';
import type { Measurement, ParamValue } from '../../src/results/types.js';
import { fitTheilSen, slopeIsZero } from '../../src/stats/fit.js';
import { median, summarize } from '../../src/stats/summary.js';

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
}

export const DATAPATH_SIZES: Record<ProfileName, DatapathSizes> = {
  smoke: { services: [100, 500, 1000], endpoints: 4, flows: 200, warmup: 50, protos: ['udp'], timeoutMs: 1000, toolBudgetMs: 60_000 },
  // TCP needs the rules rendered for TCP, so a second load per size: only the full profile pays for it.
  quick: { services: [100, 1000, 2000], endpoints: 4, flows: 1000, warmup: 100, protos: ['udp'], timeoutMs: 1000, toolBudgetMs: 60_000 },
  full: { services: [100, 1000, 5000, 10_000, 25_000, 50_000], endpoints: 10, flows: 2000, warmup: 200, protos: ['udp', 'tcp'], timeoutMs: 2000, toolBudgetMs: 600_000 },
  ci: { services: [100, 1000], endpoints: 4, flows: 1000, warmup: 100, protos: ['udp'], timeoutMs: 1000, toolBudgetMs: 60_000 },
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

function steps(o: Pick<DatapathSweepOptions, 'backends' | 'services' | 'protos'>): number {
  return 1 + o.backends.length * o.services.length * o.protos.length;
}

function measurementOf(params: Record<string, ParamValue>, run: FlowRun, targets: readonly FlowTarget[], responder: Responder, baselineUs: number | undefined): Measurement {
  const hits = verifyHits(targets, run.outcome, responder.hits());
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
    warmupDiscarded: run.warmup,
    generatorPinned: run.pinned,
    responderPinned: responder.totals().pinned,
    distinctServices: hits.perService.length,
    ...(baselineUs !== undefined && run.latencyUs.length > 0 ? { baselineMedianUs: baselineUs, overBaselineMedianUs: median(run.latencyUs) - baselineUs } : {}),
  };
  if (run.latencyUs.length === 0) return { ...base, status: 'failed', reason: `no flow answered (${run.timeouts} timed out, ${run.errors} failed${run.firstError ? `, first error ${run.firstError}` : ''})`, extra };
  const m: Measurement = { ...base, samples: run.latencyUs, summary: summarize(run.latencyUs), extra };
  // A flow on the wrong Service means the dataplane is wrong; its latency is not the one asked about.
  return hits.ok ? m : { ...m, status: 'failed', reason: `hit verification: ${hits.problems[0] ?? ''}` };
}

function flows(proto: Proto, sandbox: Sandbox, targets: readonly FlowTarget[], o: DatapathSizes, responder: Responder): Promise<FlowRun> {
  const opts = { count: o.flows, warmup: o.warmup, timeoutMs: o.timeoutMs, responder };
  return proto === 'udp' ? runUdpFlows(sandbox, targets, opts) : runTcpCrr(sandbox, targets, opts);
}

/** The generator's own cost: client straight to an endpoint address, no rules in the node namespace. */
async function baseline(o: DatapathSweepOptions): Promise<Map<Proto, number>> {
  const out = new Map<Proto, number>();
  o.ctx.progress.step('datapath: baseline without rules');
  const sandbox = await createSandbox({ prefix: o.ctx.prefix, label: 'dp-base', endpointCidrs: [ENDPOINT_CIDR] });
  let responder: Responder | undefined;
  try {
    responder = startResponder(sandbox, { udp: [TARGET_PORT], tcp: [TARGET_PORT] });
    const target: FlowTarget = { service: 'none/direct', ip: '172.16.0.1', port: TARGET_PORT, endpoints: ['172.16.0.1'] };
    for (const proto of o.protos) {
      const run = await flows(proto, sandbox, [target], o, responder);
      const m = measurementOf({ backend: 'none', proto }, run, [target], responder, undefined);
      o.ctx.record({ ...m, name: 'generator-baseline' });
      if (m.status === 'ok' && m.summary) out.set(proto, m.summary.median);
    }
  } finally {
    responder?.stop();
    await sandbox.destroy();
  }
  return out;
}

interface Point {
  services: number;
  medianUs: number;
}

/** One backend at one size and protocol: load, then every position. False when the load ran out of the tool budget. */
async function measureSize(backend: DataplaneBackend<unknown>, services: number, proto: Proto, o: DatapathSweepOptions, baselines: Map<Proto, number>, points: Map<string, Point[]>): Promise<boolean> {
  const positions = o.positions ?? POSITIONS;
  const params = (position: Position): Record<string, ParamValue> => ({ backend: backend.name, services, endpoints: o.endpoints, position, proto });
  const model = withDistinctEndpoints(generateCluster({ services, endpointsPerService: o.endpoints, layout: 'kube-proxy-scale', seed: o.ctx.seed }), proto === 'udp' ? 'UDP' : 'TCP');
  const sandbox = await createSandbox({ prefix: o.ctx.prefix, label: `dp-${backend.name}-${services}-${proto}`, endpointCidrs: [ENDPOINT_CIDR], toolTimeoutMs: o.toolBudgetMs });
  let responder: Responder | undefined;
  const done = new Set<Position>();
  try {
    const load = await backend.load(sandbox, backend.render(model, sandboxNode(sandbox)));
    responder = startResponder(sandbox, { [proto]: [TARGET_PORT] });
    for (const position of positions) {
      const targets = targetsAt(model, position, o.flows, o.ctx.seed);
      const run = await flows(proto, sandbox, targets, o, responder);
      const m = measurementOf(params(position), run, targets, responder, baselines.get(proto));
      o.ctx.record({ ...m, extra: { ...m.extra, loadWallMs: load.wallMs } });
      done.add(position);
      if (m.status === 'ok' && m.summary) {
        const key = `${backend.name}|${position}|${proto}`;
        points.set(key, [...(points.get(key) ?? []), { services, medianUs: m.summary.median }]);
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

/** cost = a + b·Services over the medians of one backend, position and protocol; a and b in ns. */
export function costFit(backend: string, position: string, proto: string, endpoints: number, pts: readonly Point[]): Measurement {
  const params = { backend, position, proto, endpoints };
  const base = { suite: DATAPATH_SUITE, name: 'cost-fit', unit: 'ns', params };
  if (new Set(pts.map((p) => p.services)).size < 2) return { ...base, status: 'skipped', reason: `fit needs two or more Service counts, got ${pts.length} point(s)` };
  const xs = pts.map((p) => p.services);
  const ys = pts.map((p) => p.medianUs * 1000);
  const fit = fitTheilSen(xs, ys);
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
      n: fit.n,
      services: xs,
      mediansNs: ys,
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
  let baselines = new Map<Proto, number>();
  try {
    baselines = await baseline(o);
  } catch (err) {
    for (const proto of o.protos) o.ctx.record({ suite: DATAPATH_SUITE, name: 'generator-baseline', unit: 'µs', params: { backend: 'none', proto }, status: 'failed', reason: (err as Error).message });
  }
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
        if (!(await measureSize(backend, services, proto, o, baselines, points))) outOfTime = services;
      }
      if (!availability.available) continue;
      for (const position of positions) o.ctx.record(costFit(backend.name, position, proto, o.endpoints, points.get(`${backend.name}|${position}|${proto}`) ?? []));
    }
  }
}

export const datapathSuite: Suite = {
  name: DATAPATH_SUITE,
  description: 'first packet through every dataplane: new-connection latency by Service count and position, hits verified, cost per Service fitted',
  steps: (profile) => steps({ backends: BACKENDS, ...DATAPATH_SIZES[profile.name] }),
  async run(ctx) {
    await runDatapathSweep({ backends: BACKENDS, ...DATAPATH_SIZES[ctx.profile.name], ctx });
  },
};
