// Within-run ratios: machine speed cancels when a measurement is divided by a
// peer taken in the same run on the same machine at the same size — nftables
// sync over the other backends' sync at 1,000 Services, the pool scheduler over
// the reference scheduler on the same workload. The gate then compares those
// ratios between baseline and current, not raw medians.
//
// Each suite names the parameters that make a "group" (the code path a
// regression would be in: a backend, a scheduler mode, an eBPF flow kind). Two
// measurements are peers when they agree on everything else (suite, name, size,
// position…). A group's ratio at one point is its median over the geometric
// mean of its peers' medians (leave-one-out, so a slowdown of one backend shows
// in full on that backend instead of being diluted into the reference). A
// group's verdict pools all its points: the geometric mean of current ratio /
// baseline ratio, with a bootstrap interval over the points.
//
// What ratios cannot see: a slowdown shared by every group of a suite (it
// cancels, like a slower machine). The suite-mean gate (suites.ts) is there for that.
//
// Measured (2026-12-02, 2-core KVM, five back-to-back `ci` runs, the four
// same-build pairings): the largest move of a group's ratio between identical
// code was datapath 16%, eBPF prog-test-run 20%, scheduler 22%, render 45%,
// sync 93% (sync and render measure one backend after another, seconds apart,
// so a neighbour's burst hits one backend and not its peers: their noise does
// not cancel). At a 20% ratio threshold no datapath or eBPF group regressed in
// those pairings, and a 30% slowdown injected into one group was caught in
// 13 of 16 cases each. Single measurements do not get steadier this way
// (25–50% between identical runs however normalised), which is why ratios are
// pooled per group.
import type { Measurement, RunResults } from '../results/types.js';
import { median, mulberry32 } from '../stats/summary.js';
import { measurementKey } from './compare.js';

/** Which parameters name the group; `names` limits a rule to some measurement names. */
export interface RatioRule {
  suite: string;
  groupBy: readonly string[];
  names?: readonly string[];
}

/**
 * Where each suite defines its ratios. Only time units are used (rates of the
 * render suite are the same times again, and counts do not scale with the machine).
 */
export const RATIO_RULES: readonly RatioRule[] = [
  { suite: 'sync', groupBy: ['backend'] },
  { suite: 'datapath', groupBy: ['backend'], names: ['new-connection'] },
  { suite: 'render', groupBy: ['backend'], names: ['render-time'] },
  { suite: 'scheduler', groupBy: ['mode', 'workers', 'engine', 'batch'], names: ['pod-latency'] },
  // Miss, established, new and no-conntrack flows at the same size. (map-load's batched/one-by-one ratio, two
  // samples a side, moved by 128% between identical runs: too noisy to mean anything, so it has no rule.)
  { suite: 'ebpf', groupBy: ['flow', 'hit'], names: ['prog-test-run'] },
];

const TIME_UNIT = /^(ns|µs|us|ms|s)$/;

export interface RatioPoint {
  /** The peers' shared identity: the measurement key without the group parameters. */
  peers: string;
  baselineRatio: number;
  currentRatio: number;
}

export interface RatioVerdict {
  suite: string;
  /** The group's parameter values, e.g. "backend=nftables". */
  group: string;
  points: RatioPoint[];
  /** Geometric mean over the points of currentRatio / baselineRatio: 1.3 = 30% worse relative to its peers. */
  change: number;
  /** 95% bootstrap interval of `change`, resampling points (a single point: the point itself). */
  ci: { low: number; high: number };
  regressed: boolean;
}

interface Located {
  rule: RatioRule;
  group: string;
  peers: string;
  median: number;
}

function groupOf(rule: RatioRule, m: Measurement): string | undefined {
  if (m.suite !== rule.suite || (rule.names && !rule.names.includes(m.name))) return undefined;
  if (!rule.groupBy.some((p) => p in m.params)) return undefined;
  return rule.groupBy.map((p) => `${p}=${String(m.params[p] ?? '-')}`).join(',');
}

/** Per rule: peers identity → group → median, for the ok time measurements with samples. */
function locate(r: RunResults, rules: readonly RatioRule[]): Map<string, Map<string, number>>[] {
  return rules.map((rule) => {
    const byPeers = new Map<string, Map<string, number>>();
    for (const m of r.measurements) {
      if (m.status !== 'ok' || !m.samples?.length || !TIME_UNIT.test(m.unit)) continue;
      const group = groupOf(rule, m);
      if (group === undefined) continue;
      const params = Object.fromEntries(Object.entries(m.params).filter(([k]) => !rule.groupBy.includes(k)));
      const peers = measurementKey({ suite: m.suite, name: m.name, params });
      const med = median(m.samples);
      if (!(med > 0)) continue;
      const groups = byPeers.get(peers) ?? new Map<string, number>();
      groups.set(group, med);
      byPeers.set(peers, groups);
    }
    return byPeers;
  });
}

