// Real packets (root, real kernel): the native responder and generators over a
// sandbox whose node namespace holds a hand-written DNAT rule set; plus the
// pure statistics and hit verification the datapath suite relies on.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createSandbox } from '../../src/dataplane/sandbox.js';
import type { Sandbox } from '../../src/dataplane/sandbox.js';
import {
  chiSquarePValue, chiSquareTest, conntrackDrops, FLOW_ANSWERED, FLOW_TIMEOUT, flushConntrackReadDrops, gammaQ, lnGamma, pooledSpread, runTcpCrr, runUdpFlows,
  startResponder, targetsAt, verifyHits, withDistinctEndpoints,
} from '../../src/dataplane/traffic.js';
import type { FlowTarget } from '../../src/dataplane/traffic.js';
import { generateCluster } from '../../src/model/index.js';
import type { ClusterModel } from '../../src/model/types.js';
import { loadNative } from '../../src/native/index.js';
import type { DataplaneBackend } from '../../src/dataplane/backend.js';
import type { Capabilities } from '../../src/host/capabilities.js';
import type { Measurement } from '../../src/results/types.js';
import { costFit, runDatapathSweep } from '../../bench/suites/datapath.js';
import { median, mulberry32 } from '../../src/stats/summary.js';
import { A, B, withDnatSandbox } from './dnat-sandbox.js';

const root = process.getuid?.() === 0;
const native = loadNative().ok;

describe('chi-square distribution', () => {
  it('lnGamma matches factorials and Γ(1/2) = √π', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 12);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(lnGamma(101)).toBeCloseTo(363.73937555556347, 9); // ln(100!)
  });

  it('upper tail at the tabulated 5% and 1% critical values', () => {
    // Critical values from the standard χ² table.
    const table: [number, number, number][] = [[1, 3.841459, 0.05], [2, 5.991465, 0.05], [9, 16.918978, 0.05], [10, 23.209251, 0.01], [30, 43.772972, 0.05], [99, 134.642, 0.01]];
    for (const [dof, x, p] of table) expect(chiSquarePValue(x, dof)).toBeCloseTo(p, 5);
  });

  it('closed forms: Q(1, x) = e^-x (2 dof) and Q(1/2, x) = erfc(√x) (1 dof)', () => {
    for (const x of [0.01, 0.7, 3, 12, 40]) expect(gammaQ(1, x)).toBeCloseTo(Math.exp(-x), 12);
    // erfc(1) = 0.157299207050285, erfc(2) = 0.004677734981047266
    expect(gammaQ(0.5, 1)).toBeCloseTo(0.157299207050285, 12);
    expect(gammaQ(0.5, 4)).toBeCloseTo(0.004677734981047266, 13);
    expect(chiSquarePValue(0, 3)).toBe(1);
  });

  it('a test of counts: statistic, dof and p-value', () => {
    // Σ(O−E)²/E with E = 25: (5² + 5² + 0 + 0) / 25 = 2, 3 dof, p = 0.5724067.
    const r = chiSquareTest([30, 20, 25, 25]);
    expect(r.statistic).toBeCloseTo(2, 12);
    expect(r.dof).toBe(3);
    expect(r.pValue).toBeCloseTo(0.5724067, 6);
    expect(r.pass).toBe(true);
    // Against the intended 70/30 a 70/30 count fits exactly; against uniform it does not.
    expect(chiSquareTest([700, 300], [0.7, 0.3]).statistic).toBeCloseTo(0, 12);
    expect(chiSquareTest([700, 300]).pass).toBe(false);
    expect(() => chiSquareTest([1, 2], [0.5, 0.6])).toThrow(/sum to 1/);
  });
});

