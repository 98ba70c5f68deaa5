import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { containerResourceProblem, isExtendedResourceName, milliValue, nodeResourceProblem, parseQuantity, resourceAmount, value } from '../../src/scheduler/quantity.js';

describe('resource quantities', () => {
  it('parses cpu to millicores, rounding up like MilliValue()', () => {
    expect(milliValue('100m')).toBe(100);
    expect(milliValue('1.5')).toBe(1500);
    expect(milliValue('2')).toBe(2000);
    expect(milliValue('1e3')).toBe(1_000_000);
    expect(milliValue('0.0001')).toBe(1); // 0.1m rounds up to 1m
    expect(milliValue('250u')).toBe(1);
    expect(milliValue('.5')).toBe(500);
  });

  it('parses binary and decimal suffixes exactly to bytes like Value()', () => {
    expect(value('2Gi')).toBe(2 * 1024 ** 3);
    expect(value('500Mi')).toBe(500 * 1024 ** 2);
    expect(value('1e3')).toBe(1000);
    expect(value('1E3')).toBe(1000);
    expect(value('128974848')).toBe(128974848);
    expect(value('129e6')).toBe(129_000_000);
    expect(value('123Mi')).toBe(128974848);
    expect(value('1.5Gi')).toBe(1610612736);
    expect(value('1k')).toBe(1000);
    expect(value('1Ki')).toBe(1024);
    expect(value('1M')).toBe(1_000_000);
    expect(parseQuantity('1E')).toEqual({ num: 10n ** 18n, den: 1n }); // exa, not an exponent
    expect(value('1P')).toBe(1e15);
    expect(value('2.5')).toBe(3); // rounds up
    expect(value('100m')).toBe(1);
  });

  it('keeps values exact as rationals', () => {
    expect(parseQuantity('1.25Ki')).toEqual({ num: 128000n, den: 100n });
    expect(parseQuantity('5e-3')).toEqual({ num: 5n, den: 1000n });
  });

  it('rejects malformed quantities with an InputError naming them', () => {
    for (const bad of ['', 'abc', '1.2.3', '1e', '1Zi', '--1', '1 Gi', 'Gi', '1ee3', '1e999']) {
      expect(() => parseQuantity(bad), bad).toThrow(InputError);
    }
    expect(() => resourceAmount('memory', '-1Gi', 'Pod a')).toThrow(/negative/);
    expect(() => resourceAmount('cpu', '1x', 'Pod a')).toThrow(/Pod a: cpu: quantity "1x"/);
  });
});

describe('what a container may request', () => {
  it('takes the standard container resources and domain-prefixed extended ones', () => {
    for (const r of ['cpu', 'memory', 'ephemeral-storage', 'hugepages-2Mi', 'nvidia.com/gpu', 'example.com/foo_bar.1']) expect(containerResourceProblem(r, '2'), r).toBeUndefined();
  });
  it('refuses what the API server refuses: wrong case, pods, no prefix, the kubernetes.io namespace, a bad name part', () => {
    for (const r of ['CPU', 'Memory', 'pods', 'gpu', 'kubernetes.io/gpu', 'foo.kubernetes.io/x', 'Example.com/gpu', 'example.com/', 'example.com/-x']) {
      expect(containerResourceProblem(r, '1'), r).toMatch(/is not a resource a container can request/);
    }
  });
  it('wants extended resources in whole units (value() would round 0.5 up to 1)', () => {
    expect(containerResourceProblem('nvidia.com/gpu', '0.5')).toMatch(/whole units, got "0.5"/);
    expect(containerResourceProblem('nvidia.com/gpu', '500m')).toMatch(/whole units/);
    expect(containerResourceProblem('nvidia.com/gpu', '1k')).toBeUndefined();
    expect(containerResourceProblem('cpu', '500m')).toBeUndefined();
  });
});

describe('what a Node may report (status.capacity, status.allocatable)', () => {
  it('takes any name, as the API server does: it checks amounts, not keys', () => {
    for (const r of ['cpu', 'CPU', 'gpu', 'kubernetes.io/batteries', 'Example.com/gpu', 'attachable-volumes-aws-ebs']) expect(nodeResourceProblem(r, '1.5'), r).toBeUndefined();
  });
  it('wants pods, other object counts and extended resources whole, by upstream\'s MilliValue() % 1000 test', () => {
    expect(nodeResourceProblem('pods', '1.5')).toMatch(/^pods: must be a whole number .*got "1\.5"$/);
    expect(nodeResourceProblem('example.com/gpu', '500m')).toMatch(/^example\.com\/gpu: must be a whole number/);
    expect(nodeResourceProblem('services', '0.5')).toMatch(/must be a whole number/);
    for (const ok of ['110', '1k', '2e3', '1000m']) expect(nodeResourceProblem('pods', ok), ok).toBeUndefined();
    // MilliValue rounds up: 0.9999 is 1000 milli-units, which upstream counts as whole.
    expect(nodeResourceProblem('pods', '0.9999')).toBeUndefined();
    // Exact in BigInt where milli-units overflow a double.
    expect(nodeResourceProblem('nvidia.com/gpu', '4e15')).toBeUndefined();
    expect(nodeResourceProblem('cpu', '1.5')).toBeUndefined();
  });
  it('knows an extended resource as upstream does: prefixed outside kubernetes.io, not requests.*, quota-nameable', () => {
    for (const r of ['nvidia.com/gpu', 'example.com/foo_bar.1']) expect(isExtendedResourceName(r), r).toBe(true);
    for (const r of ['gpu', 'CPU', 'kubernetes.io/gpu', 'foo.kubernetes.io/x', 'requests.example.com/gpu', 'a/b/c', `${'a'.repeat(245)}/gpu`]) {
      expect(isExtendedResourceName(r), r).toBe(false);
    }
    // 244 characters of prefix still fit "requests." in a 253-character subdomain.
    expect(isExtendedResourceName(`${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(61)}/gpu`)).toBe(true);
  });
});
