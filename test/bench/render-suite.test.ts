// The render suite end to end on a tiny profile, with a recording context.
import { describe, expect, it } from 'vitest';
import { renderOnce, renderSuite, RENDER_BACKENDS } from '../../bench/suites/render.js';
import { PROFILES } from '../../bench/profiles.js';
import { silentProgress } from '../../src/bench/progress.js';
import type { SuiteContext } from '../../src/bench/types.js';
import type { Measurement } from '../../src/results/types.js';
import { generateCluster } from '../../src/model/index.js';
import { DEFAULT_NODE_CONTEXT } from '../../src/model/types.js';

describe('render suite', () => {
  it('records time, rates, write ratio and memory per backend and size, and a kscale rules process\'s peak RSS at the largest', async () => {
    const recorded: Measurement[] = [];
    const profile = { ...PROFILES.smoke, render: { services: [40], endpointsPerService: [3], repeats: 2 } };
    const ctx = { profile, seed: 1, progress: silentProgress(), record: (m: Measurement) => recorded.push(m) } as unknown as SuiteContext;
    expect(renderSuite.steps(profile)).toBe(8);
    await renderSuite.run(ctx);
    expect(recorded.every((m) => m.status === 'ok')).toBe(true);
    for (const backend of RENDER_BACKENDS) {
      const mine = recorded.filter((m) => m.params.backend === backend);
      expect(mine.map((m) => m.name)).toEqual(['render-time', 'render-object-rate', 'render-byte-rate', 'render-vs-write', 'render-memory', 'render-peak-rss']);
      const time = mine[0];
      expect(time?.samples).toHaveLength(2);
      expect(time?.params).toEqual({ backend, services: 40, endpoints: 3, layout: 'kube-proxy-scale' });
      expect((time?.extra?.bytes as number) > 0).toBe(true);
      // The child rendered the same program (same size, layout and seed; IPVS's printed form adds section headers) and a Node process holds tens of MiB at least.
      const peak = mine[5];
      expect(peak?.params).toEqual(time?.params);
      expect(peak?.samples[0]).toBeGreaterThan(20);
      if (backend === 'iptables' || backend === 'nftables') expect(peak?.extra?.bytes, backend).toBe(time?.extra?.bytes);
    }
  });

  it('counts what each backend renders', () => {
    const model = generateCluster({ services: 10, endpointsPerService: 2, seed: 1, layout: 'kube-proxy-scale' });
    const e = renderOnce('ebpf', model, DEFAULT_NODE_CONTEXT);
    // 10 frontends × (1 + 2 slots) + 2 shared backends + 10 rev-NAT entries; 12+12 bytes per service entry.
    expect(e.objects).toBe(30 + 2 + 10);
    expect(e.bytes).toBe(30 * 24 + 2 * 12 + 10 * 10);
    expect(renderOnce('iptables', model, DEFAULT_NODE_CONTEXT).objectUnit).toBe('rules');
  });
});
