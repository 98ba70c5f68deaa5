// A pod's effective requests, as upstream computes them (resourcehelper.PodRequests):
// max(Σ containers, each init container) + overhead, per resource; and the
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

export function podRequests(containers: ContainerRequests[], initContainers: ContainerRequests[] = [], overhead: ContainerRequests = {}, subject = 'pod'): PodRequests {
  const parsed = containers.map((c) => parse(c, subject));
  const init = initContainers.map((c) => parse(c, subject));
  const total: Record<string, number> = {};
  for (const c of parsed) for (const [r, v] of Object.entries(c)) total[r] = (total[r] ?? 0) + v;
  for (const c of init) for (const [r, v] of Object.entries(c)) total[r] = Math.max(total[r] ?? 0, v);
  const nz = (c: Record<string, number>): [number, number] => [
    Object.hasOwn(c, 'cpu') ? (c.cpu as number) : DEFAULT_MILLI_CPU_REQUEST,
    Object.hasOwn(c, 'memory') ? (c.memory as number) : DEFAULT_MEMORY_REQUEST,
  ];
  let cpu = 0;
  let memory = 0;
  for (const c of parsed) { const [a, b] = nz(c); cpu += a; memory += b; }
  for (const c of init) { const [a, b] = nz(c); cpu = Math.max(cpu, a); memory = Math.max(memory, b); }
  const over = parse(overhead, subject);
  for (const [r, v] of Object.entries(over)) total[r] = (total[r] ?? 0) + v;
  return { requests: total, nonZeroRequests: { cpu: cpu + (over.cpu ?? 0), memory: memory + (over.memory ?? 0) } };
}
