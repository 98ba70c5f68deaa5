// NodeResourcesFit (filter + LeastAllocated score over cpu and memory, weight 1)
// and NodeResourcesBalancedAllocation (score, weight 1).
import { MAX_NODE_SCORE } from './helper.js';

export const FIT_WEIGHT = 1;
export const BALANCED_WEIGHT = 1;

/** leastRequestedScore: the free fraction × 100, integer; 0 when over capacity or without capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** LeastAllocated over resources with weights; resources with no allocatable are skipped. */
export function leastAllocatedScore(requested: ArrayLike<number>, allocatable: ArrayLike<number>, weights: ArrayLike<number>): number {
  let score = 0;
  let weightSum = 0;
  for (let i = 0; i < requested.length; i++) {
    const a = allocatable[i] as number;
    if (a === 0) continue;
    const w = weights[i] as number;
    score += leastRequestedScore(requested[i] as number, a) * w;
    weightSum += w;
  }
  return weightSum === 0 ? 0 : Math.trunc(score / weightSum);
}

/** balancedResourceScorer: (1 - std of the used fractions) × 100, fractions capped at 1. */
export function balancedAllocationScore(requested: ArrayLike<number>, allocatable: ArrayLike<number>): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    const a = allocatable[i] as number;
    if (a === 0) continue;
    const f = Math.min((requested[i] as number) / a, 1);
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) std = Math.abs(((fractions[0] as number) - (fractions[1] as number)) / 2);
  else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const f of fractions) sum += (f - mean) * (f - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** leastAllocatedScore for cpu and memory with weight 1 each, without allocating (the hot path). */
export function leastAllocatedCpuMemory(reqCpu: number, allocCpu: number, reqMem: number, allocMem: number): number {
  let score = 0;
  let weights = 0;
  if (allocCpu !== 0) { score += leastRequestedScore(reqCpu, allocCpu); weights++; }
  if (allocMem !== 0) { score += leastRequestedScore(reqMem, allocMem); weights++; }
  return weights === 0 ? 0 : Math.trunc(score / weights);
}

/** balancedAllocationScore for cpu and memory, without allocating (the hot path). */
export function balancedCpuMemory(reqCpu: number, allocCpu: number, reqMem: number, allocMem: number): number {
  if (allocCpu === 0 || allocMem === 0) return MAX_NODE_SCORE; // one fraction or none: std 0
  const f0 = Math.min(reqCpu / allocCpu, 1);
  const f1 = Math.min(reqMem / allocMem, 1);
  return Math.trunc((1 - Math.abs((f0 - f1) / 2)) * MAX_NODE_SCORE);
}

export const REASON_TOO_MANY_PODS = 'Too many pods';
export function insufficientReason(resource: string): string {
  return `Insufficient ${resource}`;
}
