// The incremental engine's per-block best total and its count of holders,
// kept up to date one moved total at a time, must say what a recount says
// (or be stale, and then recounted when read).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockMaxima } from '../../src/scheduler/incremental.js';

describe('BlockMaxima', () => {
  it('after any sequence of moved totals, every block reads as a fresh recount', () => {
    // Few distinct values (and NaN: infeasible) so ties and fallen holders are common.
    const value = fc.oneof(fc.constant(Number.NaN), fc.integer({ min: 0, max: 3 }));
    fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.array(fc.tuple(fc.nat(), value), { maxLength: 400 }), (N, moves) => {
      const total = new Float64Array(N).fill(Number.NaN);
      const kept = new BlockMaxima(N);
      kept.refreshAll(total);
      for (const [at, now] of moves) {
        const n = at % N;
        const old = total[n] as number;
        total[n] = now;
        kept.moved(n, old, now);
      }
      const fresh = new BlockMaxima(N);
      fresh.refreshAll(total);
      for (let b = 0; b < fresh.max.length; b++) {
        expect(kept.of(total, b)).toBe(fresh.max[b]);
        expect(kept.count[b]).toBe(fresh.count[b]);
      }
    }), { numRuns: 300 });
  });

  it('counts the holders of a block best, and ignores infeasible (NaN) nodes', () => {
    const total = Float64Array.from([5, Number.NaN, 7, 7, 1]);
    const blocks = new BlockMaxima(total.length);
    blocks.refreshAll(total);
    expect([blocks.max[0], blocks.count[0]]).toEqual([7, 2]);
    blocks.moved(2, 7, 3); // a holder fell: stale until read
    expect(blocks.of(total.fill(3, 2, 3), 0)).toBe(7);
    expect(blocks.count[0]).toBe(1);
  });
});
