// Read-back: do the lb4 maps hold what a program says? Ids are compared by
// what they name (a backend's address:port/proto), never raw, since after
// incremental changes the kernel's ids are the loaded state's, not the
// program's. Pure over a MapReader: the backend reads the kernel through the
// addon, tests read an in-memory copy.
import { LB_MAPS } from './loader.js';
import { encodeBackendKey, encodeServiceKey } from './maps.js';
import { backendKey, backendOf, entriesOf } from './program.js';
import type { EbpfProgram } from './program.js';

export interface MapReader {
  /** The value under `key`, or undefined when absent. */
  lookup(map: string, key: Buffer): Buffer | undefined;
  count(map: string): number;
}

export interface MapCounts {
  services: number;
  backends: number;
  revNat: number;
}

/** Up to `max` frontend indices spread evenly over the program. */
export function sampleFrontends(p: EbpfProgram, max: number): number[] {
  const n = p.maps.frontends.length;
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, k) => Math.floor((k * n) / max));
}

/** What differs between the maps and frontend i of the program (empty when equal). */
export function checkFrontend(r: MapReader, p: EbpfProgram, i: number): string[] {
  const name = `frontend ${p.maps.frontends[i]?.servicePort ?? i}`;
  const entries = entriesOf(p, i);
  for (const master of entries.filter((e) => e.backendSlot === 0)) {
    const v = r.lookup(LB_MAPS.services, encodeServiceKey(master));
    if (!v) return [`${name} scope ${master.scope}: slot 0 missing`];
    const count = v.readUInt16LE(4);
    if (count !== master.count) return [`${name} scope ${master.scope}: kernel count ${count}, rendered ${master.count}`];
    if (v.readUInt16LE(6) === 0) return [`${name} scope ${master.scope}: no reverse-NAT index`];
    const want = new Set(entries.filter((e) => e.scope === master.scope && e.backendSlot > 0).map((e) => backendKey(backendOf(p, e.backendId))));
    const seen = new Set<string>();
    for (let slot = 1; slot <= count; slot++) {
      const sv = r.lookup(LB_MAPS.services, encodeServiceKey({ ...master, backendSlot: slot }));
      if (!sv) return [`${name}: slot ${slot} missing`];
      const be = r.lookup(LB_MAPS.backends, encodeBackendKey({ id: sv.readUInt32LE(0), address: 0, port: 0, proto: 0, flags: 0 }));
      if (!be) return [`${name}: backend of slot ${slot} missing`];
      seen.add(backendKey({ address: be.readUInt32BE(0), port: be.readUInt16BE(4), proto: be[6] ?? 0 }));
    }
    if (seen.size !== want.size || [...want].some((k) => !seen.has(k))) return [`${name} scope ${master.scope}: kernel backends differ from the rendered ones`];
  }
  return [];
}

/** Counts of every map against the program, and a sample of frontends entry by entry. */
export function compareMaps(r: MapReader, p: EbpfProgram, sample: number): { counts: MapCounts; mismatches: string[] } {
  const counts = { services: r.count(LB_MAPS.services), backends: r.count(LB_MAPS.backends), revNat: r.count(LB_MAPS.revNat) };
  const want = p.maps.counts;
  const mismatches: string[] = [];
  if (counts.services !== want.serviceEntries) mismatches.push(`service map: kernel ${counts.services} entries, rendered ${want.serviceEntries}`);
  if (counts.backends !== want.backends) mismatches.push(`backend map: kernel ${counts.backends} entries, rendered ${want.backends}`);
  if (counts.revNat !== want.revNat) mismatches.push(`reverse-NAT map: kernel ${counts.revNat} entries, rendered ${want.revNat}`);
  for (const i of sampleFrontends(p, sample)) mismatches.push(...checkFrontend(r, p, i));
  return { counts, mismatches };
}