describe('targets and hit verification', () => {
  const model = withDistinctEndpoints(generateCluster({ services: 5, endpointsPerService: 3, layout: 'kube-proxy-scale', seed: 1 }), 'UDP');

  it('gives every Service endpoints of its own and the wanted protocol', () => {
    const all = model.endpointSlices.flatMap((s) => s.endpoints.map((e) => e.addresses[0]));
    expect(new Set(all).size).toBe(15);
    expect(model.endpointSlices[1]?.endpoints.map((e) => e.addresses[0])).toEqual(['172.16.0.4', '172.16.0.5', '172.16.0.6']);
    expect(model.services.every((s) => s.ports.every((p) => p.protocol === 'UDP'))).toBe(true);
  });

  it('picks first, middle, last in model order and random ones seeded', () => {
    expect(targetsAt(model, 'first', 10, 1).map((t) => t.ip)).toEqual(['10.0.0.1']);
    expect(targetsAt(model, 'middle', 10, 1).map((t) => [t.service, t.port])).toEqual([['namespace/svc2', 82]]);
    expect(targetsAt(model, 'last', 10, 1)[0]?.endpoints).toEqual(['172.16.0.13', '172.16.0.14', '172.16.0.15']);
    const r = targetsAt(model, 'random', 50, 7);
    expect(r).toHaveLength(50);
    expect(r.map((t) => t.ip)).toEqual(targetsAt(model, 'random', 50, 7).map((t) => t.ip));
    expect(new Set(r.map((t) => t.ip)).size).toBeGreaterThan(2);
  });

  it('accepts hits on the right Service, flags misrouted ones and hits beyond what was sent', () => {
    const a: FlowTarget = { service: 'ns/a', ip: '10.0.0.1', port: 80, endpoints: ['172.16.0.1', '172.16.0.2'] };
    const b: FlowTarget = { service: 'ns/b', ip: '10.0.0.2', port: 81, endpoints: ['172.16.1.1', '172.16.1.2'] };
    const outcome = Uint8Array.from([FLOW_ANSWERED, FLOW_ANSWERED, FLOW_ANSWERED, FLOW_TIMEOUT]); // a, b, a, b
    const good = verifyHits([a, b], outcome, new Map([['172.16.0.1', 1], ['172.16.0.2', 1], ['172.16.1.2', 1]]));
    expect(good.ok).toBe(true);
    expect(good.perService).toEqual([
      { service: 'ns/a', sent: 2, answered: 2, hits: 2, perEndpoint: [1, 1] },
      { service: 'ns/b', sent: 2, answered: 1, hits: 1, perEndpoint: [0, 1] },
    ]);
    expect(pooledSpread(good)).toEqual([1, 2]);
    // b's answered flow landed on a's endpoint: a has more hits than flows, b fewer than answers.
    const crossed = verifyHits([a, b], outcome, new Map([['172.16.0.1', 2], ['172.16.0.2', 1]]));
    expect(crossed.ok).toBe(false);
    expect(crossed.problems.join('\n')).toMatch(/ns\/a: 3 hits .* 2 flows sent[\s\S]*ns\/b: 1 answered but only 0/);
    const stray = verifyHits([a, b], outcome, new Map([['172.16.0.1', 2], ['172.16.1.1', 1], ['198.18.1.2', 1]]));
    expect(stray.misrouted).toBe(1);
    expect(stray.ok).toBe(false);
  });
});


