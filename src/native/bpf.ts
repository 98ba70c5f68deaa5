// The eBPF loader half of the native addon (native/bpf_loader.cc): types of its
// entry points, and thin wrappers that turn -errno into NativeError with the
// verifier's / libbpf's last message attached. Keys and values cross as Buffers
// laid out by src/dataplane/ebpf/maps.ts; this module knows no struct layout.
import { check, native, NativeError } from './index.js';

export type BatchMethod = 'batch' | 'single';
export type TcDirection = 'ingress' | 'egress';

export interface BpfMapInfo {
  name: string;
  fd: number;
  /** Kernel id, as `bpftool map list` shows it. */
  id: number;
  /** enum bpf_map_type */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

export interface BpfProgInfo {
  name: string;
  fd: number;
  /** Kernel id, as `bpftool prog list` shows it. */
  id: number;
}

export interface BatchResult {
  /** What was used: BPF_MAP_*_BATCH, or one bpf() call per element. */
  method: BatchMethod;
  count: number;
  /** Inside the addon, from entry to return. */
  totalNs: number;
  /** Only the bpf() syscalls. */
  syscallNs: number;
  /** Why 'auto' fell back to single-element calls, when it did. */
  fallback?: string;
}

export interface TestRunResult {
  /** The program's return code (TC_ACT_*). */
  retval: number;
  /** The kernel's average per run over `repeat` runs, in ns. */
  durationNs: number;
  /** The packet as the program left it. */
  data: Buffer;
}

/** The BPF loader entry points of the addon; NativeAddon (src/native/index.ts) extends this. */
export interface BpfLoaderAddon {
  /** Open an object file, set max_entries of the named maps, load it. Returns a handle (> 0). */
  bpfObjectLoad(path: string, maxEntries: Record<string, number>): number;
  bpfObjectClose(handle: number): number;
  bpfObjectMaps(handle: number): BpfMapInfo[] | number;
  bpfObjectProgs(handle: number): BpfProgInfo[] | number;
  /** What libbpf (and the verifier) printed during the last load, warnings and errors only. */
  bpfLastLog(): string;
  bpfMapUpdateBatch(fd: number, keys: Buffer, values: Buffer, keySize: number, valueSize: number, method: BatchMethod | 'auto', flags: number): BatchResult | number;
  bpfMapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): number;
  bpfMapDelete(fd: number, key: Buffer): number;
  bpfMapLookup(fd: number, key: Buffer, valueSize: number): Buffer | number;
  bpfMapKeys(fd: number, keySize: number): Buffer | number;
  bpfMapClear(fd: number, keySize: number, method: BatchMethod | 'auto'): BatchResult | number;
  bpfMapCount(fd: number, keySize: number): number;
  bpfProgTestRun(progFd: number, packet: Buffer, repeat: number, outSize: number): TestRunResult | number;
  /** Attach to a device's clsact hook inside a netns (created when missing); returns the attached program's id. */
  bpfTcAttach(netnsPath: string, ifname: string, direction: TcDirection, progFd: number, handle: number, priority: number): number;
  bpfTcDetach(netnsPath: string, ifname: string, direction: TcDirection, handle: number, priority: number): number;
  /** The id of the program attached at (handle, priority), 0 when none. */
  bpfTcQuery(netnsPath: string, ifname: string, direction: TcDirection, handle: number, priority: number): number;
  /** Remove the device's clsact qdisc and every filter on it. */
  bpfTcHookDestroy(netnsPath: string, ifname: string): number;
  bpfObjPin(fd: number, path: string): number;
}

/** BPF_ANY / BPF_NOEXIST / BPF_EXIST for map updates. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

/** The loader half of the addon, or throw with the reason it is unavailable. */
export function bpfAddon(): BpfLoaderAddon {
  return native() as unknown as BpfLoaderAddon;
}

/** A loaded BPF object: its maps and programs by name, closed exactly once. */
export interface BpfObject {
  readonly handle: number;
  readonly maps: ReadonlyMap<string, BpfMapInfo>;
  readonly progs: ReadonlyMap<string, BpfProgInfo>;
  map(name: string): BpfMapInfo;
  prog(name: string): BpfProgInfo;
  close(): void;
}

/** Open and load an object file; a verifier rejection carries libbpf's log in the message. */
export function loadBpfObject(path: string, maxEntries: Record<string, number>): BpfObject {
  const addon = bpfAddon();
  const r = addon.bpfObjectLoad(path, maxEntries);
  if (r < 0) {
    const log = addon.bpfLastLog().trim();
    const err = new NativeError(`loading BPF object ${path}`, -r);
    if (log) err.message += `\n${log.split('\n').slice(-30).join('\n')}`;
    throw err;
  }
  const handle = r;
  const maps = new Map(check('bpfObjectMaps', addon.bpfObjectMaps(handle)).map((m) => [m.name, m]));
  const progs = new Map(check('bpfObjectProgs', addon.bpfObjectProgs(handle)).map((p) => [p.name, p]));
  let closed = false;
  return {
    handle,
    maps,
    progs,
    map(name) {
      const m = maps.get(name);
      if (!m) throw new Error(`BPF object ${path} has no map ${name}`);
      return m;
    },
    prog(name) {
      const p = progs.get(name);
      if (!p) throw new Error(`BPF object ${path} has no program ${name}`);
      return p;
    },
    close() {
      if (closed) return;
      closed = true;
      check('bpfObjectClose', addon.bpfObjectClose(handle));
    },
  };
}
