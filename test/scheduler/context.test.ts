import { describe, expect, it } from 'vitest';
import { createThreadCtx, memoizeBounded } from '../../src/scheduler/context.js';
import { buildState } from '../../src/scheduler/state.js';
import { node } from './helpers.js';

describe('memoizeBounded', () => {
  it('keeps at most `capacity` values, the least recently used leaving first', () => {
    const ctx = createThreadCtx(buildState([node('n1', { cpu: 1000 })], []).state);
    const made: string[] = [];
    const get = (k: string) => memoizeBounded(ctx, 'test', k, 2, () => { made.push(k); return { k }; });
    const a = get('a');
    get('b');
    expect(get('a')).toBe(a); // a is now the most recent
    get('c'); // b leaves
    get('a');
    get('b'); // made again; c leaves
    expect(made).toEqual(['a', 'b', 'c', 'b']);
    get('c');
    expect(made).toEqual(['a', 'b', 'c', 'b', 'c']);
  });
});
