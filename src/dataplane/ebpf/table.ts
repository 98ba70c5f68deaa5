// The service map's entries, held the way BPF_MAP_UPDATE_BATCH takes them:
// struct lb4_key and struct lb4_service bytes back to back (layouts in
// maps.ts, written here). At 50,000 Services × 10 endpoints that is 550,000 entries; as JS
// objects they cost more to allocate and collect than everything else the
// render did, so they are written once into growing Buffers and decoded into
// a ServiceEntry only where one is asked for.

import { endianness } from 'node:os';
import type { ServiceEntry } from './maps.js';

/** sizeof(struct lb4_key) and sizeof(struct lb4_service). */
export const LB4_KEY_SIZE = 12;
export const LB4_SERVICE_SIZE = 12;
const KEY_SIZE = LB4_KEY_SIZE;
const VALUE_SIZE = LB4_SERVICE_SIZE;
const LE = endianness() === 'LE';

/** struct lb4_key at `off`: address and port in network order, the rest in host order. */
export function writeLb4Key(k: DataView, off: number, address: number, dport: number, backendSlot: number, proto: number, scope: number): void {
  k.setUint32(off, address >>> 0, false);
  k.setUint16(off + 4, dport, false);
  k.setUint16(off + 6, backendSlot, LE);
  k.setUint8(off + 8, proto);
  k.setUint8(off + 9, scope);
  k.setUint16(off + 10, 0);
}

/** struct lb4_service at `off`, host order. */
export function writeLb4Service(v: DataView, off: number, backendId: number, count: number, revNatIndex: number, flags: number, flags2: number): void {
  v.setUint32(off, backendId >>> 0, LE);
  v.setUint16(off + 4, count, LE);
  v.setUint16(off + 6, revNatIndex, LE);
  v.setUint8(off + 8, flags);
  v.setUint8(off + 9, flags2);
  v.setUint16(off + 10, 0); // qcount
}
const INITIAL_CAPACITY = 64;

export class ServiceEntries implements Iterable<ServiceEntry> {
  #length = 0;
  #capacity = 0;
  #keys = Buffer.alloc(0);
  #values = Buffer.alloc(0);
  #kv = new DataView(this.#keys.buffer, this.#keys.byteOffset, 0);
  #vv = new DataView(this.#values.buffer, this.#values.byteOffset, 0);

  get length(): number {
    return this.#length;
  }

  #grow(): void {
    const capacity = Math.max(INITIAL_CAPACITY, this.#capacity * 2);
    const keys = Buffer.allocUnsafe(capacity * KEY_SIZE);
    const values = Buffer.allocUnsafe(capacity * VALUE_SIZE);
    this.#keys.copy(keys, 0, 0, this.#length * KEY_SIZE);
    this.#values.copy(values, 0, 0, this.#length * VALUE_SIZE);
    this.#keys = keys;
    this.#values = values;
    this.#kv = new DataView(keys.buffer, keys.byteOffset, keys.byteLength);
    this.#vv = new DataView(values.buffer, values.byteOffset, values.byteLength);
    this.#capacity = capacity;
  }

  /** Appends one entry (address as the uint32 host value of the IPv4; network-order fields are stored big-endian). */
  push(address: number, dport: number, backendSlot: number, proto: number, scope: number, backendId: number, count: number, revNatIndex: number, flags: number, flags2: number): void {
    if (this.#length === this.#capacity) this.#grow();
    writeLb4Key(this.#kv, this.#length * KEY_SIZE, address, dport, backendSlot, proto, scope);
    writeLb4Service(this.#vv, this.#length * VALUE_SIZE, backendId, count, revNatIndex, flags, flags2);
    this.#length++;
  }

  #check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.#length) throw new RangeError(`service entry ${i} out of range 0..${this.#length - 1}`);
  }

  /** Entry i, decoded. */
  at(i: number): ServiceEntry {
    this.#check(i);
    const k = this.#kv;
    const v = this.#vv;
    const ko = i * KEY_SIZE;
    const vo = i * VALUE_SIZE;
    return {
      address: k.getUint32(ko, false),
      dport: k.getUint16(ko + 4, false),
      backendSlot: k.getUint16(ko + 6, LE),
      proto: k.getUint8(ko + 8),
      scope: k.getUint8(ko + 9),
      backendId: v.getUint32(vo, LE),
      count: v.getUint16(vo + 4, LE),
      revNatIndex: v.getUint16(vo + 6, LE),
      flags: v.getUint8(vo + 8),
      flags2: v.getUint8(vo + 9),
    };
  }

  /** Entry i's rev-NAT index, without decoding the rest. */
  revNatIndexAt(i: number): number {
    this.#check(i);
    return this.#vv.getUint16(i * VALUE_SIZE + 6, LE);
  }

  /** Entry i's backend id if it is a backend slot (slot > 0), else 0. */
  slotBackendIdAt(i: number): number {
    this.#check(i);
    return this.#kv.getUint16(i * KEY_SIZE + 6, LE) === 0 ? 0 : this.#vv.getUint32(i * VALUE_SIZE, LE);
  }

  /** Entries [from, to), decoded. */
  slice(from = 0, to = this.#length): ServiceEntry[] {
    const out: ServiceEntry[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, this.#length); i++) out.push(this.at(i));
    return out;
  }

  *[Symbol.iterator](): Iterator<ServiceEntry> {
    for (let i = 0; i < this.#length; i++) yield this.at(i);
  }

  /** The packed key and value bytes of every entry (views, not copies: the table is complete once rendered). */
  packed(): { keys: Buffer; values: Buffer; count: number } {
    return { keys: this.#keys.subarray(0, this.#length * KEY_SIZE), values: this.#values.subarray(0, this.#length * VALUE_SIZE), count: this.#length };
  }
}