describe.skipIf(!root || !native)('real packets through a hand-written DNAT (root)', () => {
  it("one command empties the node's conntrack table and reads its drop counter (as conntrackDrops does)", async () => {
    await withDnatSandbox(async (sb) => {
      const responder = startResponder(sb, { udp: [8080] });
      try {
        const run = await runUdpFlows(sb, [A], { count: 40, warmup: 0, flushConntrack: false, timeoutMs: 2000, responder });
        expect(run.answered).toBe(40);
        const entries = async (): Promise<number> => (await sb.exec(sb.node, 'conntrack', ['-L', '-p', 'udp', '--orig-dst', A.ip])).stdout.trim().split('\n').filter((l) => l.length > 0).length;
        expect(await entries()).toBe(40);
        const drops = await flushConntrackReadDrops(sb);
        expect(await entries()).toBe(0);
        expect(drops).toBe(await conntrackDrops(sb));
      } finally {
        responder.stop();
      }
    });
  });

  it('UDP new flows are answered, land on their Service, spread uniformly where meant to and 70/30 where meant to', async () => {
    await withDnatSandbox(async (sb) => {
      const responder = startResponder(sb, { udp: [8080] });
      try {
        const targets = [A, B];
        const run = await runUdpFlows(sb, targets, { count: 1600, warmup: 50, timeoutMs: 2000, responder });
        expect(run.timeouts).toBe(0);
        expect(run.errors).toBe(0);
        expect(run.answered).toBe(1600);
        expect(run.latencyUs.every((x) => x > 0 && x < 2_000_000)).toBe(true);
        const hits = verifyHits(targets, run.outcome, responder.hits());
        expect(hits.problems).toEqual([]);
        // Exactly one hit per flow: every flow was a fresh 5-tuple and nothing else reached the responder.
        expect(hits.perService.map((s) => s.hits)).toEqual([800, 800]);
        expect(responder.totals().udp).toBe(1600);
        const [a, b] = hits.perService;
        // Uniform over A's four endpoints: p below 1e-4 would be a 1-in-10,000 accident.
        expect(chiSquareTest(a?.perEndpoint ?? [], undefined, 1e-4).pass).toBe(true);
        // B is skewed: not uniform, but consistent with the 70/30 its rules intend.
        expect(chiSquareTest(b?.perEndpoint ?? []).pass).toBe(false);
        expect(chiSquareTest(b?.perEndpoint ?? [], [0.7, 0.3], 1e-4).pass).toBe(true);
      } finally {
        responder.stop();
      }
    });
  });

  it('TCP connect–request–response–close through the same rules, several in flight', async () => {
    await withDnatSandbox(async (sb) => {
      const responder = startResponder(sb, { tcp: [8080] });
      try {
        const run = await runTcpCrr(sb, [A], { count: 400, warmup: 20, window: 4, timeoutMs: 2000, responder });
        expect([run.timeouts, run.errors, run.answered]).toEqual([0, 0, 400]);
        const hits = verifyHits([A], run.outcome, responder.hits());
        expect(hits.problems).toEqual([]);
        expect(hits.perService[0]?.hits).toBe(400);
        expect(responder.totals().tcp).toBe(400);
      } finally {
        responder.stop();
      }
    });
  });

  it('a VIP without rules is lost, counted, and bounded by the deadline', async () => {
    await withDnatSandbox(async (sb) => {
      const responder = startResponder(sb, { udp: [8080] });
      try {
        // 10.0.0.9 has no DNAT: the node routes it to the backend, which does not own it, and it goes nowhere.
        const lost: FlowTarget = { service: 'test/none', ip: '10.0.0.9', port: 80, endpoints: [] };
        const started = Date.now();
        const run = await runUdpFlows(sb, [lost], { count: 20, warmup: 0, window: 10, timeoutMs: 200 });
        expect(run.answered).toBe(0);
        expect(run.timeouts + run.errors).toBe(20);
        expect(run.loss).toBe(1);
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        responder.stop();
      }
    });
  });

  it('a responder port already taken is an error, not a silent thread', async () => {
    await withDnatSandbox(async (sb) => {
      const first = startResponder(sb, { tcp: [8081] });
      try {
        expect(() => startResponder(sb, { tcp: [8081] })).toThrow(/EADDRINUSE/);
      } finally {
        first.stop();
      }
    });
  });
});

