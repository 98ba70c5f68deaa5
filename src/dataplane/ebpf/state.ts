// What the kernel's lb4 maps hold after a full load and the incremental
// changes since, kept the way Cilium's agent keeps it: backend ids and
// reverse-NAT indices are allocated here (a rendered program only knows a
// fresh load's ids), backends are reference-counted over the slots that use
// them, and a change to one Service writes that Service's entries and nothing
// else. Everything kernel-facing goes through a MapWriter, so the logic is
// tested against an in-memory writer as well as the real maps.
//
// Loading 500,000 entries must not cost a JavaScript object per entry here:
// the state of a frontend untouched since the load is read from the loaded
// program on demand, and only touched frontends get their own record.
import { LB_MAPS } from './loader.js';
import {
  encodeBackendKey, encodeBackendValue, encodeRevNatKey, encodeRevNatValue, encodeServiceKey, encodeServiceValue,
} from './maps.js';
import type { BackendEntry, ServiceEntry } from './maps.js';
import { backendOf, entriesOf, frontendKey } from './program.js';
import type { EbpfProgram } from './program.js';

/** Single-element map writes. */
export interface MapWriter {
  update(map: string, key: Buffer, value: Buffer): void;
  /** Deleting an absent key is not an error. */
  delete(map: string, key: Buffer): void;
}

interface FrontendState {
  revNat: number;
  /** (scope, slot) of every service-map entry the kernel holds for it. */
  entries: { scope: number; slot: number }[];
  /** Kernel backend ids its slots use, one per slot (refs count slots). */
  backendIds: number[];
}

const PROTO_CODE: Record<number, number> = { 6: 0, 17: 1, 132: 2 };

/** A number naming (address, port, proto) exactly: address·2^18 + port·4 + proto code (< 2^50). */
export function backendNumber(b: Pick<BackendEntry, 'address' | 'port' | 'proto'>): number {
  return b.address * 262144 + b.port * 4 + (PROTO_CODE[b.proto] ?? 3);
}

export class LoadedState {
  private readonly base: EbpfProgram;
  /** Frontends changed since the load (null: removed). */
  private readonly touched = new Map<string, FrontendState | null>();
  private readonly idOf = new Map<number, number>();
  private readonly keyOf: number[] = [];
  private refs: Uint32Array;
  /**
   * Backend ids are never reused (a __u32 does not run out): an established flow's
   * conntrack entry names its backend by id, and a reused id would move it to
   * another backend. Reverse-NAT indices (a __u16) are, oldest freed first.
   */
  private nextId: number;
  private readonly freeRevNat: number[] = [];
  private nextRevNat: number;
  /** Set for good once frontend keys were contested (see needsWholePrograms). */
  private contested = false;

  /** State right after a full load of `program` (its own ids). */
  constructor(program: EbpfProgram) {
    this.base = program;
    for (const b of program.maps.backends) {
      const n = backendNumber(b);
      this.idOf.set(n, b.id);
      this.keyOf[b.id] = n;
    }
    this.refs = new Uint32Array(program.maps.backends.length + 2);
    const { services } = program.maps;
    for (let i = 0; i < services.length; i++) {
      const id = services.slotBackendIdAt(i);
      if (id > 0) this.refs[id]!++;
    }
    this.nextId = program.maps.backends.length + 1;
    this.nextRevNat = program.maps.frontends.length + 1;
  }

  /** Backend ids currently in use (what the backend map should hold). */
  backendsInUse(): number {
    return this.idOf.size;
  }

  private stateOf(key: string): FrontendState | undefined {
    if (this.touched.has(key)) return this.touched.get(key) ?? undefined;
    const i = this.base.frontendIndex.get(key);
    if (i === undefined) return undefined;
    const entries = entriesOf(this.base, i);
    return {
      revNat: i + 1,
      entries: entries.map((e) => ({ scope: e.scope, slot: e.backendSlot })),
      backendIds: entries.filter((e) => e.backendSlot > 0).map((e) => e.backendId),
    };
  }

  private acquire(w: MapWriter, b: BackendEntry): number {
    const n = backendNumber(b);
    let id = this.idOf.get(n);
    if (id === undefined) {
      id = this.nextId++;
      w.update(LB_MAPS.backends, encodeBackendKey({ ...b, id }), encodeBackendValue(b));
      this.idOf.set(n, id);
      this.keyOf[id] = n;
    }
    if (id >= this.refs.length) {
      const grown = new Uint32Array(Math.max(id + 1, this.refs.length * 2));
      grown.set(this.refs);
      this.refs = grown;
    }
    this.refs[id]!++;
    return id;
  }

