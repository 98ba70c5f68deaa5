// Rendering cost of every dataplane program from one model: how long the pure
// renderers take (iptables-restore text, nft transaction, IPVS's four parts,
// eBPF map entries encoded to bytes), how many objects and bytes per second
// that is, how it compares with merely writing the same bytes, and how much
// memory a render holds — in this process, and all in as the peak RSS of a
// `kscale rules` process at the profile's largest size. Sizes:
// ctx.profile.render (services × endpoints per Service × repeats). Nothing
// touches the kernel.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Bench } from 'tinybench';
import type { Profile, Suite, SuiteContext } from '../../src/bench/types.js';
import { renderIptables } from '../../src/dataplane/iptables/render.js';
import { renderNftables } from '../../src/dataplane/nftables/index.js';
import { renderIpvs } from '../../src/dataplane/ipvs/index.js';
import { encodeEbpfMaps, renderEbpfMaps } from '../../src/dataplane/ebpf/maps.js';
import { generateCluster } from '../../src/model/index.js';
import { DEFAULT_NODE_CONTEXT } from '../../src/model/types.js';
import type { ClusterModel, NodeContext } from '../../src/model/types.js';
import { median, summarize } from '../../src/stats/summary.js';
import type { Measurement } from '../../src/results/types.js';
import type { RulesStats } from '../../src/commands/rules.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { inputBytes } from '../../src/host/exec.js';
import { collector } from '../../src/host/gc.js';

export const RENDER_SUITE = 'render';
export const RENDER_BACKENDS = ['iptables', 'nftables', 'ipvs', 'ebpf'] as const;
export type RenderBackend = (typeof RENDER_BACKENDS)[number];
/**
 * The cluster shape rendered: kube-proxy's own scale-test layout (ClusterIP
 * Services svc<i> from 10.0.0.1, endpoints from 172.16.0.1:8080), so figures
 * compare with upstream's and every backend fits (a 50,000-Service
 * 'realistic' cluster has more than the 65,535 frontends eBPF rev-NAT indices hold).
 */
const LAYOUT = 'kube-proxy-scale';

/** What one render produced, for rates: objects (with their unit) and bytes handed to the loader. */
export interface RenderOutput {
  objects: number;
  objectUnit: string;
  bytes: number;
  /** The program itself, kept alive while memory is read. */
  keep: unknown;
}

/** The targets at 50,000 Services × 10 endpoints on one core (informational). */
const TARGET_MS: Record<RenderBackend, number> = { iptables: 2000, nftables: 2000, ipvs: Number.NaN, ebpf: 500 };

export function renderOnce(backend: RenderBackend, model: ClusterModel, node: NodeContext): RenderOutput {
  switch (backend) {
    case 'iptables': {
      const p = renderIptables(model, node);
      return { objects: p.counts.rules, objectUnit: 'rules', bytes: inputBytes(p.chunks), keep: p };
    }
    case 'nftables': {
      // Counted from the pieces a loader writes: joining them would hold the text twice.
      const p = renderNftables(model, node);
      return { objects: p.operations, objectUnit: 'operations', bytes: inputBytes(p.chunks), keep: p };
    }
    case 'ipvs': {
      const p = renderIpvs(model, node);
      const bytes = Buffer.byteLength(p.ipBatch) + Buffer.byteLength(p.ipsetRestore) + Buffer.byteLength(p.iptablesRestore) + Buffer.byteLength(p.ipvsadmRestore);
      const objects = p.counts.virtualServers + p.counts.realServers + p.counts.ipsetEntries + p.counts.iptablesRules + p.counts.addresses;
      return { objects, objectUnit: 'objects', bytes, keep: p };
    }
    case 'ebpf': {
      // Entries plus their encoding: the bytes the loader writes into the maps.
      const m = renderEbpfMaps(model, node);
      const e = encodeEbpfMaps(m);
      const bytes = [e.services, e.backends, e.revNat].reduce((n, x) => n + x.keys.length + x.values.length, 0);
      return { objects: m.counts.serviceEntries + m.counts.backends + m.counts.revNat, objectUnit: 'entries', bytes, keep: [m, e] };
    }
  }
}

/**
 * Median time (ms) of writing `bytes` bytes to a file (into the page cache,
 * the cheapest real write: /dev/null copies nothing) and of copying them
 * between Buffers, via tinybench.
 */