describe('cost fit', () => {
  it('reads b in ns per Service off the medians and calls O(1) only when its interval holds zero', () => {
    const linear = costFit('x', 'last', 'udp', 4, [100, 1000, 5000, 10_000].map((s) => ({ services: s, medianUs: 20 + 0.025 * s + (s % 3) * 0.01 })));
    const e = linear.extra as { a: number; b: number; bCI: [number, number]; o1: boolean; r2: number };
    expect(linear.unit).toBe('ns');
    expect(e.b).toBeCloseTo(25, 0);
    expect(e.a).toBeCloseTo(20_000, -2);
    expect(e.o1).toBe(false);
    expect(e.r2).toBeGreaterThan(0.999);
    const flat = costFit('x', 'last', 'udp', 4, [[100, 21], [1000, 19], [5000, 22], [10_000, 20]].map(([s, us]) => ({ services: s as number, medianUs: us as number })));
    expect((flat.extra as { o1: boolean }).o1).toBe(true);
    expect(costFit('x', 'first', 'udp', 4, [{ services: 100, medianUs: 20 }]).status).toBe('skipped');
  });

  /**
   * Rounds of a point whose true cost is `us` at the machine's normal speed, on a
   * machine running `drift` times slower while this size was measured: the point
   * and its baseline round (10 µs) both slow down alike; ±2% noise per round.
   */
  const rounds = (us: number, drift: number, n: number, seed: number): { pointUs: number; baseUs: number }[] => {
    const rng = mulberry32(seed);
    return Array.from({ length: n }, () => ({ pointUs: us * drift * (0.98 + 0.04 * rng()), baseUs: 10 * drift * (0.98 + 0.04 * rng()) }));
  };
  const point = (services: number, us: number, drift: number, seed: number) => {
    const pairs = rounds(us, drift, 100, seed);
    return { services, medianUs: median(pairs.map((p) => p.pointUs)), pairs };
  };
  type FitExtra = { a: number; b: number; bCI: [number, number]; o1: boolean; rangeChange: number; rawMediansNs: number[] };

  it('with baseline rounds, fits through the drift-corrected costs: a machine slowing down as the sizes go up adds no slope', () => {
    // A flat backend (20 µs at every size) measured while the VM slowed 0%, 10%, 25%: the raw medians rise 5 µs.
    const pts = [point(100, 20, 1, 1), point(1000, 20, 1.1, 2), point(2000, 20, 1.25, 3)];
    const e = costFit('x', 'last', 'udp', 4, pts).extra as FitExtra;
    expect(e.rawMediansNs[2]! - e.rawMediansNs[0]!).toBeGreaterThan(4000);
    expect(Math.abs(e.b)).toBeLessThan(0.3);
    expect(e.o1).toBe(true);
    // The raw medians alone would have read a slope of about 2.6 ns per Service.
    const raw = costFit('x', 'last', 'udp', 4, pts.map(({ services, medianUs }) => ({ services, medianUs }))).extra as { b: number };
    expect(raw.b).toBeGreaterThan(2);
  });

  it('pins a real walk down from three sizes, and calls it a slope', () => {
    // 20 µs + 15 ns per Service, with drift on top.
    const pts = [point(100, 21.5, 1.05, 4), point(1000, 35, 0.95, 5), point(2000, 50, 1.2, 6)];
    const e = costFit('x', 'last', 'udp', 4, pts).extra as FitExtra;
    expect(e.b).toBeGreaterThan(14);
    expect(e.b).toBeLessThan(16);
    expect(e.bCI[0]).toBeGreaterThan(12);
    expect(e.bCI[1]).toBeLessThan(18.5);
    expect(e.o1).toBe(false);
    expect(e.rangeChange).toBeCloseTo(28.5 / 21.5, 1);
  });

  it('holds a change within what one size\'s own load can move (SIZE_SD) as constant, and a larger one as a slope either way', () => {
    // 1.5% from 100 to 2,000 Services: the rounds pin it down, but a fresh load of the rules moves a size by more.
    const tiny = costFit('x', 'first', 'udp', 4, [point(100, 20, 1, 7), point(1000, 20.15, 1, 8), point(2000, 20.3, 1, 9)]).extra as FitExtra;
    expect(tiny.o1).toBe(true);
    expect(tiny.bCI[0]).toBeLessThan(0);
    const falling = costFit('x', 'first', 'udp', 4, [point(100, 24, 1, 10), point(1000, 21, 1, 11), point(2000, 18, 1, 12)]).extra as FitExtra;
    expect(falling.b).toBeLessThan(0);
    expect(falling.o1).toBe(false);
  });

  it('gives an interval, and so an O(1) call, with two sizes too; the same seed gives the same interval', () => {
    const pts = [point(100, 20, 1, 13), point(1000, 20, 1.1, 14)];
    const one = costFit('x', 'last', 'udp', 4, pts, 7).extra as FitExtra;
    expect(one.o1).toBe(true);
    expect((costFit('x', 'last', 'udp', 4, pts, 7).extra as FitExtra).bCI).toEqual(one.bCI);
  });
});

