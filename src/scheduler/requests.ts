// A pod's effective requests, as upstream computes them (resourcehelper.PodRequests):
// max(Σ containers, each init container) + overhead, per resource (sidecars
// counted as upstream does); and the
// "non-zero" variant LeastAllocated scores with, where a container that sets no
// cpu (memory) request counts as 100m (200 MB).
import { resourceAmount } from './quantity.js';
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST } from './types.js';

/** A container's requests as written: resource name → quantity string or number. */
export type ContainerRequests = Record<string, string | number>;

export interface PodRequests {
  requests: Record<string, number>;
  nonZeroRequests: { cpu: number; memory: number };
}

function parse(reqs: ContainerRequests, subject: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [r, q] of Object.entries(reqs)) out[r] = resourceAmount(r, q, subject);
  return out;
}

/**
 * resourcehelper.PodRequests over parsed containers. A restartable init
 * container (restartPolicy: Always, a sidecar) keeps running beside the app
 * containers, so it adds to the sum, and every later init container runs on
 * top of the sidecars started before it.
 */
function aggregate(containers: Record<string, number>[], init: Record<string, number>[], restartable: readonly boolean[]): Record<string, number> {
  const add = (into: Record<string, number>, c: Record<string, number>): void => {
    for (const [r, v] of Object.entries(c)) into[r] = (into[r] ?? 0) + v;
  };
  const total: Record<string, number> = {};
  for (const c of containers) add(total, c);
  const sidecars: Record<string, number> = {};
  const initMax: Record<string, number> = {};
  init.forEach((c, i) => {
    const during: Record<string, number> = {};
    if (restartable[i] === true) { add(total, c); add(sidecars, c); add(during, sidecars); }
    else { add(during, c); add(during, sidecars); }
    for (const [r, v] of Object.entries(during)) initMax[r] = Math.max(initMax[r] ?? 0, v);
  });
  for (const [r, v] of Object.entries(initMax)) total[r] = Math.max(total[r] ?? 0, v);
  return total;
}

/** `restartable[i]`: init container i has restartPolicy Always (a sidecar). */
export function podRequests(
  containers: ContainerRequests[], initContainers: ContainerRequests[] = [], overhead: ContainerRequests = {}, subject = 'pod',
  restartable: readonly boolean[] = [],
): PodRequests {
  const parsed = containers.map((c) => parse(c, subject));
  const init = initContainers.map((c) => parse(c, subject));
  const total = aggregate(parsed, init, restartable);
  // NonMissingContainerRequests: each container without a cpu (memory) request counts the default.
  const nz = (c: Record<string, number>): Record<string, number> => ({
    cpu: Object.hasOwn(c, 'cpu') ? (c.cpu as number) : DEFAULT_MILLI_CPU_REQUEST,
    memory: Object.hasOwn(c, 'memory') ? (c.memory as number) : DEFAULT_MEMORY_REQUEST,
  });
  const nonZero = aggregate(parsed.map(nz), init.map(nz), restartable);
  const over = parse(overhead, subject);
  for (const [r, v] of Object.entries(over)) total[r] = (total[r] ?? 0) + v;
  return { requests: total, nonZeroRequests: { cpu: (nonZero.cpu ?? 0) + (over.cpu ?? 0), memory: (nonZero.memory ?? 0) + (over.memory ?? 0) } };
}
