// A small model of what the kernel holds after `nft -f` of our transactions,
// covering exactly the operations this renderer emits. It lets tests (and a
// loader's self-check) chain syncs — full, then partial, then stale-chain
// cleanup — and compare the result with a fresh full sync, the way upstream's
// tests compare knftables.Fake's Dump() after each sync.
//
// It is deliberately strict where real nft is: referencing a missing object,
// re-adding a map element with a different value, or deleting a chain that is
// still jumped to all throw.

import { TABLE } from './syntax.js';

interface ObjectDef {
  /** The "add …" line that created it, as Dump() prints it. */
  readonly def: string;
}

interface ChainState extends ObjectDef {
  rules: string[];
}

interface ContainerState extends ObjectDef {
  /** key → the "{ … }" body as written (key, comment, value). */
  readonly elements: Map<string, { value: string; body: string }>;
}

export interface Ruleset {
  table: string | null;
  readonly chains: Map<string, ChainState>;
  readonly sets: Map<string, ContainerState>;
  readonly maps: Map<string, ContainerState>;
}

export function emptyRuleset(): Ruleset {
  return { table: null, chains: new Map(), sets: new Map(), maps: new Map() };
}

const PREFIX_LEN = TABLE.length + 1;
const LINE = /^(add|flush|delete) (table|chain|rule|set|map|element) /;

function fail(line: string, why: string): never {
  throw new Error(`nft: ${why}: ${line}`);
}

/** Split "NAME rest" after the table. */
function nameAndRest(line: string, offset: number): [string, string] {
  const body = line.slice(offset);
  if (!body.startsWith(`${TABLE} `)) fail(line, 'wrong table');
  const after = body.slice(PREFIX_LEN);
  const sp = after.indexOf(' ');
  return sp < 0 ? [after, ''] : [after.slice(0, sp), after.slice(sp + 1)];
}

/** Parse an element body "{ KEY[ comment "…"][ : VALUE] }" into key and value. */
function parseElement(line: string, rest: string): { key: string; value: string; body: string } {
  if (!rest.startsWith('{ ') || !rest.endsWith(' }')) fail(line, 'bad element');
  const body = rest.slice(2, -2);
  let keyPart = body;
  let value = '';
  const colon = body.lastIndexOf(' : ');
  if (colon >= 0) {
    keyPart = body.slice(0, colon);
    value = body.slice(colon + 3);
  }
  const comment = keyPart.indexOf(' comment "');
  const key = comment >= 0 ? keyPart.slice(0, comment) : keyPart;
  return { key, value, body };
}

function referencedBy(rs: Ruleset, chain: string): string | null {
  const jump = new RegExp(`(?:^|[ {])(?:jump|goto) ${chain.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?:$|[ ,}])`);
  for (const [name, c] of rs.chains) {
    if (name === chain) continue;
    for (const r of c.rules) if (jump.test(r)) return `rule in ${name}`;
  }
  for (const [name, m] of rs.maps) {
    for (const e of m.elements.values()) if (e.value === `goto ${chain}` || e.value === `jump ${chain}`) return `element of ${name}`;
  }
  return null;
}

function container(rs: Ruleset, kind: string, name: string, line: string): ContainerState {
  const c = kind === 'set' ? rs.sets.get(name) : rs.maps.get(name);
  if (c === undefined) fail(line, `no such ${kind}`);
  return c;
}

