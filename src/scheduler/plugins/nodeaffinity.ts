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

/** PreFilter's status when every term names nodes and no node is named by all of a term's requirements. */
export const REASON_TERMS_CONFLICT = 'pod affinity terms conflict';
/** The status of the nodes a PreFilter result left out (schedule_one.go findNodesThatFitPod). */
export const REASON_PREFILTER_SKIPPED = "node(s) didn't satisfy plugin(s) [NodeAffinity]";

/**
 * PreFilter's node names: when every required term names nodes
 * (matchFields metadata.name In, as a DaemonSet's pods do), the union over
 * the terms of each term's intersection of those names; the cycle then
 * examines only those nodes. null when some term (or none) names no node: all
 * nodes. Empty when the names conflict (REASON_TERMS_CONFLICT).
 */
export function preFilterNodeNames(required: NodeSelectorTerm[] | null): Set<string> | null {
  if (required === null || required.length === 0) return null;
  const union = new Set<string>();
  for (const t of required) {
    // A term's requirements are ANDed: the names every one of them lists.
    const lists = t.matchFields.filter((r) => r.key === 'metadata.name' && r.operator === 'In').map((r) => r.values);
    const named = lists.length === 0 ? null : lists.reduce((acc, values) => acc.filter((n) => values.includes(n)));
    // The terms are ORed: one term without names lets every node in.
    if (named === null) return null;
    for (const n of named) union.add(n);
  }
  return union;
}
