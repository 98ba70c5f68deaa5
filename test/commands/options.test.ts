import { describe, expect, it } from 'vitest';
import { parseList, parseSize, parseSizeList } from '../../src/commands/options.js';
import { InputError } from '../../src/errors.js';

describe('CLI value parsing', () => {
  it('accepts sizes with k suffix', () => {
    expect(parseSizeList('services', '100,1k,10k', 100_000)).toEqual([100, 1000, 10000]);
  });
  it('rejects negative, non-numeric and oversized values naming the flag', () => {
    expect(() => parseSize('services', '-5', 10)).toThrow(InputError);
    expect(() => parseSize('services', '-5', 10)).toThrow(/--services: "-5" is not an integer/);
    expect(() => parseSize('services', 'abc', 10)).toThrow(/--services/);
    expect(() => parseSize('services', '11', 10)).toThrow(/maximum 10/);
  });
  it('rejects unknown list values listing the known ones', () => {
    expect(() => parseList('suites', 'fsync,nope', ['fsync', 'render'])).toThrow(/unknown value "nope" \(known: fsync, render\)/);
  });
});