/** Apply one operation line. */
export function applyLine(rs: Ruleset, line: string): void {
  const m = LINE.exec(line);
  if (m === null) fail(line, 'unsupported operation');
  const verb = m[1] ?? '';
  const kind = m[2] ?? '';
  const offset = m[0].length;
  if (kind === 'table') {
    if (verb !== 'add') fail(line, 'unsupported table operation');
    rs.table ??= line;
    return;
  }
  if (rs.table === null) fail(line, 'no such table');
  const [name, rest] = nameAndRest(line, offset);

  switch (`${verb} ${kind}`) {
    case 'add chain':
      if (!rs.chains.has(name)) rs.chains.set(name, { def: line, rules: [] });
      return;
    case 'flush chain': {
      const c = rs.chains.get(name);
      if (c === undefined) fail(line, 'no such chain');
      c.rules = [];
      return;
    }
    case 'delete chain': {
      if (!rs.chains.has(name)) fail(line, 'no such chain');
      const ref = referencedBy(rs, name);
      if (ref !== null) fail(line, `chain still referenced (${ref})`);
      rs.chains.delete(name);
      return;
    }
    case 'add rule': {
      const c = rs.chains.get(name);
      if (c === undefined) fail(line, 'no such chain');
      for (const target of rest.matchAll(/(?:jump|goto) (\S+)/g)) {
        const t = target[1];
        if (t !== undefined && !rs.chains.has(t)) fail(line, `no such chain ${t}`);
      }
      for (const ref of rest.matchAll(/@([^\s,}]+)/g)) {
        const t = ref[1];
        if (t !== undefined && !rs.sets.has(t) && !rs.maps.has(t)) fail(line, `no such set or map ${t}`);
      }
      c.rules.push(rest);
      return;
    }
    case 'add set':
      if (!rs.sets.has(name)) rs.sets.set(name, { def: line, elements: new Map() });
      return;
    case 'add map':
      if (!rs.maps.has(name)) rs.maps.set(name, { def: line, elements: new Map() });
      return;
    case 'flush set':
    case 'flush map':
      container(rs, kind, name, line).elements.clear();
      return;
    case 'delete set':
      if (!rs.sets.delete(name)) fail(line, 'no such set');
      return;
    case 'add element': {
      const c = rs.sets.get(name) ?? rs.maps.get(name);
      if (c === undefined) fail(line, 'no such set or map');
      const e = parseElement(line, rest);
      const target = /^(?:goto|jump) (\S+)$/.exec(e.value);
      if (target?.[1] !== undefined && !rs.chains.has(target[1])) fail(line, `no such chain ${target[1]}`);
      const existing = c.elements.get(e.key);
      if (existing !== undefined && existing.value !== e.value) fail(line, 'element exists with another value');
      if (existing === undefined) c.elements.set(e.key, { value: e.value, body: e.body });
      return;
    }
    case 'delete element': {
      const c = rs.sets.get(name) ?? rs.maps.get(name);
      if (c === undefined) fail(line, 'no such set or map');
      const e = parseElement(line, rest);
      if (!c.elements.delete(e.key)) fail(line, 'no such element');
      return;
    }
    default:
      fail(line, 'unsupported operation');
  }
}

/** Apply a whole transaction. Unlike nft, a failure leaves the ruleset partly applied. */
export function applyTransaction(rs: Ruleset, lines: readonly string[]): Ruleset {
  for (const line of lines) applyLine(rs, line);
  return rs;
}

function sortedKeys<T>(m: ReadonlyMap<string, T>): string[] {
  return [...m.keys()].sort();
}

/**
 * The ruleset as "add" lines in knftables.Fake's Dump() order: table, chains,
 * sets, maps (each by name), then rules chain by chain, then elements.
 */
export function dumpRuleset(rs: Ruleset): string {
  const out: string[] = [];
  if (rs.table === null) return '';
  out.push(rs.table);
  const chains = sortedKeys(rs.chains);
  const sets = sortedKeys(rs.sets);
  const maps = sortedKeys(rs.maps);
  for (const n of chains) out.push((rs.chains.get(n) as ChainState).def);
  for (const n of sets) out.push((rs.sets.get(n) as ContainerState).def);
  for (const n of maps) out.push((rs.maps.get(n) as ContainerState).def);
  for (const n of chains) for (const r of (rs.chains.get(n) as ChainState).rules) out.push(`add rule ${TABLE} ${n} ${r}`);
  for (const [group, names] of [
    [rs.sets, sets],
    [rs.maps, maps],
  ] as const) {
    for (const n of names) {
      for (const e of (group.get(n) as ContainerState).elements.values()) out.push(`add element ${TABLE} ${n} { ${e.body} }`);
    }
  }
  return `${out.join('\n')}\n`;
}
