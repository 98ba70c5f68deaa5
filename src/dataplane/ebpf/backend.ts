// The eBPF dataplane as a DataplaneBackend: bpf/kscale_lb.o loaded through the
// addon into the sandbox, maps sized for the model and filled with batch
// updates, the DNAT program on the node's client-facing veth (n0 ingress) and
// the reverse NAT on its backend-facing veth (n1 ingress); changes as
// single-element updates, the way Cilium's agent writes its lb4 maps.
//
// The loaded state owns backend ids and reverse-NAT indices after the first
// load (a rendered program only knows a fresh load's ids), so an incremental
// change touches the changed Service's entries and nothing else.
import { performance } from 'node:perf_hooks';
import { existsSync, readFileSync } from 'node:fs';
import type { Capabilities } from '../../host/capabilities.js';
import type { ClusterModel, NodeContext } from '../../model/types.js';
import { check } from '../../native/index.js';
import { bpfAddon, BPF_ANY } from '../../native/bpf.js';
import { DataplaneError } from '../backend.js';
import type { Availability, DataplaneBackend, ModelDelta, ObjectCounts, SyncTiming, VerifyResult } from '../backend.js';
import { IFACE } from '../sandbox.js';
import type { Sandbox } from '../sandbox.js';
import { LB_MAPS, LB_OBJECT_PATH, LB_PROGS, loadLb } from './loader.js';
import type { Attachment, FillResult, LoadedLb } from './loader.js';
import { ebpfCounts, renderEbpf, renderImages } from './program.js';
import type { EbpfProgram } from './program.js';
import { LoadedState } from './state.js';
import type { MapWriter } from './state.js';
import { compareMaps } from './verify.js';
import type { MapReader } from './verify.js';

/** Room left in each map for incremental changes after a full load. */
const HEADROOM = 4096;
const ENOENT = 2;
/** Connection-tracking entries (LRU: the oldest go when it is full). */
export const CONNTRACK_ENTRIES = 65536;

/**
 * What the backend renders: the model, and its whole program built on first
 * read. A full load reads it (finishRender, inside the render's timing); a
 * change does not: like an agent handed one Service's watch events, it
 * renders that Service's objects alone (ModelDelta.objects), so a change at
 * 50,000 Services costs what it costs at 100. Verification reads the whole
 * program.
 */
export interface EbpfLoadable {
  readonly model: ClusterModel;
  readonly node: NodeContext;
  readonly program: EbpfProgram;
}

function loadable(model: ClusterModel, node: NodeContext): EbpfLoadable {
  let program: EbpfProgram | undefined;
  return {
    model,
    node,
    get program(): EbpfProgram {
      program ??= renderEbpf(model, node);
      return program;
    },
  };
}

interface Loaded {
  lb: LoadedLb;
  state: LoadedState;
  /** Where the last full load's time went. */
  lastLoad: LoadBreakdown;
}

/** A full load, step by step. */
export interface LoadBreakdown {
  /** Encoding the map images (kscale, JavaScript). */
  encodeMs: number;
  /** bpf_object__open/load (map creation, verifier, JIT) and pinning. */
  objectMs: number;
  /** The map fill: method, wall, syscalls alone. */
  fill: FillResult;
  /** tc clsact hooks and filters on both devices. */
  attachMs: number;
  /** Setting up the incremental-change bookkeeping (kscale, JavaScript). */
  stateMs: number;
}

const loaded = new Map<string, Loaded>();
let loads = 0;

function stateOf(sandbox: Sandbox): Loaded {
  const s = loaded.get(sandbox.node.path);
  if (!s) throw new DataplaneError('ebpf', `nothing loaded in ${sandbox.node.name}`);
  return s;
}

/** Map sizes for a program: what it needs plus room for incremental changes. */
export function mapSizes(p: EbpfProgram, headroom = HEADROOM): Record<string, number> {
  const c = p.maps.counts;
  return {
    [LB_MAPS.services]: c.serviceEntries + headroom,
    [LB_MAPS.backends]: c.backends + headroom,
    [LB_MAPS.revNat]: c.revNat + headroom,
    [LB_MAPS.conntrack]: CONNTRACK_ENTRIES,
  };
}

