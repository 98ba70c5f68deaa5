// PreFilter/PreScore reuse per-thread working arrays from one cycle to the
// next (context.ts scratchCounts). Every path (reference, pool, incremental)
// shares that code, so comparing paths cannot catch a stale array: here each
// cycle's per-domain counts on a long-lived thread context are compared with
// those of a fresh context that never ran a cycle, over a run whose commits
// move the counts between pods of every class.
import { describe, expect, it } from 'vitest';
import { createThreadCtx } from '../../src/scheduler/context.js';
import type { ThreadCtx } from '../../src/scheduler/context.js';
import { prepareCycle } from '../../src/scheduler/framework.js';
import { buildState, commitPod } from '../../src/scheduler/state.js';
import { generateNodes, generatePods } from '../../src/scheduler/synthetic.js';
import type { SchedPod } from '../../src/scheduler/types.js';

const web = { matchLabels: { tier: 'web' }, matchExpressions: [] };
const zone = 'topology.kubernetes.io/zone';

/**
 * Pods that reach the summed arrays the synthetic workloads do not: a
 * selector over several label sets (two web apps), a spread constraint over
 * the nodes of one region only, and two preferred terms on one key whose
 * first (weight 1) is a view of the shared counts until the second is added.
 */
function crafted(template: SchedPod, i: number): SchedPod {
  const base = { ...template, name: `crafted-${i}`, namespace: 'default', spreadSelector: null, topologySpreadConstraints: [], podAffinity: { required: [], preferred: [] }, podAntiAffinity: { required: [], preferred: [] } };
  switch (i % 3) {
    case 0: return { ...base, labels: { tier: 'web', app: `web-${(i >> 2) % 2}` } };
    case 1: return {
      ...base, labels: { app: 'regional' }, nodeSelector: { 'topology.kubernetes.io/region': 'region-0' },
      topologySpreadConstraints: [{ maxSkew: 50, topologyKey: zone, whenUnsatisfiable: 'DoNotSchedule', labelSelector: web, minDomains: 1 },
        { maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: web, minDomains: 1 }],
    };
    default: return {
      ...base, labels: { app: 'near-web' },
      podAffinity: { required: [], preferred: [{ weight: 1, podAffinityTerm: { labelSelector: web, namespaces: ['default'], topologyKey: zone } },
        { weight: 3, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web-0' }, matchExpressions: [] }, namespaces: ['default'], topologyKey: zone } }] },
    };
  }
}

/** Every per-domain count array a cycle prepared, copied out, by where it came from. */
function counts(ctx: ThreadCtx, pod: number): Record<string, number[]> {
  const c = prepareCycle(ctx, pod);
  const out: Record<string, number[]> = {};
  // Domain 0 ("label absent") is never read (see domainCounts).
  const keep = (name: string, arr: Int32Array | null): void => { if (arr !== null) out[name] = Array.from(arr.subarray(1)); };
  c.spreadHard.forEach((s, i) => keep(`hard ${i}`, s.domCount));
  c.spreadSoft.forEach((s, i) => keep(`soft ${i}`, s.domCount));
  const a = c.affinity;
  for (const [list, entries] of Object.entries({ existingAnti: a.existingAnti, affinity: a.affinity, anti: a.anti, score: a.score })) {
    for (const e of entries) keep(`${list} key ${e.k}`, e.arr);
  }
  return out;
}

describe('per-cycle working arrays', () => {
  it('a thread that ran earlier cycles prepares the same counts as a fresh one, pod after pod of every class', () => {
    const mixed = generatePods('mixed', 2400, 5);
    // One crafted pod after every fourth synthetic one.
    const pods = mixed.flatMap((p, i) => (i % 4 === 3 ? [p, crafted(p, i)] : [p]));
    const b = buildState(generateNodes(300, 5), pods);
    const { state: st, pending } = b;
    const ctx = createThreadCtx(st);
    const kinds = new Set<string>();
    pending.forEach((pod, i) => {
      const used = counts(ctx, pod);
      expect(used, `pod ${i}`).toEqual(counts(createThreadCtx(st), pod));
      for (const k of Object.keys(used)) kinds.add(k.replace(/ \d+$/, ''));
      // Any node will do: only the counts the next cycles read matter here.
      commitPod(st, pod, (i * 7) % st.N);
    });
    expect(pending.length).toBe(3000);
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['hard', 'soft', 'score key', 'existingAnti key']));
  });
});
