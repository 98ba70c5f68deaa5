// Text of single nftables operations, in the exact form knftables writes them
// for `nft -f` (one operation per line, "add chain ip kube-proxy NAME { … }").
// Kept separate from the sync logic so the format is checked in one place.

/** The family and table every kube-proxy IPv4 object is addressed by. */
export const TABLE = 'ip kube-proxy';

/**
 * Go's %q for the strings kube-proxy puts in comments. Those are ASCII
 * (fixed texts and ServicePortName strings), so escaping quote, backslash and
 * control characters is all %q would do to them.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0d) out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += s[i];
  }
  return out + '"';
}

export function addTable(comment: string): string {
  return `add table ${TABLE} { comment ${goQuote(comment)} ; }`;
}

export function addChain(name: string): string {
  return `add chain ${TABLE} ${name}`;
}

export function addChainWithComment(name: string, comment: string): string {
  return `add chain ${TABLE} ${name} { comment ${goQuote(comment)} ; }`;
}

/** A base chain; `priority` is already numeric, as knftables resolves named priorities. */
export function addBaseChain(name: string, type: string, hook: string, priority: number): string {
  return `add chain ${TABLE} ${name} { type ${type} hook ${hook} priority ${priority} ; }`;
}

export function flushChain(name: string): string {
  return `flush chain ${TABLE} ${name}`;
}

export function deleteChain(name: string): string {
  return `delete chain ${TABLE} ${name}`;
}

export function addRule(chain: string, rule: string): string {
  return `add rule ${TABLE} ${chain} ${rule}`;
}

export function addRuleWithComment(chain: string, rule: string, comment: string): string {
  return `add rule ${TABLE} ${chain} ${rule} comment ${goQuote(comment)}`;
}

export function addSet(name: string, type: string, comment: string): string {
  return `add set ${TABLE} ${name} { type ${type} ; comment ${goQuote(comment)} ; }`;
}

/** A session-affinity set: dynamic, with a timeout in whole seconds. */
export function addTimeoutSet(name: string, type: string, timeoutSeconds: number): string {
  return `add set ${TABLE} ${name} { type ${type} ; flags dynamic,timeout ; timeout ${timeoutSeconds}s ; }`;
}

export function addMap(name: string, type: string, comment: string): string {
  return `add map ${TABLE} ${name} { type ${type} ; comment ${goQuote(comment)} ; }`;
}

export function flushSet(name: string): string {
  return `flush set ${TABLE} ${name}`;
}

export function flushMap(name: string): string {
  return `flush map ${TABLE} ${name}`;
}

export function deleteSet(name: string): string {
  return `delete set ${TABLE} ${name}`;
}

/** Add an element; `key` and `value` are already " . "-joined, `value` '' for set elements. */
export function addElement(container: string, key: string, value: string, comment: string | null): string {
  const c = comment === null ? '' : ` comment ${goQuote(comment)}`;
  const v = value === '' ? '' : ` : ${value}`;
  return `add element ${TABLE} ${container} { ${key}${c}${v} }`;
}

/** Delete an element: knftables writes only the key. */
export function deleteElement(container: string, key: string): string {
  return `delete element ${TABLE} ${container} { ${key} }`;
}
