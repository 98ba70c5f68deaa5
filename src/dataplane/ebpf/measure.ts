// The eBPF measurements that need no traffic: how long filling the maps takes
// through the addon against the bpf() syscalls it issues (batch and one element
// at a time), and what the DNAT program costs per packet in the kernel
// (BPF_PROG_TEST_RUN), for a frontend in the map and one not in it, as the map
// fills up — cross-checked with `bpftool prog run` on the same pinned program
// and frame.
//
// BPF_PROG_TEST_RUN repeats the program on the same skb, so once a frame to a
// model VIP is DNATed the further repeats would see a backend address and
// measure a miss. Hits with repeat are therefore measured on a probe pair of
// frontends added next to the model's: A:1001 has one backend, B:1002, and B
// has one backend, A:1001, so every repeat is a real hit — same lookups, same
// address, port and checksum rewrite — alternating between two keys of the
// same maps at the same fill. A model VIP is measured too, one kernel-timed run
// per call on a fresh copy of the frame (repeat=1, new flows and established
// ones); the miss, which leaves the frame alone, is measured both ways, and the
// difference (the per-call cost of the timer and cold caches) is reported as
// timerOffsetNs next to every repeat=1 figure.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Measurement, ParamValue } from '../../results/types.js';
import { median, summarize } from '../../stats/summary.js';
import { formatIPv4, parseIPv4 } from '../../model/ip.js';
import { generateCluster } from '../../model/index.js';
import type { NodeContext } from '../../model/types.js';
import type { BatchMethod } from '../../native/bpf.js';
import { ADDR } from '../sandbox.js';
import { CONNTRACK_ENTRIES } from './backend.js';
import { CFG_NO_CONNTRACK } from './loader.js';
import { LB_MAPS, LB_PROGS, loadLb } from './loader.js';
import type { LoadedLb, MapImage } from './loader.js';
import {
  LB4_BACKEND_KEY_SIZE, LB4_BACKEND_SIZE, LB4_KEY_SIZE, LB4_SERVICE_SIZE,
  encodeBackendKey, encodeBackendValue, encodeServiceKey, encodeServiceValue,
} from './maps.js';
import { craftPacket } from './packet.js';
import { entriesOf, renderEbpf, renderImages } from './program.js';
import type { EbpfProgram } from './program.js';
import { bpftoolProgRun, progTestRun, TC_ACT_OK } from './testrun.js';

export const EBPF_SUITE = 'ebpf';
/** Issue 4's target for 50,000 Services × 10 endpoints. */
export const LOAD_TARGET_MS = 500;
export const OVERHEAD_TARGET = 1.3;

const NODE: NodeContext = { nodeName: 'node1', nodeIP: ADDR.nodeClientSide, clusterCIDR: '172.16.0.0/12', masqueradeBit: 14 };

export function modelProgram(services: number, endpoints: number, seed: number): EbpfProgram {
  return renderEbpf(generateCluster({ services, endpointsPerService: endpoints, layout: 'kube-proxy-scale', seed }), NODE);
}

/** The probe pair's frontends (RFC 2544 benchmark addresses, outside every model range) and their entries. */
export const PROBE = { a: { address: '198.19.255.1', port: 1001 }, b: { address: '198.19.255.2', port: 1002 } } as const;
const PROBE_BACKEND_IDS = [0xfffffff0, 0xfffffff1] as const;
const PROBE_REV_NAT = [0xfffe, 0xffff] as const;
/** Entries the probe pair adds: 2 × (slot 0 + slot 1) service entries, 2 backends. */
const PROBE_SERVICE_ENTRIES = 4;
const PROBE_BACKENDS = 2;

