// How much one point's figure moves between independent runs of the same
// measurement: the datapath target is "the median of each point varies ≤ 5%
// across three runs". Pure functions over the runs' measurements; the
// script that runs them is scripts/datapath-repeatability.mjs.
import type { Measurement } from '../results/types.js';
import { median } from './summary.js';

/** One point across the runs: its figure per run, in run order. */
export interface RepeatPoint {
  key: string;
  values: number[];
  mean: number;
  /** (max − min) / mean: 0.05 = the runs span 5% of their mean. */
  spread: number;
}

export interface Repeatability {
  /** Points present (and ok) in every run, in the first run's order. */
  points: RepeatPoint[];
  /** Points missing, failed or without the figure in some run. */
  incomplete: string[];
  /** Points whose spread exceeds the threshold. */
  over: string[];
  medianSpread: number;
  worst: RepeatPoint | null;
}

/**
 * The points of several runs matched by key (null: not a point), each
 * figure taken by `value` (undefined or not finite: the point has no figure
 * in that run, and is incomplete).
 */
export function repeatability(
  runs: readonly (readonly Measurement[])[], key: (m: Measurement) => string | null, value: (m: Measurement) => number | undefined, threshold: number,
): Repeatability {
  const order: string[] = [];
  const byKey = new Map<string, (number | undefined)[]>();
  runs.forEach((run, r) => {
    for (const m of run) {
      const k = key(m);
      if (k === null) continue;
      let vs = byKey.get(k);
      if (!vs) {
        vs = new Array<number | undefined>(runs.length).fill(undefined);
        byKey.set(k, vs);
        order.push(k);
      }
      const v = m.status === 'ok' ? value(m) : undefined;
      vs[r] = v !== undefined && Number.isFinite(v) ? v : undefined;
    }
  });
  const points: RepeatPoint[] = [];
  const incomplete: string[] = [];
  for (const k of order) {
    const vs = byKey.get(k) as (number | undefined)[];
    if (vs.some((v) => v === undefined)) {
      incomplete.push(k);
      continue;
    }
    const values = vs as number[];
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    points.push({ key: k, values, mean, spread: mean === 0 ? 0 : (Math.max(...values) - Math.min(...values)) / Math.abs(mean) });
  }
  const worst = points.reduce<RepeatPoint | null>((w, p) => (w === null || p.spread > w.spread ? p : w), null);
  return {
    points, incomplete, over: points.filter((p) => p.spread > threshold).map((p) => p.key),
    medianSpread: points.length > 0 ? median(points.map((p) => p.spread)) : Number.NaN, worst,
  };
}

/** A datapath new-connection point's key: backend, Services, position and protocol (and batch when batched). */
export function datapathPointKey(m: Measurement): string | null {
  if (m.suite !== 'datapath' || m.name !== 'new-connection') return null;
  const p = m.params;
  return [p.backend, p.services, p.position, p.proto, ...(p.batch !== undefined ? [`batch ${String(p.batch)}`] : [])].join(' ');
}