async function rawCosts(bytes: number): Promise<{ fileWriteMs: number; copyMs: number }> {
  const src = Buffer.alloc(bytes, 0x61);
  const dst = Buffer.alloc(bytes);
  const dir = mkdtempSync(join(tmpdir(), 'kscale-render-'));
  const fd = openSync(join(dir, 'payload'), 'w');
  try {
    const bench = new Bench({ time: 100, iterations: 5, warmup: true });
    bench.add('file', () => {
      let off = 0;
      while (off < src.length) off += writeSync(fd, src, off, src.length - off, off);
    });
    bench.add('copy', () => {
      src.copy(dst);
    });
    await bench.run();
    const p50 = (name: string): number => {
      const r = bench.getTask(name)?.result;
      return r !== undefined && 'latency' in r ? r.latency.p50 : Number.NaN;
    };
    return { fileWriteMs: p50('file'), copyMs: p50('copy') };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deadline for one `kscale rules` child; 50k×10 takes a few seconds. */
const RULES_CHILD_TIMEOUT_MS = 120_000;

/**
 * `kscale rules --stats` for this size in a fresh process, stdout discarded:
 * its stats line (peak RSS all in: model, proxy state, program, write).
 */
export function rulesChildStats(backend: RenderBackend, services: number, endpoints: number, seed: number): Promise<RulesStats> {
  const args = [join(PACKAGE_ROOT, 'bin', 'kscale.js'), 'rules', '--backend', backend, '--services', String(services), '--endpoints', String(endpoints), '--layout', LAYOUT, '--seed', String(seed), '--stats'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RULES_CHILD_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = stderr.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(new Error(`kscale rules exited ${code ?? signal}: ${stderr.trim().slice(0, 500)}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as RulesStats);
      } catch {
        reject(new Error(`kscale rules --stats printed no stats line: ${last.slice(0, 200)}`));
      }
    });
  });
}

/** The memory bound for rendering 50,000 Services × 10 endpoints. */
const PEAK_RSS_TARGET_MIB = 1024;

async function measurePeakRss(ctx: SuiteContext, backend: RenderBackend, services: number, endpoints: number): Promise<void> {
  const params = { backend, services, endpoints, layout: LAYOUT };
  try {
    const s = await rulesChildStats(backend, services, endpoints, ctx.seed);
    const target = services === 50_000 && endpoints === 10 ? { targetMiB: PEAK_RSS_TARGET_MIB, meetsTarget: s.peakRssMiB <= PEAK_RSS_TARGET_MIB } : {};
    ctx.record({
      suite: RENDER_SUITE,
      name: 'render-peak-rss',
      unit: 'MiB',
      params,
      status: 'ok',
      samples: [s.peakRssMiB],
      summary: summarize([s.peakRssMiB]),
      extra: { what: 'peak RSS of a `kscale rules --backend B` process for this size, stdout discarded', modelMs: s.modelMs, renderMs: s.renderMs, writeMs: s.writeMs, bytes: s.counts.bytes ?? null, ...target },
    });
  } catch (err) {
    ctx.record({ suite: RENDER_SUITE, name: 'render-peak-rss', unit: 'MiB', params, status: 'failed', reason: (err as Error).message });
  }
}

const MiB = 1024 * 1024;
// Each repeat starts from a collected heap, so it does not pay for the previous repeat's garbage.
const gc = collector();

async function measure(ctx: SuiteContext, backend: RenderBackend, model: ClusterModel, node: NodeContext, services: number, endpoints: number): Promise<void> {
  const { repeats } = ctx.profile.render;
  const params = { backend, services, endpoints, layout: LAYOUT };
  const base = { suite: RENDER_SUITE, params };
  const times: number[] = [];
  let out: RenderOutput | undefined;
  let heapDeltaMiB = Number.NaN;
  let rssPeakGrowthMiB = Number.NaN;
  for (let i = 0; i < repeats; i++) {
    out = undefined;
    gc?.();
    const before = process.memoryUsage();
    const peakBefore = process.resourceUsage().maxRSS;
    const t0 = performance.now();
    const o = renderOnce(backend, model, node);
    const ms = performance.now() - t0;
    times.push(ms);
    if (i === 0) {
      // What the finished program holds (heap + Buffers), and how far the process's RSS high-water mark rose.
      const after = process.memoryUsage();
      heapDeltaMiB = (after.heapUsed + after.external - before.heapUsed - before.external) / MiB;
      rssPeakGrowthMiB = (process.resourceUsage().maxRSS - peakBefore) / 1024;
    }
    out = o;
    await yieldToLoop();
  }
  if (out === undefined) return;
  const { objects, objectUnit, bytes } = out;
  out = undefined;
  const med = median(times);
  const targetMs = services === 50_000 && endpoints === 10 ? TARGET_MS[backend] : Number.NaN;
  const record = (m: Omit<Measurement, 'suite' | 'params' | 'status'>): void => ctx.record({ ...base, status: 'ok', ...m });
  record({
    name: 'render-time',
    unit: 'ms',
    samples: times,
    summary: summarize(times),
    extra: { objects, objectUnit, bytes, ...(Number.isNaN(targetMs) ? {} : { targetMs, meetsTarget: med <= targetMs }), gcExposed: gc !== null },
  });
  const rates = times.map((t) => objects / (t / 1000));
  record({ name: 'render-object-rate', unit: `${objectUnit}/s`, samples: rates, summary: summarize(rates) });
  const byteRates = times.map((t) => bytes / MiB / (t / 1000));
  record({ name: 'render-byte-rate', unit: 'MiB/s', samples: byteRates, summary: summarize(byteRates) });
  const raw = await rawCosts(bytes);
  record({
    name: 'render-vs-write',
    unit: 'ratio',
    samples: [med / raw.fileWriteMs],
    extra: { renderMedianMs: med, fileWriteMs: raw.fileWriteMs, bufferCopyMs: raw.copyMs, ratioToBufferCopy: med / raw.copyMs, bytes },
  });
  record({
    name: 'render-memory',
    unit: 'MiB',
    samples: [heapDeltaMiB],
    extra: {
      what: 'heap + external bytes held by the finished program (first repeat), and growth of the process RSS high-water mark during it',
      rssPeakGrowthMiB,
      gcExposed: gc !== null,
    },
  });
}

function sizesOf(profile: Profile): Array<{ services: number; endpoints: number }> {
  const out: Array<{ services: number; endpoints: number }> = [];
  for (const services of profile.render.services) for (const endpoints of profile.render.endpointsPerService) out.push({ services, endpoints });
  return out;
}

export const renderSuite: Suite = {
  name: RENDER_SUITE,
  description: 'pure rendering of iptables, nftables, IPVS and eBPF-map programs from one model: time, objects/s, bytes/s, ratio to a raw write, memory',
  steps: (profile) => (sizesOf(profile).length + profile.render.endpointsPerService.length) * RENDER_BACKENDS.length,
  async run(ctx) {
    const node: NodeContext = { ...DEFAULT_NODE_CONTEXT };
    for (const { services, endpoints } of sizesOf(ctx.profile)) {
      let model: ClusterModel;
      try {
        model = generateCluster({ services, endpointsPerService: endpoints, seed: ctx.seed, layout: LAYOUT, nodeName: node.nodeName });
      } catch (err) {
        for (const backend of RENDER_BACKENDS) {
          ctx.progress.step(`render: ${backend} ${services}×${endpoints}`);
          ctx.record({ suite: RENDER_SUITE, name: 'render-time', unit: 'ms', params: { backend, services, endpoints, layout: LAYOUT }, status: 'failed', reason: (err as Error).message });
        }
        continue;
      }
      for (const backend of RENDER_BACKENDS) {
        ctx.progress.step(`render: ${backend} ${services}×${endpoints}`);
        try {
          await measure(ctx, backend, model, node, services, endpoints);
        } catch (err) {
          ctx.record({ suite: RENDER_SUITE, name: 'render-time', unit: 'ms', params: { backend, services, endpoints, layout: LAYOUT }, status: 'failed', reason: (err as Error).message });
        }
      }
    }
    // Memory all in, once per endpoint count at the largest size: a fresh process, as a user runs it.
    const largest = Math.max(...ctx.profile.render.services);
    for (const endpoints of ctx.profile.render.endpointsPerService) {
      for (const backend of RENDER_BACKENDS) {
        ctx.progress.step(`render: ${backend} ${largest}×${endpoints} peak RSS (kscale rules)`);
        await measurePeakRss(ctx, backend, largest, endpoints);
      }
    }
  },
};
