// How fast this machine is right now, in one number the gate can divide by: a
// fixed CPU-bound loop (integer hashing over a small array, no allocation, no
// syscalls), timed in the same run as everything else. On a shared or slower
// host every CPU-bound measurement moves with it, so the gate compares ratios.
import { performance } from 'node:perf_hooks';
import type { ProfileName, Suite } from '../../src/bench/types.js';
import { summarize } from '../../src/stats/summary.js';

const SAMPLES: Record<ProfileName, number> = { smoke: 10, quick: 25, full: 25, ci: 30 };
const ITERATIONS = 2_000_000;

/** The loop: xorshift32 into a 4 KiB table; returns a checksum so the JIT cannot drop it. */
export function calibrationLoop(iterations: number): number {
  const table = new Uint32Array(1024);
  let x = 2463534242;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const slot = (x >>> 0) & 1023;
    table[slot] = ((table[slot] ?? 0) + (x >>> 0)) >>> 0;
  }
  let sum = 0;
  for (const v of table) sum = (sum + v) >>> 0;
  return sum;
}

export const calibrationSuite: Suite = {
  name: 'calibration',
  description: 'a fixed CPU-bound loop, so a comparison with a baseline can correct for a slower machine',
  steps: () => 1,
  async run(ctx) {
    ctx.progress.step('calibration: fixed CPU loop');
    calibrationLoop(ITERATIONS); // warm-up: let the JIT compile it first
    const samples: number[] = [];
    let checksum = 0;
    for (let i = 0; i < SAMPLES[ctx.profile.name]; i++) {
      const t0 = performance.now();
      checksum ^= calibrationLoop(ITERATIONS);
      samples.push(performance.now() - t0);
    }
    ctx.record({ suite: 'calibration', name: 'cpu-loop', unit: 'ms', params: { iterations: ITERATIONS }, status: 'ok', samples, summary: summarize(samples), extra: { checksum } });
  },
};
