import { describe, expect, it } from 'vitest';
import { podKey, podRef, podsPrefix, podValue } from '../../src/etcd/objects.js';

describe('Kubernetes-like pod objects', () => {
  it('are about 2.5 KB of valid Pod JSON', () => {
    for (const i of [0, 1, 777, 149_999]) {
      const ref = podRef(i);
      const v = podValue(ref, i);
      expect(v.length).toBeGreaterThan(2200);
      expect(v.length).toBeLessThan(2900);
      const pod = JSON.parse(v.toString('utf8')) as { kind: string; metadata: { name: string; namespace: string } };
      expect(pod.kind).toBe('Pod');
      expect(pod.metadata).toMatchObject({ name: ref.name, namespace: ref.namespace });
    }
  });

  it('are seeded: the same seed gives the same bytes, another seed other bytes', () => {
    const ref = podRef(5);
    expect(podValue(ref, 42).equals(podValue(ref, 42))).toBe(true);
    expect(podValue(ref, 42).equals(podValue(ref, 43))).toBe(false);
  });

  it('live under the API server layout, with distinct names', () => {
    const ref = podRef(123);
    expect(podKey('', ref.namespace, ref.name)).toMatch(/^\/registry\/pods\/ns-23\/app-p2-[0-9a-z]+$/);
    expect(podKey('/kscale/r1', ref.namespace, ref.name).startsWith(podsPrefix('/kscale/r1'))).toBe(true);
    const keys = new Set(Array.from({ length: 20_000 }, (_, i) => { const r = podRef(i); return `${r.namespace}/${r.name}`; }));
    expect(keys.size).toBe(20_000);
  });
});
