// The wrk cross-check and the batched UDP first packets (root, real kernel),
// over a sandbox whose node namespace holds a hand-written DNAT rule set.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createSandbox } from '../../src/dataplane/sandbox.js';
import type { Sandbox } from '../../src/dataplane/sandbox.js';
import { crossCheckTcpCrr, gapsUs, parseWrkOutput, wrkMissing } from '../../src/dataplane/crosscheck.js';
import { completionIntervalsUs, FLOW_ANSWERED, FLOW_TIMEOUT, mergeRuns, runTcpCrr, runUdpFlows, startResponder, verifyHits } from '../../src/dataplane/traffic.js';
import type { FlowRun, FlowTarget } from '../../src/dataplane/traffic.js';
import { loadNative } from '../../src/native/index.js';
import { A, withDnatSandbox } from './dnat-sandbox.js';

const root = process.getuid?.() === 0;
const native = loadNative().ok;
const wrkReason = root ? await wrkMissing() : 'not root';

describe('pure helpers', () => {
  it('completion intervals follow completion order and skip unanswered flows', () => {
    // Flow 2 started last but finished before flow 1; flow 3 timed out.
    const start = [0, 10_000, 12_000, 30_000];
    const lat = [5_000, 20_000, 3_000, Number.NaN];
    const out = [FLOW_ANSWERED, FLOW_ANSWERED, FLOW_ANSWERED, FLOW_TIMEOUT];
    // Completions at 5, 15, 30 µs.
    expect(completionIntervalsUs(start, lat, out)).toEqual([10, 15]);
    expect(completionIntervalsUs([0], [1], [FLOW_ANSWERED])).toEqual([]);
  });

  it('merging rounds concatenates outcomes in order and sums the counts', () => {
    const run = (outcome: number[], lat: number[], wallMs: number): FlowRun => ({
      proto: 'udp', outcome: Uint8Array.from(outcome), latencyUs: lat, sent: outcome.length, answered: lat.length,
      timeouts: outcome.filter((o) => o === FLOW_TIMEOUT).length, errors: 0, loss: outcome.filter((o) => o !== FLOW_ANSWERED).length / outcome.length,
      wallMs, ratePerSec: 0, warmup: 5, pinned: true, batch: 1, cycleUs: lat,
    });
    const m = mergeRuns([run([FLOW_ANSWERED, FLOW_TIMEOUT], [10], 1), run([FLOW_ANSWERED, FLOW_ANSWERED], [20, 30], 3)]);
    expect([...m.outcome]).toEqual([FLOW_ANSWERED, FLOW_TIMEOUT, FLOW_ANSWERED, FLOW_ANSWERED]);
    expect(m.latencyUs).toEqual([10, 20, 30]);
    expect([m.sent, m.answered, m.timeouts, m.warmup]).toEqual([4, 3, 1, 10]);
    expect(m.loss).toBeCloseTo(0.25, 12);
    expect(m.ratePerSec).toBeCloseTo(750, 9);
    expect(() => mergeRuns([])).toThrow(/no runs/);
  });

  it('reads the script line out of wrk output and turns stamps into gaps', () => {
    const out = 'Running 1s test @ http://10.0.0.1:80/\n  1 threads and 1 connections\nKSCALE-WRK {"requests":3,"durationUs":1000,"errors":0,"nonOk":0,"latencyP50Us":12.5,"stampsUs":[100.5,180.5,140.5]}\n';
    const r = parseWrkOutput(out);
    expect(r.requests).toBe(3);
    expect(r.latencyP50Us).toBe(12.5);
    expect(gapsUs(r.stampsUs)).toEqual([40, 40]);
    expect(() => parseWrkOutput('Running 1s test\n')).toThrow(/no KSCALE-WRK line/);
  });
});


