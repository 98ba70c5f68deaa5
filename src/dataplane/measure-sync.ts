// Sync cost, measured for real: for each backend and model size, a fresh
// sandbox; render, full load, read-back check; then one Service added, one
// endpoint changed, one Service deleted (each repeated, each checked against
// the kernel); then everything flushed. Shared by `kscale dataplane sync` and
// the `sync` suite of `npm run bench`.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Capabilities } from '../host/capabilities.js';
import { generateCluster } from '../model/index.js';
import type { ClusterModel, NodeContext } from '../model/types.js';
import type { Measurement, ParamValue } from '../results/types.js';
import { median, summarize } from '../stats/summary.js';
import { collector } from '../host/gc.js';
import type { Progress } from '../bench/progress.js';
import type { DataplaneBackend, DeltaKind, ObjectCounts, SyncTiming } from './backend.js';
import { DELTAS } from './delta.js';
import { createSandbox } from './sandbox.js';
import type { Sandbox } from './sandbox.js';

export const SYNC_SUITE = 'sync';
/** Every endpoint the synthetic layouts hand out lies in here; the sandbox's backend namespace owns it. */
export const ENDPOINT_CIDR = '172.16.0.0/12';

export interface SyncSweepOptions {
  backends: readonly DataplaneBackend<unknown>[];
  services: readonly number[];
  endpoints: readonly number[];
  /** Explicit (Services, endpoints) points to measure instead of the services × endpoints grid. */
  points?: readonly (readonly [number, number])[];
  /** Samples per change kind (and of the full load). */
  repeats: number;
  /**
   * Longest one tool run may take. A backend whose tool passes it at one size
   * is not run at larger sizes of the sweep (they are recorded as skipped, with
   * the size that ran out of time), so one pathological tool cannot eat a run.
   */
  toolBudgetMs?: number;
  caps: Capabilities;
  prefix: string;
  seed: number;
  progress: Progress;
  record(m: Measurement): void;
}

/** The node kube-proxy runs on: its address as the client sees it; pods (endpoints) are the cluster CIDR. */
export function sandboxNode(sandbox: Pick<Sandbox, 'nodeIP'>): NodeContext {
  return { nodeName: 'node1', nodeIP: sandbox.nodeIP, clusterCIDR: ENDPOINT_CIDR, masqueradeBit: 14 };
}

/** Backends with a "full rewrite vs partial" distinction get both measured. */
function modesOf(backend: DataplaneBackend<unknown>): ('partial' | 'full')[] {
  return backend.name.startsWith('iptables') ? ['partial', 'full'] : ['partial'];
}

/** The (Services, endpoints) points of a sweep, smallest first. */
export function sweepPoints(o: Pick<SyncSweepOptions, 'services' | 'endpoints' | 'points'>): [number, number][] {
  const points = o.points ? o.points.map(([s, e]) => [s, e] as [number, number]) : o.services.flatMap((s) => o.endpoints.map((e) => [s, e] as [number, number]));
  return points.sort((a, b) => a[0] * a[1] - b[0] * b[1] || a[0] - b[0]);
}

export function syncSteps(o: Pick<SyncSweepOptions, 'backends' | 'services' | 'endpoints' | 'points'>): number {
  return o.backends.length * sweepPoints(o).length;
}

interface Sample extends SyncTiming {
  renderMs: number;
}

function measurement(name: string, params: Record<string, ParamValue>, samples: Sample[], objects: ObjectCounts | undefined): Measurement {
  const wall = samples.map((s) => s.wallMs);
  const renderMs = median(samples.map((s) => s.renderMs));
  const toolMs = median(wall);
  const overheadMs = median(samples.map((s) => s.overheadMs));
  return {
    suite: SYNC_SUITE,
    name,
    unit: 'ms',
    params,
    status: 'ok',
    samples: wall,
    summary: summarize(wall),
    extra: {
      loaderCpuMs: median(samples.map((s) => s.loaderCpuMs)),
      payloadBytes: median(samples.map((s) => s.payloadBytes)),
      renderMs,
      kscaleOverheadMs: overheadMs,
      ...(name === 'flush' ? {} : name === 'full-load' ? { renderAfterWarmUp: true } : { warmupsDiscarded: CHANGE_WARMUPS }),
      // kscale's own share (rendering + assembling the payload) against the time the kernel side took.
      overheadShare: toolMs > 0 ? (renderMs + overheadMs) / toolMs : null,
      ...(objects ? { objects } : {}),
    },
  };
}

