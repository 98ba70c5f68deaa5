// The eBPF dataplane without traffic: map fill through the addon (batch and
// single-element, against the syscalls alone) and the DNAT program's cost per
// packet under BPF_PROG_TEST_RUN for hits and misses as the maps fill,
// cross-checked with bpftool. Measurements: 'map-load' (ms) and
// 'prog-test-run' (ns), plus 'prog-test-run-bpftool' for the cross-check.
import type { ProfileName, Suite, SuiteContext } from '../../src/bench/types.js';
import type { Measurement } from '../../src/results/types.js';
import { ebpfBackend } from '../../src/dataplane/ebpf/backend.js';
import { sweepLeftoverBpffs } from '../../src/dataplane/ebpf/bpffs.js';
import { EBPF_SUITE, measureMapLoad, measureTestRun, modelProgram } from '../../src/dataplane/ebpf/measure.js';
import type { BatchMethod } from '../../src/native/bpf.js';

interface EbpfSizes {
  /** Services of the map-load points (each with every `endpoints` value and method). */
  loadServices: number[];
  endpoints: number[];
  methods: BatchMethod[];
  loadRepeats: number;
  /** Services of the test-run points (10 endpoints each), each at every fill level. */
  runServices: number[];
  fills: number[];
  samples: number;
  repeat: number;
  repeatCalls: number;
  /** bpftool runs per cross-checked point (at the largest size, fill 1); 0 for none. */
  bpftoolRuns: number;
}

const SIZES: Record<ProfileName, EbpfSizes> = {
  smoke: { loadServices: [100, 1000], endpoints: [10], methods: ['batch', 'single'], loadRepeats: 2, runServices: [100, 1000], fills: [1], samples: 300, repeat: 10_000, repeatCalls: 5, bpftoolRuns: 3 },
  quick: { loadServices: [1000, 10_000, 50_000], endpoints: [10], methods: ['batch', 'single'], loadRepeats: 3, runServices: [100, 1000, 10_000, 50_000], fills: [1, 0.25], samples: 2000, repeat: 100_000, repeatCalls: 10, bpftoolRuns: 10 },
  full: { loadServices: [100, 1000, 5000, 10_000, 25_000, 50_000], endpoints: [1, 10], methods: ['batch', 'single'], loadRepeats: 5, runServices: [100, 1000, 5000, 10_000, 25_000, 50_000], fills: [1, 0.5, 0.25], samples: 5000, repeat: 1_000_000, repeatCalls: 20, bpftoolRuns: 20 },
  ci: { loadServices: [100, 1000], endpoints: [10], methods: ['batch', 'single'], loadRepeats: 2, runServices: [100, 1000], fills: [1], samples: 300, repeat: 10_000, repeatCalls: 5, bpftoolRuns: 3 },
};

function sizesOf(ctx: Pick<SuiteContext, 'profile'>): EbpfSizes {
  return SIZES[ctx.profile.name];
}

/** The established-hit cost at the largest size against the smallest (issue 5: within 1.2×). */
function annotateScaling(ms: Measurement[]): void {
  const hits = ms.filter((m) => m.name === 'prog-test-run' && m.status === 'ok' && m.params.hit === true && m.params.flow === 'established' && m.params.fill === 1 && m.params.repeat !== 1);
  if (hits.length < 2) return;
  const by = (a: Measurement, b: Measurement): number => Number(a.params.services) - Number(b.params.services);
  hits.sort(by);
  const small = hits[0]!;
  const large = hits[hits.length - 1]!;
  if (!small.summary || !large.summary) return;
  large.extra = { ...large.extra, vsServices: small.params.services, ratioToSmallest: large.summary.median / small.summary.median, scalingTarget: 1.2 };
}

export const ebpfSuite: Suite = {
  name: EBPF_SUITE,
  description: 'eBPF dataplane: map fill through the addon vs raw bpf() syscalls, DNAT cost per packet under BPF_PROG_TEST_RUN (hit/miss × fill), bpftool cross-check',
  steps(profile) {
    const s = SIZES[profile.name];
    return s.loadServices.length * s.endpoints.length * s.methods.length + s.runServices.length * s.fills.length;
  },
  async run(ctx) {
    const s = sizesOf(ctx);
    const availability = ebpfBackend.probe(ctx.caps);
    if (!availability.available) {
      for (const services of s.loadServices) for (const endpoints of s.endpoints) for (const method of s.methods) {
        ctx.record({ suite: EBPF_SUITE, name: 'map-load', unit: 'ms', params: { services, endpoints, method }, status: 'skipped', reason: availability.reason });
      }
      for (const services of s.runServices) for (const fill of s.fills) {
        ctx.record({ suite: EBPF_SUITE, name: 'prog-test-run', unit: 'ns', params: { services, fill }, status: 'skipped', reason: availability.reason });
      }
      return;
    }
    await sweepLeftoverBpffs();
    for (const services of s.loadServices) {
      for (const endpoints of s.endpoints) {
        const program = modelProgram(services, endpoints, ctx.seed);
        for (const method of s.methods) {
          ctx.progress.step(`ebpf: map load ${services}×${endpoints} (${method})`);
          const params = { services, endpoints, method };
          try {
            ctx.record(await measureMapLoad({ prefix: ctx.prefix, program, services, endpoints, method, repeats: s.loadRepeats }));
          } catch (err) {
            ctx.record({ suite: EBPF_SUITE, name: 'map-load', unit: 'ms', params, status: 'failed', reason: (err as Error).message });
          }
        }
      }
    }
    const runs: Measurement[] = [];
    const largest = Math.max(...s.runServices);
    for (const services of s.runServices) {
      const program = modelProgram(services, 10, ctx.seed);
      for (const fill of s.fills) {
        ctx.progress.step(`ebpf: BPF_PROG_TEST_RUN at ${services} Services, fill ${fill}`);
        try {
          runs.push(...(await measureTestRun({
            prefix: ctx.prefix, program, services, fill, samples: s.samples, repeat: s.repeat, repeatCalls: s.repeatCalls,
            bpftool: s.bpftoolRuns > 0 && services === largest && fill === 1 && ctx.caps.root.available, bpftoolRuns: s.bpftoolRuns,
          })));
        } catch (err) {
          runs.push({ suite: EBPF_SUITE, name: 'prog-test-run', unit: 'ns', params: { services, fill }, status: 'failed', reason: (err as Error).message });
        }
      }
    }
    annotateScaling(runs);
    for (const m of runs) ctx.record(m);
  },
};