/** Where the programs attach in a sandbox: DNAT on n0 ingress, reverse NAT on n1 ingress. */
export function attachmentsFor(sandbox: Sandbox): Attachment[] {
  return [
    { netnsPath: sandbox.node.path, device: IFACE.nodeFromClient, direction: 'ingress', prog: LB_PROGS.dnat },
    { netnsPath: sandbox.node.path, device: IFACE.nodeToBackend, direction: 'ingress', prog: LB_PROGS.rnat },
  ];
}

/** Where the last full load into this sandbox spent its time, for reports. */
export function lastLoadOf(sandbox: Sandbox): LoadBreakdown | undefined {
  return loaded.get(sandbox.node.path)?.lastLoad;
}

/** The loaded object in a sandbox (maps and programs by name), for test runs and measurements. */
export function loadedObjectOf(sandbox: Sandbox): LoadedLb | undefined {
  return loaded.get(sandbox.node.path)?.lb;
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/** Single-element writes through the addon, counted and timed as kernel work. */
class Writer implements MapWriter {
  syscallMs = 0;
  payloadBytes = 0;
  constructor(private readonly lb: LoadedLb) {}
  update(map: string, key: Buffer, value: Buffer): void {
    const t0 = performance.now();
    const r = bpfAddon().bpfMapUpdate(this.lb.object.map(map).fd, key, value, BPF_ANY);
    this.syscallMs += performance.now() - t0;
    this.payloadBytes += key.length + value.length;
    check(`update ${map}`, r);
  }
  delete(map: string, key: Buffer): void {
    const t0 = performance.now();
    const r = bpfAddon().bpfMapDelete(this.lb.object.map(map).fd, key);
    this.syscallMs += performance.now() - t0;
    this.payloadBytes += key.length;
    if (r !== -ENOENT) check(`delete from ${map}`, r);
  }
}

/** The kernel's maps of a loaded object, through the addon. */
function kernelReader(lb: LoadedLb): MapReader {
  const addon = bpfAddon();
  return {
    lookup(map, key) {
      const m = lb.object.map(map);
      const v = addon.bpfMapLookup(m.fd, key, m.valueSize);
      if (v === -ENOENT) return undefined;
      return check(`lookup in ${map}`, v);
    },
    count(map) {
      const m = lb.object.map(map);
      return check(`count ${map}`, addon.bpfMapCount(m.fd, m.keySize));
    },
  };
}

export const ebpfBackend: DataplaneBackend<EbpfLoadable> = {
  name: 'ebpf',
  probe(caps: Capabilities): Availability {
    for (const id of ['root', 'native_addon', 'bpf_syscall', 'tc_clsact', 'netns_veth'] as const) {
      if (!caps[id].available) return { available: false, reason: `${id}: ${caps[id].reason}` };
    }
    if (!existsSync(LB_OBJECT_PATH)) return { available: false, reason: `${LB_OBJECT_PATH} not built (npm run setup; needs clang)` };
    return { available: true };
  },
  render(model: ClusterModel, node: NodeContext): EbpfLoadable {
    return loadable(model, node);
  },
  finishRender(p: EbpfLoadable): void {
    void p.program;
  },
  counts(p: EbpfLoadable): ObjectCounts {
    return ebpfCounts(p.program);
  },
  async load(sandbox: Sandbox, loadable: EbpfLoadable): Promise<SyncTiming> {
    const p = loadable.program;
    const prior = loaded.get(sandbox.node.path);
    if (prior) {
      loaded.delete(sandbox.node.path);
      await prior.lb.close();
    }
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const images = renderImages(p);
    const encodedMs = performance.now() - started;
    const t0 = performance.now();
    let lb: LoadedLb;
    try {
      lb = await loadLb({ prefix: sandbox.prefix, label: `${sandbox.node.name.slice(sandbox.prefix.length + 1)}-${++loads}`, maxEntries: mapSizes(p) });
    } catch (err) {
      throw new DataplaneError('ebpf', (err as Error).message);
    }
    const objectMs = performance.now() - t0;
    try {
      lb.setConfig(0);
      const fill = lb.fill(images, 'auto');
      const t1 = performance.now();
      for (const a of attachmentsFor(sandbox)) lb.attach(a);
      const attachMs = performance.now() - t1;
      // A fresh load uses the program's own ids; from here on the loaded state allocates them.
      const t2 = performance.now();
      const state = new LoadedState(p);
      const stateMs = performance.now() - t2;
      loaded.set(sandbox.node.path, { lb, state, lastLoad: { encodeMs: encodedMs, objectMs, fill, attachMs, stateMs } });
      const wallMs = performance.now() - started;
      const payloadBytes = images.reduce((n, i) => n + i.keys.length + i.values.length, 0);
      // kscale's own share: encoding the images and everything outside libbpf/bpf() calls.
      const kernelMs = objectMs + fill.syscallMs + attachMs;
      return { wallMs, loaderCpuMs: cpuMs(cpu0), payloadBytes, overheadMs: Math.max(encodedMs, wallMs - kernelMs) };
    } catch (err) {
      await lb.close();
      throw new DataplaneError('ebpf', (err as Error).message);
    }
  },
  async update(sandbox: Sandbox, before: EbpfLoadable, after: EbpfLoadable, delta: ModelDelta): Promise<SyncTiming> {
    const s = stateOf(sandbox);
    const cpu0 = process.cpuUsage();
    const derived = performance.now();
    const w = new Writer(s.lb);
    let started = derived;
    try {
      // The changed Service's programs from the change's own objects (what its watch events carry);
      // the whole models' programs only where frontend keys are contested between Services.
      let from = renderEbpf(delta.objects.before, before.node);
      let to = renderEbpf(delta.objects.after, after.node);
      if (s.state.needsWholePrograms(from, to)) {
        from = before.program;
        to = after.program;
      }
      started = performance.now();
      s.state.syncService(w, delta.service, from, to);
    } catch (err) {
      throw new DataplaneError('ebpf', `${delta.kind} ${delta.service}: ${(err as Error).message}`);
    }
    // Like the other backends' tool time, the wall time is the apply; kscale's derivation is overhead beside it.
    const wallMs = performance.now() - started;
    const deriveMs = started - derived;
    return { wallMs, loaderCpuMs: cpuMs(cpu0), payloadBytes: w.payloadBytes, overheadMs: deriveMs + Math.max(0, wallMs - w.syscallMs) };
  },
  async verify(sandbox: Sandbox, loadable: EbpfLoadable): Promise<VerifyResult> {
    const p = loadable.program;
    const s = stateOf(sandbox);
    const addon = bpfAddon();
    // Every frontend up to 64, a spread of 64 beyond.
    const { counts: c, mismatches } = compareMaps(kernelReader(s.lb), p, 64);
    if (c.backends !== s.state.backendsInUse()) mismatches.push(`backend map: kernel ${c.backends} entries, loader's allocator ${s.state.backendsInUse()}`);
    for (const a of attachmentsFor(sandbox)) {
      const id = addon.bpfTcQuery(a.netnsPath, a.device, a.direction, 1, 1);
      if (id !== s.lb.object.prog(a.prog).id) mismatches.push(`${a.prog} not attached to ${a.device} ${a.direction} (found ${id})`);
    }
    const kernelBytes = [...s.lb.object.maps.values()].reduce((n, m) => n + memlockOf(m.fd), 0);
    const counts: ObjectCounts = { mapEntries: c.services + c.backends + c.revNat, ...(kernelBytes > 0 ? { kernelBytes } : {}) };
    return { ok: mismatches.length === 0, counts, mismatches };
  },
  async flush(sandbox: Sandbox): Promise<SyncTiming> {
    const s = loaded.get(sandbox.node.path);
    if (!s) return { wallMs: 0, loaderCpuMs: 0, payloadBytes: 0, overheadMs: 0 };
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const cleared = s.lb.clear('auto');
    loaded.delete(sandbox.node.path);
    await s.lb.close();
    const wallMs = performance.now() - started;
    return { wallMs, loaderCpuMs: cpuMs(cpu0), payloadBytes: cleared.entries, overheadMs: Math.max(0, cleared.wallMs - cleared.syscallMs) };
  },
};

/** The memlock the kernel charges a map (from /proc/self/fdinfo), 0 when unreadable. */
export function memlockOf(fd: number): number {
  try {
    const text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const m = /^memlock:\s*(\d+)/m.exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