/** max_entries so the model's maps are `fill` full (1 = sized exactly), with room for the probe pair. */
export function sizesForFill(p: EbpfProgram, fill: number): Record<string, number> {
  const c = p.maps.counts;
  const at = (n: number): number => Math.max(1, Math.ceil(n / fill));
  return {
    [LB_MAPS.services]: at(c.serviceEntries) + PROBE_SERVICE_ENTRIES,
    [LB_MAPS.backends]: at(c.backends) + PROBE_BACKENDS,
    [LB_MAPS.revNat]: at(c.revNat),
    [LB_MAPS.conntrack]: CONNTRACK_ENTRIES,
  };
}

/** Images of the probe pair: A → backend B, B → backend A. */
export function probeImages(): MapImage[] {
  const ends = [PROBE.a, PROBE.b];
  const svcKeys: Buffer[] = [];
  const svcValues: Buffer[] = [];
  const beKeys: Buffer[] = [];
  const beValues: Buffer[] = [];
  ends.forEach((end, i) => {
    const other = ends[1 - i]!;
    const address = parseIPv4(end.address)!;
    const base = { address, dport: end.port, proto: 0, scope: 0, revNatIndex: PROBE_REV_NAT[i]!, flags: 0, flags2: 0 };
    svcKeys.push(encodeServiceKey({ ...base, backendSlot: 0, backendId: 0, count: 1 }), encodeServiceKey({ ...base, backendSlot: 1, backendId: 0, count: 0 }));
    svcValues.push(encodeServiceValue({ ...base, backendSlot: 0, backendId: 0, count: 1 }), encodeServiceValue({ ...base, backendSlot: 1, backendId: PROBE_BACKEND_IDS[i]!, count: 0 }));
    const be = { id: PROBE_BACKEND_IDS[i]!, address: parseIPv4(other.address)!, port: other.port, proto: 17, flags: 0 };
    beKeys.push(encodeBackendKey(be));
    beValues.push(encodeBackendValue(be));
  });
  return [
    { map: LB_MAPS.backends, keySize: LB4_BACKEND_KEY_SIZE, valueSize: LB4_BACKEND_SIZE, keys: Buffer.concat(beKeys), values: Buffer.concat(beValues) },
    { map: LB_MAPS.services, keySize: LB4_KEY_SIZE, valueSize: LB4_SERVICE_SIZE, keys: Buffer.concat(svcKeys), values: Buffer.concat(svcValues) },
  ];
}

export interface MapLoadOptions {
  prefix: string;
  program: EbpfProgram;
  services: number;
  endpoints: number;
  method: BatchMethod;
  repeats: number;
}

/** Fill freshly loaded maps `repeats` times (a new object each time, so every fill starts empty). */
export async function measureMapLoad(o: MapLoadOptions): Promise<Measurement> {
  const params: Record<string, ParamValue> = { services: o.services, endpoints: o.endpoints, method: o.method };
  const t0 = performance.now();
  const images = renderImages(o.program);
  const encodeMs = performance.now() - t0;
  const wall: number[] = [];
  const syscall: number[] = [];
  const addon: number[] = [];
  const objectMs: number[] = [];
  let entries = 0;
  let fallback: string | undefined;
  for (let i = 0; i < o.repeats; i++) {
    const t1 = performance.now();
    const lb = await loadLb({ prefix: o.prefix, label: `map-load-${i}`, maxEntries: sizesForFill(o.program, 1), pin: false });
    objectMs.push(performance.now() - t1);
    try {
      const f = lb.fill(images, o.method);
      wall.push(f.wallMs);
      syscall.push(f.syscallMs);
      addon.push(f.addonMs);
      entries = f.entries;
      fallback ??= f.fallback;
    } finally {
      await lb.close();
    }
  }
  const syscallMs = median(syscall);
  const summary = summarize(wall);
  const isTargetPoint = o.services >= 50_000 && o.endpoints >= 10;
  return {
    suite: EBPF_SUITE,
    name: 'map-load',
    unit: 'ms',
    params,
    status: 'ok',
    samples: wall,
    summary,
    extra: {
      syscallMs,
      addonMs: median(addon),
      // Wall time through the addon per unit of raw bpf() syscall time.
      overheadRatio: syscallMs > 0 ? summary.median / syscallMs : null,
      overheadTarget: OVERHEAD_TARGET,
      entries,
      encodeMs,
      objectLoadMs: median(objectMs),
      ...(fallback ? { fallback } : {}),
      ...(isTargetPoint ? { targetMs: LOAD_TARGET_MS, meetsTarget: summary.median + median(objectMs) <= LOAD_TARGET_MS } : {}),
    },
  };
}

