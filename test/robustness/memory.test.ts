// Memory at the top of the `full` profile: rendering 50,000 Services × 10
// endpoints (every backend, as the render suite does it) and scheduling 150,000
// pods onto 5,000 nodes each stay within 1 GiB of peak RSS. Each runs in a fresh
// child process from dist/, so the peak is that workload's alone (not vitest's),
// read from the kernel's high-water mark (getrusage ru_maxrss, which covers the
// scheduler's worker threads too). A memory bound, not a timing: the run times
// printed are for information.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** One child: generate the model once, render every backend in turn (garbage collected in between), print the peak. */
const RENDER_CHILD = `
const { renderOnce, RENDER_BACKENDS } = await import('./dist/bench/suites/render.js');
const { generateCluster } = await import('./dist/src/model/index.js');
const { DEFAULT_NODE_CONTEXT } = await import('./dist/src/model/types.js');
const model = generateCluster({ services: 50000, endpointsPerService: 10, layout: 'kube-proxy-scale', seed: 1 });
const bytes = {};
for (const backend of RENDER_BACKENDS) {
  bytes[backend] = renderOnce(backend, model, DEFAULT_NODE_CONTEXT).bytes;
  globalThis.gc();
}
process.stdout.write(JSON.stringify({ bytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
`;

describe('memory at the top of the full profile', () => {
  it('renders 50,000 Services × 10 endpoints for every backend within 1 GiB', () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', RENDER_CHILD], { encoding: 'utf8', timeout: 170_000, maxBuffer: 1 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { bytes: Record<string, number>; maxRssBytes: number };
    // The renders really were full size (an empty render would pass any memory bound): iptables-restore text alone is > 100 MB.
    expect(out.bytes.iptables).toBeGreaterThan(100 * MiB);
    expect(Object.keys(out.bytes).sort()).toEqual(['ebpf', 'iptables', 'ipvs', 'nftables']);
    console.info(`render 50k×10, all backends: peak RSS ${(out.maxRssBytes / MiB).toFixed(0)} MiB in ${Date.now() - t0} ms`);
    expect(out.maxRssBytes).toBeLessThanOrEqual(GiB);
  }, 180_000);

  it('schedules 150,000 pods onto 5,000 nodes (mixed workload, as the full profile) within 1 GiB', () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['bin/kscale.js', 'schedule', '--nodes', '5000', '--pods', '150000', '--workload', 'mixed', '--json'], { encoding: 'utf8', timeout: 170_000, maxBuffer: 16 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { scheduled: number; nodes: number; peakRssBytes: number };
    expect(out.nodes).toBe(5000);
    expect(out.scheduled).toBe(150_000);
    console.info(`schedule 5,000 × 150,000: peak RSS ${(out.peakRssBytes / MiB).toFixed(0)} MiB in ${Date.now() - t0} ms`);
    expect(out.peakRssBytes).toBeLessThanOrEqual(GiB);
  }, 180_000);
});
