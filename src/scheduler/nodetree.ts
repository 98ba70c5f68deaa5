// The order kube-scheduler examines nodes in. Its cache keeps nodes per zone
// in the order they were added (for a cluster dump: the file's order, which
// kubectl sorts by name), and lists them round-robin over the zones, zones in
// order of their first node (backend/cache/node_tree.go list()). Every cycle's
// rotated order, and so the window the adaptive percentage examines, runs over
// that list: a dump whose nodes are grouped by zone would otherwise hand each
// pod a window of one or two zones.
import type { SchedNode } from './types.js';

const ZONE = 'topology.kubernetes.io/zone';
const REGION = 'topology.kubernetes.io/region';
const BETA_ZONE = 'failure-domain.beta.kubernetes.io/zone';
const BETA_REGION = 'failure-domain.beta.kubernetes.io/region';

/**
 * The node's zone key as the scheduler's cache groups by it (component-helpers
 * GetZoneKey): region and zone, each from the deprecated beta label when the
 * node has it (old nodes carry both), else from the GA one.
 */
export function zoneKey(labels: Record<string, string>): string {
  const zone = labels[BETA_ZONE] ?? labels[ZONE] ?? '';
  const region = labels[BETA_REGION] ?? labels[REGION] ?? '';
  // A NUL between the two, as upstream: a colon in either cannot make two keys collide.
  return region === '' && zone === '' ? '' : `${region}:\u0000:${zone}`;
}

/** The nodes in node-tree order: the first node of every zone, then every zone's second, and so on. */
export function nodeTreeOrder<T extends Pick<SchedNode, 'labels'>>(nodes: readonly T[]): T[] {
  const zones = new Map<string, T[]>();
  for (const n of nodes) {
    const key = zoneKey(n.labels);
    const list = zones.get(key);
    if (list === undefined) zones.set(key, [n]);
    else list.push(n);
  }
  const lists = [...zones.values()];
  const out: T[] = [];
  for (let i = 0; out.length < nodes.length; i++) for (const list of lists) if (i < list.length) out.push(list[i] as T);
  return out;
}
