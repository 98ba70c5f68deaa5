// The one interface every dataplane implements. Rendering is pure (unit-tested
// against upstream goldens); loading, updating, reading back and flushing work
// on a Sandbox's node namespace and are integration-tested as root.
import type { Capabilities } from '../host/capabilities.js';
import type { ClusterModel, NodeContext } from '../model/types.js';
import type { Sandbox } from './sandbox.js';

export type BackendName = 'iptables-nft' | 'iptables-legacy' | 'nftables' | 'ipvs' | 'ebpf';
export const BACKEND_NAMES: readonly BackendName[] = ['iptables-nft', 'iptables-legacy', 'nftables', 'ipvs', 'ebpf'];

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}

export type Availability = { available: true } | { available: false; reason: string };

/** Kernel objects a program consists of; whichever the backend has. */
export interface ObjectCounts {
  rules?: number;
  chains?: number;
  setElements?: number;
  mapEntries?: number;
  /** Bytes the kernel reports for the loaded state (BPF map memlock), when it does. */
  kernelBytes?: number;
  /** Change of the host's kernel slab memory across the load (host-wide, so approximate). */
  slabDeltaBytes?: number;
}

/** What one kernel programming step cost. */
export interface SyncTiming {
  /**
   * Wall time of the kernel-side work: the tools (iptables-restore, nft, the
   * iptables-save kube-proxy runs first where it does) or the syscalls. kscale's
   * own computation is not in it: a TypeScript renderer's speed says nothing
   * about kube-proxy's, so it is reported apart, as overheadMs.
   */
  wallMs: number;
  /** CPU time of the loader (iptables-restore, nft, or this process for eBPF). */
  loaderCpuMs: number;
  /** Bytes handed to the kernel-side tool or syscalls. */
  payloadBytes: number;
  /** kscale's own computation in this step (e.g. working out a partial payload), not included in wallMs. */
  overheadMs: number;
}

/** A change between two models, as kube-proxy would see it in one sync. */
export type DeltaKind = 'add-service' | 'change-endpoint' | 'delete-service';

export interface ModelDelta {
  kind: DeltaKind;
  before: ClusterModel;
  after: ClusterModel;
  /** namespace/name of the Service the change is about. */
  service: string;
  /**
   * That Service's objects (the Service, its EndpointSlices) in each model,
   * empty where it is absent: what the watch events of the change carry, so a
   * backend acting on events (eBPF) never searches a 50,000-Service model.
   */
  objects: { before: ClusterModel; after: ClusterModel };
}

export interface VerifyResult {
  ok: boolean;
  /** What the kernel holds, read back after the load. */
  counts: ObjectCounts;
  /** Why it does not match the rendered program (empty when ok). */
  mismatches: string[];
}

export interface DataplaneBackend<P> {
  readonly name: BackendName;
  /** Can this backend run on this host? The reason names the missing piece. */
  probe(caps: Capabilities): Availability;
  /** Pure: the program kube-proxy (or Cilium, for eBPF) would program for this model. */
  render(model: ClusterModel, node: NodeContext): P;
  /**
   * Finish what render() defers until a program is read: the full-sync text,
   * which a partial sync never needs. The sync measurement calls it inside the
   * full load's render timing, so deferring moves no cost out of sight.
   */
  finishRender?(program: P): void;
  /** Objects the rendered program consists of (for the read-back check and the report). */
  counts(program: P): ObjectCounts;
  /** Program an empty node namespace with the whole program. */
  load(sandbox: Sandbox, program: P): Promise<SyncTiming>;
  /**
   * Apply a change. `mode` 'full' rewrites everything (kube-proxy before KEP-3453),
   * 'partial' touches only what changed; backends without the distinction ignore it.
   */
  update(sandbox: Sandbox, before: P, after: P, delta: ModelDelta, mode: 'full' | 'partial'): Promise<SyncTiming>;
  /** Read the kernel's state back and compare it with the program. */
  verify(sandbox: Sandbox, program: P): Promise<VerifyResult>;
  /** Remove everything this backend programmed (timed: "time to flush everything"). */
  flush(sandbox: Sandbox): Promise<SyncTiming>;
}

/** Thrown by load/update/flush when the kernel or the tool refused; the message carries the tool's stderr. */
export class DataplaneError extends Error {
  override readonly name = 'DataplaneError';
  readonly backend: BackendName;
  constructor(backend: BackendName, message: string) {
    super(`${backend}: ${message}`);
    this.backend = backend;
  }
}