/** Kernel slab memory in bytes (/proc/meminfo), host-wide: the delta around a load approximates what the rules cost the kernel. */
export function slabBytes(meminfo: string): number | undefined {
  const m = /^Slab:\s+(\d+) kB$/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : undefined;
}

function readSlab(): number | undefined {
  try {
    return slabBytes(readFileSync('/proc/meminfo', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Changes of each kind made (and applied to the kernel) before the measured
 * ones, their samples discarded. The first changes of a kind run kscale code
 * no earlier step ran, so V8 still interprets and compiles it: at 1,000
 * Services the first nftables add-services rendered in about 10 ms against a
 * steady 2 ms, and with three repeats they moved the median (kscale's share
 * of an add-service sync came out 16–22%; 9.5–13% after three warm-ups, and
 * 7.0–7.1% once the full render was warmed up too).
 * kube-proxy, a compiled Go binary, pays no such cost.
 */
export const CHANGE_WARMUPS = 3;

/** Services in the model the renderer is warmed up on (at most the point's own), and how many times. */
const WARMUP_SERVICES = 1000;
const WARMUP_RENDERS = 8;

/**
 * Untimed renders of a small model of the same layout before the timed full
 * render, each for its own copy of the node context: renderers memoise per
 * node object, so the timed render reuses nothing of them. What they warm is
 * V8's compiled code (see CHANGE_WARMUPS): the iptables backend rendered
 * 1,000 × 10 in 74 ms the first time and about 35 ms from the tenth on, a
 * 15% share of iptables-legacy-restore's 460 ms that was V8 compiling; warmed
 * on 200 Services, its timed renders at 1,000 still took about 60 ms.
 */
function warmUpRender<P>(backend: DataplaneBackend<P>, node: NodeContext, services: number, endpoints: number, seed: number): void {
  const small = generateCluster({ services: Math.min(services, WARMUP_SERVICES), endpointsPerService: endpoints, layout: 'kube-proxy-scale', seed });
  for (let i = 0; i < WARMUP_RENDERS; i++) backend.finishRender?.(backend.render(small, { ...node }));
  collector()?.();
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const v = f();
  return [v, performance.now() - t0];
}

async function verifyOrThrow<P>(backend: DataplaneBackend<P>, sandbox: Sandbox, program: P, after: string): Promise<ObjectCounts> {
  const v = await backend.verify(sandbox, program);
  if (!v.ok) throw new Error(`kernel state after ${after} does not match the rendered program: ${v.mismatches.slice(0, 5).join('; ')}`);
  return v.counts;
}

/** Returns false when a tool ran out of the time budget. */
async function measureOne<P>(backend: DataplaneBackend<P>, model: ClusterModel, base: Record<string, ParamValue>, o: SyncSweepOptions): Promise<boolean> {
  const label = `${backend.name}-${base.services}x${base.endpoints}`;
  const sandbox = await createSandbox({ prefix: o.prefix, label, endpointCidrs: [ENDPOINT_CIDR], toolTimeoutMs: o.toolBudgetMs });
  const recorded = new Set<string>();
  const record = (m: Measurement): void => {
    recorded.add(m.name);
    o.record(m);
  };
  try {
    const node = sandboxNode(sandbox);
    warmUpRender(backend, node, Number(base.services), Number(base.endpoints), o.seed);
    // The full render is timed `repeats` times like the load, the last for the
    // node the sandbox loads (its renderer's memo then holds this program); the
    // others go to copies of the node context, so none reuses another's work.
    const renderOnce = (n: NodeContext): [P, number] => timed(() => {
      const p = backend.render(model, n);
      backend.finishRender?.(p);
      return p;
    });
    const renderTimes: number[] = [];
    for (let i = 1; i < o.repeats; i++) {
      renderTimes.push(renderOnce({ ...node })[1]);
      collector()?.();
    }
    const loaded = renderOnce(node);
    let program = loaded[0];
    renderTimes.push(loaded[1]);
    const renderMs = median(renderTimes);
    const loads: Sample[] = [];
    const flushes: Sample[] = [];
    let objects: ObjectCounts | undefined;
    for (let i = 0; i < o.repeats; i++) {
      if (i > 0) flushes.push({ ...(await backend.flush(sandbox)), renderMs: 0 });
      const slabBefore = readSlab();
      loads.push({ ...(await backend.load(sandbox, program)), renderMs });
      const slabAfter = readSlab();
      if (i === 0) {
        objects = await verifyOrThrow(backend, sandbox, program, 'the full load');
        // Host-wide, so other activity blurs it; a backend that knows its own footprint (BPF maps) reports kernelBytes itself.
        if (slabBefore !== undefined && slabAfter !== undefined) objects = { ...objects, slabDeltaBytes: slabAfter - slabBefore };
      }
    }
    record(measurement('full-load', base, loads, objects));
    let current = model;
    const changes: Measurement[] = [];
    for (const mode of modesOf(backend)) {
      // A full restore rewrites everything whatever changed, so one kind of change measures it.
      const kinds: DeltaKind[] = mode === 'full' ? ['change-endpoint'] : (Object.keys(DELTAS) as DeltaKind[]);
      for (const kind of kinds) {
        const samples: Sample[] = [];
        for (let i = 0; i < CHANGE_WARMUPS + o.repeats; i++) {
          const delta = DELTAS[kind](current);
          const [next, ms] = timed(() => backend.render(delta.after, node));
          const sample = { ...(await backend.update(sandbox, program, next, delta, mode)), renderMs: ms };
          if (i >= CHANGE_WARMUPS) samples.push(sample);
          program = next;
          current = delta.after;
        }
        const counts = await verifyOrThrow(backend, sandbox, program, `${kind} (${mode})`);
        changes.push(measurement(kind, { ...base, mode }, samples, counts));
      }
    }
    for (const m of changes) record(m);
    flushes.push({ ...(await backend.flush(sandbox)), renderMs: 0 });
    record(measurement('flush', base, flushes, undefined));
    return true;
  } catch (err) {
    // A rejected restore or transaction: what is not measured yet fails with the tool's reason; the sweep goes on.
    const reason = (err as Error).message;
    for (const name of ['full-load', ...Object.keys(DELTAS), 'flush']) {
      if (!recorded.has(name)) o.record({ suite: SYNC_SUITE, name, unit: 'ms', params: base, status: 'failed', reason });
    }
    return !/killed after \d+ ms/.test(reason);
  } finally {
    await sandbox.destroy();
  }
}

export async function runSyncSweep(o: SyncSweepOptions): Promise<void> {
  for (const backend of o.backends) {
    const availability = backend.probe(o.caps);
    // Endpoint chains drive the tools' cost, so "larger" means more Services × endpoints.
    let outOfTime: { services: number; endpoints: number } | undefined;
    for (const [services, endpoints] of sweepPoints(o)) {
      const base = { backend: backend.name, services, endpoints };
      o.progress.step(`sync: ${backend.name} ${services} Services × ${endpoints} endpoints`);
      if (!availability.available) {
        o.record({ suite: SYNC_SUITE, name: 'full-load', unit: 'ms', params: base, status: 'skipped', reason: availability.reason });
        continue;
      }
      if (outOfTime && services * endpoints >= outOfTime.services * outOfTime.endpoints) {
        const reason = `not run: at ${outOfTime.services} Services × ${outOfTime.endpoints} endpoints a ${backend.name} tool run already exceeded the ${o.toolBudgetMs} ms budget`;
        o.record({ suite: SYNC_SUITE, name: 'full-load', unit: 'ms', params: base, status: 'skipped', reason });
        continue;
      }
      const model = generateCluster({ services, endpointsPerService: endpoints, layout: 'kube-proxy-scale', seed: o.seed });
      try {
        if (!(await measureOne(backend, model, base, o))) outOfTime = { services, endpoints };
      } catch (err) {
        // The sandbox itself could not be built: every measurement of this point fails, the sweep goes on.
        o.record({ suite: SYNC_SUITE, name: 'full-load', unit: 'ms', params: base, status: 'failed', reason: (err as Error).message });
      }
    }
  }
}
