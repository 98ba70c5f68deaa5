// The kernel-facing native addon (native/*.cc, built by scripts/setup.mjs with node-gyp).
// Native entry points return a negative errno on failure; this module is the one
// place that turns those numbers into NativeError, so callers get the operation
// and the errno name (EPERM, ENOENT…) instead of a bare number.
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import type { BpfLoaderAddon } from './bpf.js';
import type { TrafficAddon } from './traffic.js';

export interface NativeAddon extends BpfLoaderAddon, TrafficAddon {
  libbpfVersion(): string;
  probeProgType(type: number): number;
  probeMapType(type: number): number;
  /** preallocate: posix_fallocate the whole file first, as fio (fallocate=native) and etcd's WAL do. */
  fdatasyncProbe(path: string, blockBytes: number, count: number, preallocate?: boolean): Float64Array | number;
}

export class NativeError extends Error {
  override readonly name = 'NativeError';
  readonly op: string;
  readonly errno: number;
  /** The errno's symbolic name, e.g. 'EPERM'; 'E?' when the number is unknown. */
  readonly code: string;
  constructor(op: string, errno: number) {
    const code = errnoName(errno);
    super(`${op} failed: ${code} (errno ${errno})`);
    this.op = op;
    this.errno = errno;
    this.code = code;
  }
}

const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? 'E?';
}

/** Throw NativeError when a native call returned -errno; pass other values through. */
export function check<T>(op: string, result: T | number): T {
  if (typeof result === 'number' && result < 0) throw new NativeError(op, -result);
  return result as T;
}

export const ADDON_PATH = join(PACKAGE_ROOT, 'build', 'Release', 'kscale.node');

type Loaded = { ok: true; addon: NativeAddon } | { ok: false; reason: string };
let loaded: Loaded | undefined;

/** Load the addon once; a missing or broken build is a reason, not a crash. */
export function loadNative(): Loaded {
  if (loaded) return loaded;
  if (!existsSync(ADDON_PATH)) {
    loaded = { ok: false, reason: `native addon not built (${ADDON_PATH} missing; run "npm run setup")` };
    return loaded;
  }
  try {
    const require = createRequire(import.meta.url);
    loaded = { ok: true, addon: require(ADDON_PATH) as NativeAddon };
  } catch (err) {
    loaded = { ok: false, reason: `native addon failed to load: ${(err as Error).message}` };
  }
  return loaded;
}

/** The addon, or throw with the reason it is unavailable. */
export function native(): NativeAddon {
  const result = loadNative();
  if (!result.ok) throw new Error(result.reason);
  return result.addon;
}