export interface TestRunOptions {
  prefix: string;
  program: EbpfProgram;
  services: number;
  fill: number;
  /** repeat=1 samples per point. */
  samples: number;
  /** Runs per BPF_PROG_TEST_RUN for the miss (frame unchanged), and calls of it. */
  repeat: number;
  repeatCalls: number;
  /** Also run bpftool on the same program and frames. */
  bpftool: boolean;
  bpftoolRuns: number;
}

function ns(params: Record<string, ParamValue>, samples: number[], extra: Record<string, unknown>): Measurement {
  return { suite: EBPF_SUITE, name: 'prog-test-run', unit: 'ns', params, status: 'ok', samples, summary: summarize(samples), extra };
}

/** What a run must have done to the frame: translated it, left it alone, or (the probe pair, after an even or odd number of hops) either way. */
type Expect = 'dnat' | 'unchanged' | 'probe';

function runMany(lb: LoadedLb, frames: () => Buffer, n: number, repeat: number, expect: Expect): number[] {
  const fd = lb.object.prog(LB_PROGS.dnat).fd;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const frame = frames();
    const r = progTestRun(fd, frame, repeat);
    if (r.retval !== TC_ACT_OK) throw new Error(`DNAT program returned ${r.retval} on a test frame`);
    const same = r.data.equals(frame);
    if (expect === 'dnat' && same) throw new Error('a frame to a VIP came back untranslated');
    if (expect === 'unchanged' && !same) throw new Error('a frame to no Service was changed');
    if (expect === 'probe') {
      const to = `${r.out?.daddr}:${r.out?.dport}`;
      const ok = r.out?.ipChecksumOk && r.out.l4ChecksumOk && (to === `${PROBE.a.address}:${PROBE.a.port}` || to === `${PROBE.b.address}:${PROBE.b.port}`);
      if (!ok) throw new Error(`the probe frame came back as ${to} (checksums ${r.out?.ipChecksumOk}/${r.out?.l4ChecksumOk})`);
    }
    out.push(r.durationNs);
  }
  return out;
}