/** log(median of g / geometric mean of the other groups' medians), for every group of one peer set. */
function leaveOneOutLogRatios(groups: ReadonlyMap<string, number>): Map<string, number> {
  const logs = [...groups].map(([g, v]) => [g, Math.log(v)] as const);
  const sum = logs.reduce((s, [, l]) => s + l, 0);
  const k = logs.length;
  return new Map(logs.map(([g, l]) => [g, l - (sum - l) / (k - 1)]));
}

const RESAMPLES = 2000;

function bootstrapGeomean(logs: readonly number[], rng: () => number): { low: number; high: number } {
  const means = new Float64Array(RESAMPLES);
  for (let r = 0; r < RESAMPLES; r++) {
    let s = 0;
    for (let i = 0; i < logs.length; i++) s += logs[Math.floor(rng() * logs.length)] as number;
    means[r] = Math.exp(s / logs.length);
  }
  means.sort();
  return { low: means[Math.floor(0.025 * (RESAMPLES - 1))] as number, high: means[Math.ceil(0.975 * (RESAMPLES - 1))] as number };
}

/**
 * Per suite and group: how much its within-run ratio to its peers moved from
 * baseline to current, and whether that is a regression past `threshold`
 * (0.2 = 20% worse relative to the peers, with the interval above no change).
 * Peers are matched only where both runs have the same groups at that point.
 */
export function ratioVerdicts(baseline: RunResults, current: RunResults, threshold: number, opts: { rules?: readonly RatioRule[]; seed?: number } = {}): RatioVerdict[] {
  const rules = opts.rules ?? RATIO_RULES;
  const b = locate(baseline, rules);
  const c = locate(current, rules);
  const rng = mulberry32(opts.seed ?? 1);
  const out: RatioVerdict[] = [];
  rules.forEach((rule, i) => {
    const byGroup = new Map<string, RatioPoint[]>();
    for (const [peers, bGroups] of b[i] ?? []) {
      const cGroups = c[i]?.get(peers);
      if (!cGroups) continue;
      // The same groups on both sides, or the reference would differ between the runs.
      const shared = [...bGroups.keys()].filter((g) => cGroups.has(g));
      if (shared.length < 2) continue;
      const pick = (m: ReadonlyMap<string, number>): Map<string, number> => new Map(shared.map((g) => [g, m.get(g) as number]));
      const bl = leaveOneOutLogRatios(pick(bGroups));
      const cl = leaveOneOutLogRatios(pick(cGroups));
      for (const g of shared) {
        const list = byGroup.get(g) ?? [];
        list.push({ peers, baselineRatio: Math.exp(bl.get(g) as number), currentRatio: Math.exp(cl.get(g) as number) });
        byGroup.set(g, list);
      }
    }
    for (const [group, points] of [...byGroup].sort(([x], [y]) => x.localeCompare(y))) {
      const logs = points.map((p) => Math.log(p.currentRatio / p.baselineRatio));
      const change = Math.exp(logs.reduce((s, l) => s + l, 0) / logs.length);
      const ci = bootstrapGeomean(logs, rng);
      out.push({ suite: rule.suite, group, points, change, ci, regressed: change > 1 + threshold && ci.low > 1 });
    }
  });
  return out;
}

/** `enforced`: the suites whose ratio verdicts decide the exit code (all when absent); the others are marked. */
export function formatRatioVerdicts(verdicts: readonly RatioVerdict[], threshold: number, enforced?: ReadonlySet<string>): string {
  const pct = (x: number): string => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;
  const lines = verdicts.map((v) => `${v.regressed ? 'regressed' : 'ok       '}  ${`${v.suite} ${v.group}`.padEnd(44)} ${pct(v.change).padStart(7)} (95% CI ${pct(v.ci.low)} … ${pct(v.ci.high)})  over ${v.points.length} point${v.points.length === 1 ? '' : 's'}${enforced && !enforced.has(v.suite) ? '  (not enforced)' : ''}`);
  return [`within-run ratios (each group over its peers at the same size, current vs baseline, worse > 0; regression past ${(threshold * 100).toFixed(0)}% with the interval above 0):`, ...lines, ''].join('\n');
}
