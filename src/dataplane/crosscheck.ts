// Cross-check of the native generator against a real client from Debian: wrk,
// with `Connection: close`, through the same VIP in the same sandbox.
//
// Why wrk and this quantity: the headline is the cost of a *new* connection.
// sockperf's ping-pong keeps one socket (one 5-tuple) for the whole run, so
// after its first packet every message is a conntrack hit — it cannot measure
// a first packet. wrk with `Connection: close` opens one TCP connection per
// request, as kscale's TCP CRR does. wrk times only request→response (its
// clock starts after connect), so the comparable quantity is the whole
// connection cycle: with one connection at a time, the gap between two
// consecutive answers is one socket set-up + handshake (the SYN walks the
// node's rules) + request/response + close. kscale takes it from its per-flow
// start and answer times; wrk from a monotonic timestamp in its Lua response()
// hook (LuaJIT FFI clock_gettime). The native responder answers wrk's HTTP
// request with a minimal HTTP/1.1 200 and closes, exactly as it answers
// kscale's one byte, so both clients drive the same server on the same
// endpoint addresses.
//
// Both run back to back on the same CPU (taskset, when the generator is
// pinned), alternating which goes first, several rounds, conntrack flushed
// before each; the rounds' intervals are pooled per tool and the medians
// compared (ratio wrk / kscale).
//
// The raw cycles differ by each tool's own per-connection work (wrk's event
// loop and HTTP parsing against kscale's bare sockets), so they need not
// agree. What must agree is what the dataplane adds: with a `reference`
// target (the first Service of an iptables KUBE-SERVICES list when the
// target is the last, or an endpoint addressed directly), each tool's cycle
// to the reference is subtracted from its cycle to the target, and the two
// tools' differences are compared.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { exec } from '../host/exec.js';
import { median } from '../stats/summary.js';
import type { Sandbox } from './sandbox.js';
import { flushConntrack, pinningPlan, runTcpCrr } from './traffic.js';
import type { FlowTarget, Responder } from './traffic.js';

/** wrk's Lua: a monotonic timestamp per response, collected from the (single) thread and printed as one JSON line. */
export const WRK_SCRIPT = `
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } kscale_timespec;
int clock_gettime(int clk, kscale_timespec *ts);
]]
local ts = ffi.new("kscale_timespec")
stamps = {}
bad = 0
local n = 0
function response(status, headers, body)
  ffi.C.clock_gettime(1, ts)
  n = n + 1
  stamps[n] = tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
  if status ~= 200 then bad = bad + 1 end
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local parts, nonOk = {}, 0
  for _, t in ipairs(threads) do
    for _, v in ipairs(t:get("stamps")) do parts[#parts + 1] = string.format("%.3f", v) end
    nonOk = nonOk + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format('KSCALE-WRK {"requests":%d,"durationUs":%d,"errors":%d,"nonOk":%d,"latencyP50Us":%.3f,"stampsUs":[%s]}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout, nonOk,
    latency:percentile(50), table.concat(parts, ",")))
end
`;

export interface WrkRound {
  requests: number;
  durationUs: number;
  errors: number;
  nonOk: number;
  /** wrk's own latency (request written → response), µs. */
  latencyP50Us: number;
  /** Response timestamps, µs (CLOCK_MONOTONIC). */
  stampsUs: number[];
}

/** The JSON line the script prints; throws when wrk's output has none. */
export function parseWrkOutput(stdout: string): WrkRound {
  const line = stdout.split('\n').find((l) => l.startsWith('KSCALE-WRK '));
  if (!line) throw new Error(`wrk printed no KSCALE-WRK line: ${stdout.trim().slice(-300)}`);
  const doc = JSON.parse(line.slice('KSCALE-WRK '.length)) as Partial<WrkRound>;
  const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : Number.NaN);
  return {
    requests: num(doc.requests),
    durationUs: num(doc.durationUs),
    errors: num(doc.errors),
    nonOk: num(doc.nonOk),
    latencyP50Us: num(doc.latencyP50Us),
    stampsUs: Array.isArray(doc.stampsUs) ? doc.stampsUs.filter((x): x is number => typeof x === 'number') : [],
  };
}

