import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutputDir, checkOutputFile, parseList, parseSize, parseSizeList } from '../../src/commands/options.js';
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
  it('checks an output file before the run: its directory exists, and it is not one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-out-'));
    expect(checkOutputFile('placements', join(dir, 'p.txt'))).toBe(join(dir, 'p.txt'));
    expect(() => checkOutputFile('placements', join(dir, 'missing', 'p.txt'))).toThrow(/^--placements: directory .*missing does not exist$/);
    expect(() => checkOutputFile('placements', dir)).toThrow(/--placements: .* is a directory/);
    writeFileSync(join(dir, 'f'), '');
    expect(() => checkOutputFile('placements', join(dir, 'f', 'p.txt'))).toThrow(/--placements: .*f is not a directory/);
  });
  it('checks an output directory: it may be missing (it is created), but nothing on its path may be a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-outdir-'));
    writeFileSync(join(dir, 'f'), '');
    expect(checkOutputDir('out', join(dir, 'new', 'runs'))).toBe(join(dir, 'new', 'runs'));
    expect(() => checkOutputDir('out', join(dir, 'f'))).toThrow(/^--out: .*f is not a directory$/);
    expect(() => checkOutputDir('data-dir', join(dir, 'f', 'x'))).toThrow(/^--data-dir: .*x: .*f is not a directory$/);
  });
});
