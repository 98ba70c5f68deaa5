// The thin shell between the eBPF backend and the addon: load bpf/kscale_lb.o
// with maps sized for a program, pin it in the run's bpffs, fill maps from
// rendered images (batch, with a measured fallback), attach/detach the tc
// programs in the node namespace, and take it all down again. Every kernel
// object it creates is released by close(), which is also registered with the
// run's cleanup so an error or Ctrl-C leaves nothing behind.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PACKAGE_ROOT } from '../../paths.js';
import { onCleanup } from '../../host/cleanup.js';
import { check } from '../../native/index.js';
import { bpfAddon, BPF_ANY, loadBpfObject } from '../../native/bpf.js';
import type { BatchMethod, BatchResult, BpfObject, TcDirection } from '../../native/bpf.js';
import { mountBpffs, unpin } from './bpffs.js';
import type { Bpffs } from './bpffs.js';

export const LB_OBJECT_PATH = join(PACKAGE_ROOT, 'bpf', 'kscale_lb.o');

/** Map and program names in bpf/kscale_lb.c. */
export const LB_MAPS = {
  services: 'kscale_lb4_services',
  backends: 'kscale_lb4_backends',
  revNat: 'kscale_lb4_reverse_nat',
  conntrack: 'kscale_ct4',
  config: 'kscale_config',
} as const;
export const LB_PROGS = { dnat: 'kscale_lb4_dnat', rnat: 'kscale_lb4_rnat' } as const;

/** Bits of struct kscale_config.flags. */
export const CFG_HASH_SELECT = 1;
export const CFG_NO_CONNTRACK = 2;

/** One map's rendered contents: `count` keys and values back to back. */
export interface MapImage {
  /** Map name in the object. */
  map: string;
  keySize: number;
  valueSize: number;
  keys: Buffer;
  values: Buffer;
}

/** Where the programs hook in: the DNAT on the client-facing device, the reverse NAT on the backend-facing one. */
export interface Attachment {
  netnsPath: string;
  device: string;
  direction: TcDirection;
  prog: string;
}

/** tc filter handle and priority kscale uses (one filter per hook). */
const TC_HANDLE = 1;
const TC_PRIORITY = 1;

export interface FillResult {
  method: BatchMethod;
  entries: number;
  /** Wall time in this process around the addon calls. */
  wallMs: number;
  /** The bpf() syscalls alone, timed in the addon. */
  syscallMs: number;
  /** Inside the addon (syscalls plus argument handling). */
  addonMs: number;
  fallback?: string;
}

export interface LoadedLb {
  readonly object: BpfObject;
  readonly bpffs: Bpffs;
  readonly pins: readonly string[];
  readonly attachments: readonly Attachment[];
  /** Fill maps from images; `method` 'auto' tries BPF_MAP_UPDATE_BATCH and falls back per element. */
  fill(images: readonly MapImage[], method: BatchMethod | 'auto'): FillResult;
  setConfig(flags: number): void;
  attach(a: Attachment): number;
  detachAll(): void;
  /** Delete every entry of every map (the flush a cleanup does), timed like fill. */
  clear(method: BatchMethod | 'auto'): FillResult;
  /** Detach, unpin, close, unmount (idempotent). */
  close(): Promise<void>;
}

export interface LoadOptions {
  prefix: string;
  /** Distinguishes several loads in one run (one bpffs each). */
  label: string;
  /** max_entries per map name. */
  maxEntries: Record<string, number>;
  objectPath?: string;
  /** Pin maps and programs in the run's bpffs (default true). */
  pin?: boolean;
}

function sumResults(results: BatchResult[], wallMs: number): FillResult {
  const fallback = results.find((r) => r.fallback)?.fallback;
  return {
    method: results.some((r) => r.method === 'single') ? 'single' : 'batch',
    entries: results.reduce((n, r) => n + r.count, 0),
    wallMs,
    syscallMs: results.reduce((n, r) => n + r.syscallNs, 0) / 1e6,
    addonMs: results.reduce((n, r) => n + r.totalNs, 0) / 1e6,
    ...(fallback ? { fallback } : {}),
  };
}

export async function loadLb(o: LoadOptions): Promise<LoadedLb> {
  const path = o.objectPath ?? LB_OBJECT_PATH;
  if (!existsSync(path)) throw new Error(`BPF object ${path} missing (npm run setup compiles bpf/*.c with clang)`);
  const addon = bpfAddon();
  const bpffs = await mountBpffs(o.prefix, o.label);
  let object: BpfObject;
  try {
    object = loadBpfObject(path, o.maxEntries);
  } catch (err) {
    await bpffs.release();
    throw err;
  }
  const pins: string[] = [];
  const attachments: Attachment[] = [];
  let closed = false;
  const detachAll = (): void => {
    for (const a of attachments.splice(0)) {
      // The namespace may be gone already (sandbox destroyed first): then so is the filter.
      addon.bpfTcDetach(a.netnsPath, a.device, a.direction, TC_HANDLE, TC_PRIORITY);
      addon.bpfTcHookDestroy(a.netnsPath, a.device);
    }
  };
  const teardown = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    detachAll();
    for (const p of pins.splice(0)) unpin(p);
    object.close();
    await bpffs.release();
  };
  const undo = onCleanup(`BPF object ${o.prefix}-${o.label}`, teardown);
  try {
    if (o.pin !== false) {
      for (const m of object.maps.values()) {
        const p = join(bpffs.dir, m.name);
        check(`pin map ${m.name}`, addon.bpfObjPin(m.fd, p));
        pins.push(p);
      }
      for (const prog of object.progs.values()) {
        const p = join(bpffs.dir, prog.name);
        check(`pin program ${prog.name}`, addon.bpfObjPin(prog.fd, p));
        pins.push(p);
      }
    }
  } catch (err) {
    await undo();
    throw err;
  }
  return {
    object,
    bpffs,
    pins,
    attachments,
    fill(images, method) {
      const results: BatchResult[] = [];
      const t0 = performance.now();
      for (const img of images) {
        const fd = object.map(img.map).fd;
        results.push(check(`fill ${img.map}`, addon.bpfMapUpdateBatch(fd, img.keys, img.values, img.keySize, img.valueSize, method, BPF_ANY)));
      }
      return sumResults(results, performance.now() - t0);
    },
    setConfig(flags) {
      const key = Buffer.alloc(4);
      const value = Buffer.alloc(4);
      value.writeUInt32LE(flags >>> 0, 0);
      check('set kscale_config', addon.bpfMapUpdate(object.map(LB_MAPS.config).fd, key, value, BPF_ANY));
    },
    attach(a) {
      const id = check(`tc attach ${a.prog} to ${a.device} ${a.direction}`, addon.bpfTcAttach(a.netnsPath, a.device, a.direction, object.prog(a.prog).fd, TC_HANDLE, TC_PRIORITY));
      attachments.push(a);
      return id;
    },
    detachAll,
    clear(method) {
      const results: BatchResult[] = [];
      const t0 = performance.now();
      for (const m of object.maps.values()) {
        if (m.name === LB_MAPS.config) continue; // an array: its elements cannot be deleted
        results.push(check(`clear ${m.name}`, addon.bpfMapClear(m.fd, m.keySize, method)));
      }
      return sumResults(results, performance.now() - t0);
    },
    close: undo,
  };
}