/** Gaps between consecutive timestamps, µs. */
export function gapsUs(stampsUs: readonly number[]): number[] {
  const sorted = [...stampsUs].sort((a, b) => a - b);
  return sorted.slice(1).map((t, i) => t - (sorted[i] as number));
}

/** Why wrk cannot run here, or undefined when it can. */
export async function wrkMissing(): Promise<string | undefined> {
  const r = await exec('wrk', ['--version'], { timeoutMs: 10_000 });
  if (r.code === 127) return 'wrk not installed (Debian package wrk)';
  return /wrk/.test(r.stdout + r.stderr) ? undefined : `wrk --version printed nothing recognisable (exit ${r.code})`;
}

export interface CrossCheckOptions {
  rounds: number;
  /** kscale flows per round. */
  flowsPerRound: number;
  /** wrk's duration per round, seconds. */
  wrkSeconds: number;
  timeoutMs: number;
  /** A second target measured the same way, so each tool's difference (target − reference) can be compared. */
  reference?: FlowTarget;
}

export interface CrossCheckSide {
  /** Per-connection cycle (answer to next answer), µs, pooled over rounds. */
  cycleUs: number[];
  medianCycleUs: number;
  /** Median cycle of each round. */
  roundMediansUs: number[];
  /** Connections answered and lost, over every round (the reference's included). */
  connections: number;
  errors: number;
}

export interface CrossCheckResult {
  kscale: CrossCheckSide & { /** connect() → answer, µs. */ medianConnectToAnswerUs: number };
  wrk: CrossCheckSide & { /** wrk's request → response, µs. */ medianRequestToResponseUs: number };
  /** wrk's median cycle over kscale's. */
  ratio: number;
  /** Hits the responder counted outside the target's endpoints (must be 0). */
  misrouted: number;
  /** Responses wrk counted against the requests the responder answered in its rounds. */
  wrkResponses: number;
  responderAnsweredForWrk: number;
  wrkPinnedCpu: number;
  /** With options.reference: both tools' cycles to it, and what the target costs over it for each. */
  reference?: {
    kscaleMedianCycleUs: number;
    wrkMedianCycleUs: number;
    /** kscale's median cycle to the target minus to the reference, µs. */
    kscaleDeltaUs: number;
    wrkDeltaUs: number;
    /** wrk's difference over kscale's: near 1 when both see the same dataplane cost. */
    deltaRatio: number;
  };
}

