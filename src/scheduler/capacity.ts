// How many more copies of one pod the cluster takes, as it stands: the
// question kubernetes-sigs/cluster-capacity answers. Copies of the pod are
// scheduled one at a time through the same filter/score pipeline, each seeing
// the copies before it (its own spread and anti-affinity count them), until
// one fits no node: every later copy would fail the same way, since an
// unschedulable cycle changes nothing. Pure helpers; the command is
// `kscale schedule --cluster FILE… --pod FILE --capacity`.
import { InputError } from '../errors.js';
import type { ScheduleResult } from './scheduler.js';
import type { BuiltState } from './state.js';
import type { SchedNode, SchedPod } from './types.js';
import { LABEL_ZONE } from './types.js';

/** The most copies one run schedules (about 0.5 KB of state per pending pod). */
export const MAX_CAPACITY_COPIES = 2_000_000;

/**
 * Copies that can fit at most: the free pod slots (allocatable pods minus
 * the pods bound to each node, never below 0), plus one to see why the next
 * fails. Every copy takes a pod slot, so no more can be placed.
 */
export function podSlotsFree(nodes: readonly SchedNode[], bound: readonly SchedPod[]): number {
  const used = new Map<string, number>();
  for (const p of bound) used.set(p.nodeName, (used.get(p.nodeName) ?? 0) + 1);
  let free = 0;
  for (const n of nodes) free += Math.max(0, (n.allocatable.pods ?? 0) - (used.get(n.name) ?? 0));
  return free;
}

/** How many copies to queue: up to the free pod slots + 1, and at most `max` (then the answer may be "at least max"). */
export function copiesToTry(nodes: readonly SchedNode[], bound: readonly SchedPod[], max: number): number {
  if (!Number.isInteger(max) || max < 1 || max > MAX_CAPACITY_COPIES) throw new InputError('--max-copies', `must be an integer from 1 to ${MAX_CAPACITY_COPIES}, got ${max}`);
  return Math.min(max, podSlotsFree(nodes, bound) + 1);
}

/** `count` copies of the pod, named name-1, name-2, …: one pod class (they differ only in name). */
export function podCopies(pod: SchedPod, count: number): SchedPod[] {
  // New pods: a nomination (status.nominatedNodeName) was the original's alone.
  const { nominatedNodeName: _nominated, ...spec } = pod;
  return Array.from({ length: count }, (_, i) => ({ ...spec, name: `${pod.name}-${i + 1}` }));
}

export interface CapacityReport {
  pod: string;
  /** Copies placed before the first that fit nowhere. */
  copies: number;
  /** Copies queued (copiesToTry): when every one of them was placed, the cluster takes at least `copies`. */
  queued: number;
  /** Why the next copy fits nowhere (upstream's FitError message); null when all `queued` were placed. */
  stoppedBy: string | null;
  /** Copies per node that took any, most first (ties by name). */
  perNode: { node: string; copies: number }[];
  /** Copies per topology.kubernetes.io/zone (nodes without the label under ""). */
  perZone: Record<string, number>;
  /** Copies that went through a cycle (the placed ones and the one that fit nowhere), and how long that took. */
  scheduled: number;
  elapsedMs: number;
}

/** What the run of copies came to (pending: the copies' pod indices, in queue order). */
export function capacityReport(built: BuiltState, nodes: readonly SchedNode[], pod: SchedPod, result: ScheduleResult): CapacityReport {
  const { tables } = built.state;
  const onNode = new Map<number, number>();
  let copies = 0;
  let stoppedBy: string | null = null;
  for (let i = 0; i < result.scheduled; i++) {
    const n = result.placements[i] as number;
    if (n < 0) {
      stoppedBy = result.unschedulable[0]?.message ?? 'no node fits the pod';
      break;
    }
    copies++;
    onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const perNode = [...onNode].map(([n, c]) => ({ node: tables.nodeNames[n] as string, copies: c }))
    .sort((a, b) => b.copies - a.copies || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  const zoneOf = new Map(nodes.map((n) => [n.name, n.labels[LABEL_ZONE] ?? '']));
  const perZone: Record<string, number> = {};
  for (const { node, copies: c } of perNode) {
    const z = zoneOf.get(node) ?? '';
    perZone[z] = (perZone[z] ?? 0) + c;
  }
  return { pod: `${pod.namespace}/${pod.name}`, copies, queued: built.pending.length, stoppedBy, perNode, perZone, scheduled: result.scheduled, elapsedMs: result.elapsedMs };
}

/** The readable answer. */
export function formatCapacity(r: CapacityReport): string {
  const zones = Object.entries(r.perZone).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const most = r.perNode[0];
  return [
    r.stoppedBy === null
      ? `capacity: at least ${r.copies} more copies of ${r.pod} fit (all ${r.queued} queued were placed; raise --max-copies for the limit)`
      : `capacity: ${r.copies} more ${r.copies === 1 ? 'copy' : 'copies'} of ${r.pod} fit; the next: ${r.stoppedBy}`,
    ...(r.copies > 0 ? [
      `on ${r.perNode.length} node${r.perNode.length === 1 ? '' : 's'}, at most ${most?.copies ?? 0} on one (${most?.node ?? '-'})`
        + (zones.length > 1 || (zones[0] !== undefined && zones[0][0] !== '') ? `; per zone: ${zones.map(([z, c]) => `${z || '(no zone)'} ${c}`).join(', ')}` : ''),
    ] : []),
    `${r.scheduled} ${r.scheduled === 1 ? 'copy' : 'copies'} scheduled in ${r.elapsedMs.toFixed(0)} ms`,
    '',
  ].join('\n');
}
