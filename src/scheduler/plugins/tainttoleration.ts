// TaintToleration (filter + score, weight 3). Filter: the first NoSchedule or
// NoExecute taint the pod does not tolerate rejects the node. Score: the number
// of PreferNoSchedule taints not tolerated, normalized in reverse (fewest → 100).
import type { Taint, Toleration } from '../types.js';

/** v1 Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect !== '' && t.effect !== taint.effect) return false;
  if (t.key !== '' && t.key !== taint.key) return false;
  return t.operator === 'Exists' || t.value === taint.value;
}

/** Index of the first untolerated NoSchedule/NoExecute taint, or -1. */
export function firstUntoleratedTaint(taints: Taint[], tolerations: Toleration[]): number {
  for (let i = 0; i < taints.length; i++) {
    const taint = taints[i] as Taint;
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!tolerations.some((t) => toleratesTaint(t, taint))) return i;
  }
  return -1;
}

export function untoleratedTaintReason(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value}}`;
}

/** countIntolerableTaintsPreferNoSchedule: only tolerations with effect PreferNoSchedule or '' count. */
export function intolerablePreferNoSchedule(taints: Taint[], tolerations: Toleration[]): number {
  const relevant = tolerations.filter((t) => t.effect === '' || t.effect === 'PreferNoSchedule');
  let n = 0;
  for (const taint of taints) if (taint.effect === 'PreferNoSchedule' && !relevant.some((t) => toleratesTaint(t, taint))) n++;
  return n;
}

export const TAINT_TOLERATION_WEIGHT = 3;