async function wrkRound(sandbox: Pick<Sandbox, 'client' | 'exec'>, target: FlowTarget, seconds: number, timeoutMs: number, script: string, cpu: number): Promise<WrkRound> {
  const wrkArgs = ['-t1', '-c1', `-d${seconds}s`, `--timeout`, `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`, '-H', 'Connection: close', '-s', script, `http://${target.ip}:${target.port}/`];
  const [cmd, args] = cpu >= 0 ? ['taskset', ['-c', String(cpu), 'wrk', ...wrkArgs]] : ['wrk', wrkArgs];
  const r = await sandbox.exec(sandbox.client, cmd, args, { timeoutMs: seconds * 1000 + 30_000 });
  if (r.code !== 0) throw new Error(`wrk exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
  return parseWrkOutput(r.stdout);
}

/** What the target costs over the reference for each tool (median cycles, µs), and how the two agree. */
export function referenceDeltas(kTarget: number, wTarget: number, kRef: number, wRef: number): NonNullable<CrossCheckResult['reference']> {
  const kscaleDeltaUs = kTarget - kRef;
  const wrkDeltaUs = wTarget - wRef;
  return { kscaleMedianCycleUs: kRef, wrkMedianCycleUs: wRef, kscaleDeltaUs, wrkDeltaUs, deltaRatio: wrkDeltaUs / kscaleDeltaUs };
}

/**
 * kscale's TCP CRR and wrk against one target, one connection at a time,
 * alternating, `rounds` times. The responder must serve TCP on the target's endpoints.
 */
export async function crossCheckTcpCrr(sandbox: Pick<Sandbox, 'client' | 'node' | 'exec'>, target: FlowTarget, responder: Responder, o: CrossCheckOptions): Promise<CrossCheckResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kscale-wrk-'));
  const script = join(dir, 'cycle.lua');
  writeFileSync(script, WRK_SCRIPT);
  const cpu = pinningPlan(availableParallelism()).generator;
  const k = { cycleUs: [] as number[], roundMediansUs: [] as number[], connectUs: [] as number[], connections: 0, errors: 0 };
  const w = { cycleUs: [] as number[], roundMediansUs: [] as number[], reqUs: [] as number[], connections: 0, errors: 0 };
  // Cycles to the reference, per tool (only with o.reference).
  const kRef: number[] = [];
  const wRef: number[] = [];
  const endpoints = new Set([...target.endpoints, ...(o.reference?.endpoints ?? [])]);
  let misrouted = 0;
  let answeredForWrk = 0;
  const countHits = (): void => {
    for (const [addr, n] of responder.hits()) if (!endpoints.has(addr)) misrouted += n;
  };
  const kscaleRound = async (to: FlowTarget): Promise<number[]> => {
    const run = await runTcpCrr(sandbox, [to], { count: o.flowsPerRound, warmup: Math.min(50, o.flowsPerRound), timeoutMs: o.timeoutMs, window: 1, responder });
    countHits();
    k.connections += run.answered;
    k.errors += run.timeouts + run.errors;
    if (to === target) k.connectUs.push(...run.latencyUs);
    return run.cycleUs;
  };
  const wrkSide = async (to: FlowTarget): Promise<{ gaps: number[]; latencyP50Us: number }> => {
    await flushConntrack(sandbox);
    responder.reset();
    const r = await wrkRound(sandbox, to, o.wrkSeconds, o.timeoutMs, script, cpu);
    countHits();
    answeredForWrk += responder.totals().tcp;
    w.connections += r.requests;
    w.errors += r.errors + r.nonOk;
    return { gaps: gapsUs(r.stampsUs), latencyP50Us: r.latencyP50Us };
  };
  try {
    for (let round = 0; round < o.rounds; round++) {
      const sides = round % 2 === 0 ? ['kscale', 'wrk'] : ['wrk', 'kscale'];
      for (const side of sides) {
        if (side === 'kscale') {
          const cycles = await kscaleRound(target);
          k.cycleUs.push(...cycles);
          k.roundMediansUs.push(median(cycles));
          if (o.reference) kRef.push(...(await kscaleRound(o.reference)));
        } else {
          const r = await wrkSide(target);
          w.cycleUs.push(...r.gaps);
          w.roundMediansUs.push(median(r.gaps));
          w.reqUs.push(r.latencyP50Us);
          if (o.reference) wRef.push(...(await wrkSide(o.reference)).gaps);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const kMedian = median(k.cycleUs);
  const wMedian = median(w.cycleUs);
  const reference = o.reference === undefined ? undefined : referenceDeltas(kMedian, wMedian, median(kRef), median(wRef));
  return {
    ...(reference === undefined ? {} : { reference }),
    kscale: { cycleUs: k.cycleUs, medianCycleUs: kMedian, roundMediansUs: k.roundMediansUs, connections: k.connections, errors: k.errors, medianConnectToAnswerUs: median(k.connectUs) },
    wrk: { cycleUs: w.cycleUs, medianCycleUs: wMedian, roundMediansUs: w.roundMediansUs, connections: w.connections, errors: w.errors, medianRequestToResponseUs: median(w.reqUs) },
    ratio: wMedian / kMedian,
    misrouted,
    wrkResponses: w.connections,
    responderAnsweredForWrk: answeredForWrk,
    wrkPinnedCpu: cpu,
  };
}
