// NodeAffinity (filter + score, weight 2). Filter: nodeSelector and the
// required node affinity terms. Score: the sum of the weights of the preferred
// terms the node matches, normalized so the best node gets 100.
import { matchNodeSelectorTerm, matchRequiredNodeAffinity } from '../labels.js';
import type { NodeSelectorTerm, PreferredSchedulingTerm } from '../types.js';

export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const NODE_AFFINITY_WEIGHT = 2;

export function nodeAffinityFits(nodeSelector: Record<string, string>, required: NodeSelectorTerm[] | null, labels: Record<string, string>, nodeName: string): boolean {
  return matchRequiredNodeAffinity(nodeSelector, required, labels, nodeName);
}

export function preferredNodeAffinityScore(preferred: PreferredSchedulingTerm[], labels: Record<string, string>, nodeName: string): number {
  let s = 0;
  for (const t of preferred) if (t.weight !== 0 && matchNodeSelectorTerm(t.preference, labels, nodeName)) s += t.weight;
  return s;
}