/** A stand-in backend for the sweep: one DNAT rule per endpoint, kube-proxy's statistic probabilities, no other chains. */
function handWrittenBackend(): DataplaneBackend<string> {
  return {
    name: 'iptables-nft',
    probe: () => ({ available: true }),
    render(model: ClusterModel) {
      const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KSCALE-TEST - [0:0]', '-A PREROUTING -j KSCALE-TEST'];
      const slices = new Map(model.endpointSlices.map((sl) => [sl.serviceName, sl]));
      for (const svc of model.services) {
        const p = svc.ports[0];
        const eps = slices.get(svc.name)?.endpoints ?? [];
        eps.forEach((ep, i) => {
          const left = eps.length - i;
          const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(5)}` : '';
          lines.push(`-A KSCALE-TEST -d ${svc.clusterIP}/32 -p ${p?.protocol.toLowerCase()} --dport ${p?.port}${stat} -j DNAT --to-destination ${ep.addresses[0]}:8080`);
        });
      }
      return lines.join('\n') + '\nCOMMIT\n';
    },
    counts: () => ({}),
    async load(sandbox, program) {
      const r = await sandbox.exec(sandbox.node, 'iptables-nft-restore', ['--noflush'], { input: program });
      if (r.code !== 0) throw new Error(r.stderr);
      return { wallMs: r.wallMs, loaderCpuMs: r.cpuMs, payloadBytes: program.length, overheadMs: 0 };
    },
    update: () => Promise.reject(new Error('not used')),
    verify: () => Promise.reject(new Error('not used')),
    flush: () => Promise.reject(new Error('not used')),
  };
}

describe.skipIf(!root || !native)('the datapath sweep over real packets (root)', () => {
  it('records a verified new-connection point per size and position, a baseline and a fit per position', async () => {
    const ok = { available: true, reason: '' };
    const caps = { native_addon: ok, conntrack: ok, root: ok } as unknown as Capabilities;
    const recorded: Measurement[] = [];
    await runDatapathSweep({
      backends: [handWrittenBackend() as DataplaneBackend<unknown>],
      services: [5, 20, 40], endpoints: 3, flows: 90, warmup: 60, rounds: 3, crossCheck: false, protos: ['udp'], timeoutMs: 1000, toolBudgetMs: 30_000,
      ctx: { caps, prefix: `kscale-${randomBytes(3).toString('hex')}`, seed: 3, progress: { plan() {}, step() {}, note() {}, done() {} }, record: (m) => recorded.push(m) },
    });
    const conns = recorded.filter((m) => m.name === 'new-connection');
    expect(conns).toHaveLength(12);
    for (const m of conns) {
      expect(m.status, m.reason).toBe('ok');
      expect(m.unit).toBe('µs');
      expect(m.summary?.n).toBe(90);
      expect(m.extra).toMatchObject({ hitsVerified: true, timeouts: 0, errors: 0, warmupDiscarded: 60, rounds: 3 });
      expect(m.extra?.roundBaselineMediansUs as number[]).toHaveLength(3);
      expect((m.extra?.spread as number[]).reduce((a, b) => a + b, 0)).toBe(90);
      expect((m.extra?.chiSquare as { dof: number }).dof).toBe(2);
    }
    expect(conns.find((m) => m.params.position === 'random' && m.params.services === 40)?.extra?.distinctServices).toBeGreaterThan(10);
    expect(recorded.filter((m) => m.name === 'generator-baseline').map((m) => m.status)).toEqual(['ok']);
    const fits = recorded.filter((m) => m.name === 'cost-fit');
    expect(fits.map((m) => m.params.position)).toEqual(['first', 'middle', 'last', 'random']);
    expect(fits.every((m) => m.status === 'ok' && typeof m.extra?.b === 'number' && Array.isArray(m.extra?.bCI))).toBe(true);
  });
});

describe('flushConntrackReadDrops on a failing flush', () => {
  it("names the node namespace and conntrack's own message", async () => {
    const node = { name: 'kscale-x-node', path: '/run/netns/kscale-x-node' };
    const failing = { node, exec: async () => ({ code: 101, stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not supported\n', wallMs: 1 }) };
    await expect(flushConntrackReadDrops(failing as unknown as Sandbox)).rejects.toThrow(/^conntrack -F in kscale-x-node failed: conntrack v1\.4\.7 .*Operation not supported$/);
    const noShell = { node, exec: async () => ({ code: 127, stdout: '', stderr: 'sh: not found', wallMs: 1 }) };
    await expect(flushConntrackReadDrops(noShell as unknown as Sandbox)).rejects.toThrow(/failed \(exit 127\): sh: not found/);
  });
});

describe.skipIf(!native)('missing namespaces', () => {
  const gone = { name: 'kscale-000000-gone', path: '/run/netns/kscale-000000-gone' };
  it('a responder for a backend namespace that does not exist fails with ENOENT', () => {
    expect(() => startResponder({ backend: gone }, { udp: [8080] })).toThrow(/ENOENT/);
  });
  it('flows from a client namespace that does not exist fail with ENOENT, before any packet', async () => {
    const sb = { client: gone, node: gone, exec: () => Promise.reject(new Error('not used')) };
    await expect(runUdpFlows(sb, [A], { count: 1, warmup: 0, flushConntrack: false })).rejects.toThrow(/ENOENT/);
  });
});