/** Per-packet cost of the DNAT program at one map size and fill level. */
export async function measureTestRun(o: TestRunOptions): Promise<Measurement[]> {
  const base = { services: o.services, fill: o.fill };
  const lb = await loadLb({ prefix: o.prefix, label: `test-run-${o.services}-${o.fill}`, maxEntries: sizesForFill(o.program, o.fill) });
  try {
    lb.fill([...renderImages(o.program), ...probeImages()], 'auto');
    lb.setConfig(0);
    // The frontend in the middle of the model: a hash map has no favourite position, and this shows it does not need one.
    const mid = entriesOf(o.program, Math.floor(o.program.maps.frontends.length / 2))[0];
    if (!mid) throw new Error('model has no frontend');
    const vip = formatIPv4(mid.address);
    const hitFrame = craftPacket({ proto: 'udp', saddr: ADDR.client, daddr: vip, sport: 40000, dport: mid.dport });
    const probeFrame = craftPacket({ proto: 'udp', saddr: ADDR.client, daddr: PROBE.a.address, sport: 40000, dport: PROBE.a.port });
    const missFrame = craftPacket({ proto: 'udp', saddr: ADDR.client, daddr: '10.255.0.1', sport: 40000, dport: mid.dport });
    let sport = 1024;
    const newFlow = (): Buffer => craftPacket({ proto: 'udp', saddr: ADDR.client, daddr: vip, sport: (sport = sport >= 65535 ? 1024 : sport + 1), dport: mid.dport });
    // Warm-up (caches, the established flows' conntrack entries); discarded.
    runMany(lb, () => hitFrame, 50, 1, 'dnat');
    runMany(lb, () => probeFrame, 5, 1001, 'probe');
    runMany(lb, () => missFrame, 50, 1, 'unchanged');
    const probeHit = runMany(lb, () => probeFrame, o.repeatCalls, o.repeat, 'probe');
    const missN = runMany(lb, () => missFrame, o.repeatCalls, o.repeat, 'unchanged');
    lb.setConfig(CFG_NO_CONNTRACK);
    const probeSelect = runMany(lb, () => probeFrame, o.repeatCalls, o.repeat, 'probe');
    lb.setConfig(0);
    const established = runMany(lb, () => hitFrame, o.samples, 1, 'dnat');
    const fresh = runMany(lb, newFlow, o.samples, 1, 'dnat');
    const miss1 = runMany(lb, () => missFrame, o.samples, 1, 'unchanged');
    const offset = median(miss1) - median(missN);
    const once = { timerOffsetNs: offset, vip: `${vip}:${mid.dport}` };
    const probe = { frontend: `${PROBE.a.address}:${PROBE.a.port}` };
    const results = [
      ns({ ...base, hit: true, flow: 'established', repeat: o.repeat }, probeHit, probe),
      ns({ ...base, hit: true, flow: 'no-conntrack', repeat: o.repeat }, probeSelect, probe),
      ns({ ...base, hit: false, repeat: o.repeat }, missN, {}),
      ns({ ...base, hit: true, flow: 'established', repeat: 1 }, established, { ...once, correctedNs: median(established) - offset }),
      ns({ ...base, hit: true, flow: 'new', repeat: 1 }, fresh, { ...once, correctedNs: median(fresh) - offset }),
      ns({ ...base, hit: false, repeat: 1 }, miss1, once),
    ];
    if (o.bpftool) results.push(...(await crossCheck(lb, o, { probeFrame, missFrame })));
    return results;
  } finally {
    await lb.close();
  }
}

/**
 * bpftool prog run on the pinned program with the same frames and repeat,
 * interleaved with the addon's own runs so drift on a shared machine hits both.
 */
async function crossCheck(lb: LoadedLb, o: TestRunOptions, f: { probeFrame: Buffer; missFrame: Buffer }): Promise<Measurement[]> {
  const pinned = join(lb.bpffs.dir, LB_PROGS.dnat);
  const base = { services: o.services, fill: o.fill, tool: 'bpftool', repeat: o.repeat };
  const out: Measurement[] = [];
  for (const [hit, frame] of [[true, f.probeFrame], [false, f.missFrame]] as const) {
    const params: Record<string, ParamValue> = { ...base, hit, ...(hit ? { flow: 'established' } : {}) };
    try {
      const samples: number[] = [];
      const addon: number[] = [];
      for (let i = 0; i < o.bpftoolRuns; i++) {
        const r = await bpftoolProgRun(pinned, frame, o.repeat, o.prefix);
        if (r.retval !== TC_ACT_OK) throw new Error(`bpftool prog run: return value ${r.retval}`);
        samples.push(r.durationNs);
        addon.push(...runMany(lb, () => frame, 1, o.repeat, hit ? 'probe' : 'unchanged'));
      }
      const addonNs = median(addon);
      const m = ns(params, samples, { addonNs, addonSamples: addon, ratio: addonNs > 0 ? median(samples) / addonNs : null });
      out.push({ ...m, name: 'prog-test-run-bpftool' });
    } catch (err) {
      out.push({ suite: EBPF_SUITE, name: 'prog-test-run-bpftool', unit: 'ns', params, status: 'failed', reason: (err as Error).message });
    }
  }
  return out;
}
