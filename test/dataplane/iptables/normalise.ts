// Order-normalisation for comparing against upstream expectations.
//
// Upstream's tests do not compare raw output: their sortIPTablesRules helper
// sorts tables by name; chains as KUBE-NODEPORTS, KUBE-SERVICES, then other
// KUBE-* chains, then the rest, alphabetically; prints every chain
// declaration, then every chain's rules grouped in that chain order (keeping
// relative order within a chain); and stably sorts the rules of
// KUBE-NODEPORTS and KUBE-SERVICES by the service name at the start of their
// comment, keeping the "must be the last rule" rule last. This is our own
// implementation of those semantics.

interface Table {
  name: string;
  chains: string[];
  rules: Map<string, string[]>;
}

function parse(payload: string): Table[] {
  const tables: Table[] = [];
  let cur: Table | null = null;
  for (const line of payload.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('*')) {
      cur = { name: line.slice(1), chains: [], rules: new Map() };
      tables.push(cur);
    } else if (line === 'COMMIT') {
      cur = null;
    } else if (cur !== null && line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      cur.chains.push(name);
      cur.rules.set(name, []);
    } else if (cur !== null && line.startsWith('-A ')) {
      const chain = line.split(' ')[1] ?? '';
      const list = cur.rules.get(chain);
      if (list === undefined) throw new Error(`rule for undeclared chain ${chain}: ${line}`);
      list.push(line);
    } else {
      throw new Error(`unexpected line: ${line}`);
    }
  }
  return tables;
}

/** The comment value of a rule, unquoted, or null. */
export function commentOf(rule: string): string | null {
  const i = rule.indexOf('--comment ');
  if (i < 0) return null;
  const rest = rule.slice(i + 10);
  if (rest.startsWith('"')) return rest.slice(1, rest.indexOf('"', 1));
  return rest.split(' ')[0] ?? '';
}

function serviceNameOf(rule: string): string | null {
  const c = commentOf(rule);
  if (c === null) return null;
  const m = /[ :]/.exec(c);
  return m === null ? c : c.slice(0, m.index);
}

function chainRank(name: string): number {
  if (name === 'KUBE-NODEPORTS') return 0;
  if (name === 'KUBE-SERVICES') return 1;
  return name.startsWith('KUBE-') ? 2 : 3;
}

function byServiceName(a: string, b: string): number {
  const x = serviceNameOf(a);
  const y = serviceNameOf(b);
  if (x === null || y === null) return 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Re-order an iptables-restore payload the way upstream's test helper does. */
export function normalise(payload: string): string {
  const tables = parse(payload).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const t of tables) {
    const chains = [...t.chains].sort((a, b) => chainRank(a) - chainRank(b) || (a < b ? -1 : a > b ? 1 : 0));
    const np = t.rules.get('KUBE-NODEPORTS');
    if (np !== undefined) np.sort(byServiceName);
    const svc = t.rules.get('KUBE-SERVICES');
    if (svc !== undefined) {
      const last = (r: string): boolean => (commentOf(r) ?? '').includes('must be the last rule');
      svc.sort((a, b) => (last(a) ? 1 : 0) - (last(b) ? 1 : 0) || byServiceName(a, b));
    }
    out.push(`*${t.name}`);
    for (const c of chains) out.push(`:${c} - [0:0]`);
    for (const c of chains) out.push(...(t.rules.get(c) ?? []));
    out.push('COMMIT');
  }
  return `${out.join('\n')}\n`;
}