  private release(w: MapWriter, id: number): void {
    if (!this.refs[id]) return;
    if (--this.refs[id]! > 0) return;
    w.delete(LB_MAPS.backends, encodeBackendKey({ id, address: 0, port: 0, proto: 0, flags: 0 }));
    const n = this.keyOf[id];
    if (n !== undefined) this.idOf.delete(n);
  }

  /**
   * Bring one frontend's kernel entries to `want` (its entries in `program`, slot 0
   * first per scope); an empty `want` removes it. The order keeps every lookup a
   * packet can make valid: backends and slots before the slot-0 count that makes
   * them reachable, stale slots after it, and a removed frontend's slot 0 first.
   */
  syncFrontend(w: MapWriter, front: ServiceEntry, want: readonly ServiceEntry[], program: EbpfProgram): void {
    const key = frontendKey(front);
    const cur = this.stateOf(key);
    const keyAt = (scope: number, slot: number): Buffer => encodeServiceKey({ ...front, scope, backendSlot: slot });
    if (want.length === 0) {
      if (!cur) return;
      for (const e of [...cur.entries].sort((a, b) => a.slot - b.slot)) w.delete(LB_MAPS.services, keyAt(e.scope, e.slot));
      for (const id of cur.backendIds) this.release(w, id);
      w.delete(LB_MAPS.revNat, encodeRevNatKey({ index: cur.revNat, address: 0, port: 0 }));
      this.freeRevNat.push(cur.revNat);
      this.touched.set(key, null);
      return;
    }
    let revNat = cur?.revNat;
    if (revNat === undefined) {
      revNat = this.freeRevNat.shift() ?? this.nextRevNat++;
      w.update(LB_MAPS.revNat, encodeRevNatKey({ index: revNat, address: 0, port: 0 }), encodeRevNatValue({ index: revNat, address: front.address, port: front.dport }));
    }
    const backendIds: number[] = [];
    for (const e of want) {
      if (e.backendSlot === 0) continue;
      const id = this.acquire(w, backendOf(program, e.backendId));
      backendIds.push(id);
      w.update(LB_MAPS.services, encodeServiceKey(e), encodeServiceValue({ ...e, backendId: id, revNatIndex: revNat }));
    }
    for (const e of want) {
      if (e.backendSlot === 0) w.update(LB_MAPS.services, encodeServiceKey(e), encodeServiceValue({ ...e, revNatIndex: revNat }));
    }
    const kept = new Set(want.map((e) => `${e.scope}/${e.backendSlot}`));
    for (const e of cur?.entries ?? []) {
      if (!kept.has(`${e.scope}/${e.slot}`)) w.delete(LB_MAPS.services, keyAt(e.scope, e.slot));
    }
    for (const id of cur?.backendIds ?? []) this.release(w, id);
    this.touched.set(key, { revNat, entries: want.map((e) => ({ scope: e.scope, slot: e.backendSlot })), backendIds });
  }

  /**
   * Whether a change to `service` must be applied from the whole models'
   * programs rather than from `before` and `after`, the programs of the
   * Service's own objects (ModelDelta.objects). Only when frontend keys are contested between
   * Services: a Service's own program keeps a frontend the whole render drops
   * for an earlier Service holding the key, and cannot hand a key it gives up
   * to a Service that was waiting for it. So: when the load had a contested
   * key or any change so far did, or a key `after` wants is held by a
   * frontend that is not `before`'s.
   */
  needsWholePrograms(before: EbpfProgram, after: EbpfProgram): boolean {
    if (this.contested) return true;
    const own = new Set(before.frontendIndex.keys());
    let contested = this.base.maps.contested;
    for (const key of after.frontendIndex.keys()) if (!own.has(key) && this.stateOf(key) !== undefined) contested = true;
    this.contested = contested;
    return contested;
  }

  /**
   * Apply what changed for one Service between two programs: every frontend it
   * had or has, brought to what the new program holds under that key — which
   * may now belong to another Service (two Services claiming one NodePort: the
   * survivor takes it over when the first goes).
   */
  syncService(w: MapWriter, service: string, before: EbpfProgram, after: EbpfProgram): void {
    const fronts = new Map<string, ServiceEntry>();
    for (const p of [after, before]) {
      for (const i of p.byService.get(service) ?? []) {
        const first = entriesOf(p, i)[0];
        if (first && !fronts.has(frontendKey(first))) fronts.set(frontendKey(first), first);
      }
    }
    for (const [key, front] of fronts) {
      const i = after.frontendIndex.get(key);
      const want = i === undefined ? [] : entriesOf(after, i);
      this.syncFrontend(w, want[0] ?? front, want, after);
    }
  }
}