describe.skipIf(!root || !native)('batched UDP first packets (root)', () => {
  it('K flows per sendmmsg: every flow a fresh conntrack entry, answered on its Service, rate reported', async () => {
    await withDnatSandbox(async (sb) => {
      const responder = startResponder(sb, { udp: [8080] });
      try {
        const run = await runUdpFlows(sb, [A], { count: 640, warmup: 64, batch: 32, timeoutMs: 2000, responder });
        expect([run.timeouts, run.errors, run.answered]).toEqual([0, 0, 640]);
        expect(run.batch).toBe(32);
        expect(run.sendRatePerSec).toBeGreaterThan(0);
        const hits = verifyHits([A], run.outcome, responder.hits());
        expect(hits.problems).toEqual([]);
        // One hit per flow: had two flows shared a 5-tuple, the second would have followed the first's conntrack entry —
        // still one hit each, so check the entries themselves: 640 + 64 warm-up flows flushed before, 640 entries now.
        expect(hits.perService[0]?.hits).toBe(640);
        const ct = await sb.exec(sb.node, 'conntrack', ['-L', '-p', 'udp', '--orig-dst', '10.0.0.1']);
        expect(ct.code, ct.stderr).toBe(0);
        expect(ct.stdout.trim().split('\n').filter((l) => l.includes('dport=80')).length).toBe(640);
        // Every endpoint got some of the flows (the DNAT chose per new entry).
        expect(hits.perService[0]?.perEndpoint.every((n) => n > 50)).toBe(true);
      } finally {
        responder.stop();
      }
    });
  });

  it('refuses batches for TCP and out of range', async () => {
    const sb = { client: { name: 'x', path: '/nonexistent' }, node: { name: 'x', path: '/nonexistent' }, exec: () => Promise.reject(new Error('not used')) };
    await expect(runTcpCrr(sb, [A], { count: 1, batch: 2 })).rejects.toThrow(/UDP new flows only/);
    await expect(runUdpFlows(sb, [A], { count: 1, batch: 0 })).rejects.toThrow(/batch must be/);
  });
});

describe.skipIf(!root || !native || wrkReason !== undefined)('wrk cross-check (root, wrk installed)', () => {
  it('the responder answers wrk over HTTP through the VIP and directly; both tools report a per-connection cycle and what the VIP adds', async () => {
    await withDnatSandbox(async (sb) => {
      const responder = startResponder(sb, { tcp: [8080] });
      const direct: FlowTarget = { service: 'none/direct', ip: '172.16.0.1', port: 8080, endpoints: ['172.16.0.1'] };
      try {
        const r = await crossCheckTcpCrr(sb, A, responder, { rounds: 2, flowsPerRound: 300, wrkSeconds: 1, timeoutMs: 2000, reference: direct });
        expect(r.misrouted).toBe(0);
        expect(r.kscale.errors).toBe(0);
        expect(r.wrk.errors).toBe(0);
        // 300 a round through the VIP and 300 straight to the endpoint.
        expect(r.kscale.connections).toBe(1200);
        expect(r.wrk.connections).toBeGreaterThan(100);
        // Every response wrk counted was answered by the responder (it may have answered one more wrk cut off at the end).
        expect(r.responderAnsweredForWrk - r.wrk.connections).toBeGreaterThanOrEqual(0);
        expect(r.responderAnsweredForWrk - r.wrk.connections).toBeLessThanOrEqual(2);
        expect(r.kscale.cycleUs.length).toBe(598);
        expect(Number.isFinite(r.ratio) && r.ratio > 0).toBe(true);
        const d = r.reference;
        expect(d).toBeDefined();
        // Both tools' direct cycles were measured, and the VIP costs are their differences from the VIP cycles.
        expect(d?.kscaleMedianCycleUs).toBeGreaterThan(0);
        expect(d?.wrkMedianCycleUs).toBeGreaterThan(0);
        expect(d?.kscaleDeltaUs).toBeCloseTo(r.kscale.medianCycleUs - (d?.kscaleMedianCycleUs ?? 0), 6);
        expect(d?.wrkDeltaUs).toBeCloseTo(r.wrk.medianCycleUs - (d?.wrkMedianCycleUs ?? 0), 6);
        process.stderr.write(
          `cross-check through iptables-nft DNAT: kscale cycle median ${r.kscale.medianCycleUs.toFixed(1)} µs, wrk ${r.wrk.medianCycleUs.toFixed(1)} µs, ratio ${r.ratio.toFixed(3)}; ` +
            `VIP cost kscale ${d?.kscaleDeltaUs.toFixed(1)} µs, wrk ${d?.wrkDeltaUs.toFixed(1)} µs\n`,
        );
      } finally {
        responder.stop();
      }
    });
  });
});
