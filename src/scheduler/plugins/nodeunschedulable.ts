// NodeUnschedulable (filter): a node with spec.unschedulable admits only pods
// that tolerate the node.kubernetes.io/unschedulable:NoSchedule taint.
import type { Toleration } from '../types.js';
import { toleratesTaint } from './tainttoleration.js';

export const UNSCHEDULABLE_TAINT_KEY = 'node.kubernetes.io/unschedulable';
export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';

export function nodeUnschedulableFits(unschedulable: boolean, tolerations: Toleration[]): boolean {
  if (!unschedulable) return true;
  const taint = { key: UNSCHEDULABLE_TAINT_KEY, value: '', effect: 'NoSchedule' as const };
  return tolerations.some((t) => toleratesTaint(t, taint));
}
