// nftables-only test helpers: the fake proxier's options, fixture loading, and
// the normalisation upstream's tests apply before comparing (reimplemented
// here from its description). Model builders live in ../helpers.ts.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { applyTransaction, dumpRuleset, emptyRuleset } from '../../../src/dataplane/nftables/index.js';
import type { NftProgram, NftRenderOptions } from '../../../src/dataplane/nftables/index.js';
import { FAKE_MARK } from '../helpers.js';

/**
 * The fake proxier hard-codes mark "0x4000" (real kube-proxy formats the bit
 * as 0x00004000) and ServiceCIDR 172.30.0.0/16. Its --nodeport-addresses
 * (192.168.0.2/32) resolves to the node IP, which is our default.
 */
export const UPSTREAM_OPTS: NftRenderOptions = {
  masqueradeMark: FAKE_MARK,
  serviceCIDRs: ['172.30.0.0/16'],
};

const FIXTURES = fileURLToPath(new URL('../../fixtures/nftables/', import.meta.url));

export function fixture(path: string): string {
  return readFileSync(FIXTURES + path, 'utf8');
}

/** Blocks of a fixture split at "#### <name> [ops=<n>]" lines. */
export function fixtureSteps(path: string): { name: string; ops: number | null; text: string }[] {
  const out: { name: string; ops: number | null; text: string }[] = [];
  let cur: { name: string; ops: number | null; lines: string[] } | null = null;
  for (const line of fixture(path).split('\n')) {
    const m = /^#### (\S+)(?: ops=(\d+))?$/.exec(line);
    if (m !== null) {
      if (cur !== null) out.push({ name: cur.name, ops: cur.ops, text: cur.lines.join('\n') });
      cur = { name: m[1] ?? '', ops: m[2] === undefined ? null : Number(m[2]), lines: [] };
    } else if (cur !== null) {
      cur.lines.push(line);
    }
  }
  if (cur !== null) out.push({ name: cur.name, ops: cur.ops, text: cur.lines.join('\n') });
  return out;
}

// Higher sorts earlier; upstream orders types this way so diffs read top-down.
const OBJECT_ORDER: Record<string, number> = { table: 10, chain: 9, rule: 8, set: 7, map: 6, element: 5 };

/**
 * Upstream's comparison normalisation (sortNFTablesTransaction): drop blank
 * and "#" lines, then stable-sort by object type, then by object name; rules
 * of one chain keep their order, other same-name lines sort by full text.
 */
export function normalize(text: string): string {
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const less = (a: string, b: string): boolean => {
    const wa = a.split(' ');
    const wb = b.split(' ');
    if (wa.length < 5 || wb.length < 5) return false;
    const ta = wa[1] ?? '';
    const tb = wb[1] ?? '';
    // Upstream writes ">=" here; for distinct known types that is ">", which keeps the order strict.
    if (ta !== tb) return (OBJECT_ORDER[ta] ?? 0) > (OBJECT_ORDER[tb] ?? 0);
    const na = wa[4] ?? '';
    const nb = wb[4] ?? '';
    if (na !== nb) return na < nb;
    if (ta === 'rule') return false;
    return a < b;
  };
  // Array.prototype.sort is stable, as Go's sort.SliceStable is.
  return lines.sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0)).join('\n');
}

/** What the kernel would hold after applying `programs` in order to a fresh namespace. */
export function dumpAfter(...programs: NftProgram[]): string {
  const rs = emptyRuleset();
  for (const p of programs) applyTransaction(rs, p.lines);
  return dumpRuleset(rs);
}
