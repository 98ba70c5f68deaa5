import { describe, expect, it } from 'vitest';
import { collector } from '../../src/host/gc.js';

describe('collector', () => {
  it('gives a gc() that reclaims dropped garbage, without --expose-gc on the command line', () => {
    const gc = collector();
    if (gc === null) throw new Error('no gc() could be exposed');
    gc();
    const before = process.memoryUsage().heapUsed;
    let garbage: number[][] | null = Array.from({ length: 200_000 }, (_, i) => [i, i + 1, i + 2]);
    const held = process.memoryUsage().heapUsed;
    expect(held - before).toBeGreaterThan(10 * 1024 * 1024);
    garbage = null;
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan((held - before) / 4);
    expect(collector()).toBe(gc);
  });
});
