// A transaction under construction, and kube-proxy's element bookkeeping for
// its maps and sets (what upstream keeps in nftElementStorage): every sync
// re-declares the elements it wants, only differences are written, and the
// ones nobody re-declared are deleted at the end.

import * as nft from './syntax.js';
import { joinLines } from '../lines.js';

export interface MutableCounts {
  chains: number;
  rules: number;
  sets: number;
  maps: number;
  setElements: number;
  mapElements: number;
  flushes: number;
  deletes: number;
}

/** Lines per chunk: large enough to keep the number of retained strings small, small enough to stay cache-friendly. */
const CHUNK_LINES = 2048;

/** All counts zero: a fresh transaction's, and the base of one that only deletes. */
export function emptyCounts(): MutableCounts {
  return { chains: 0, rules: 0, sets: 0, maps: 0, setElements: 0, mapElements: 0, flushes: 0, deletes: 0 };
}

/**
 * Collects operation lines and counts them. Lines are joined into chunks as
 * they come: millions of small retained strings (and the rope nodes behind
 * template literals) made garbage collection the dominant cost at 50k
 * services, while a few thousand flat chunks cost almost nothing to keep.
 * With `emit` false nothing is written, so callers that only need the
 * resulting kernel state skip the string building; hot paths check `emit`.
 */
export class Tx {
  private readonly chunks: string[] = [];
  private current: string[] = [];
  private currentLines = 0;
  /** Operations written so far. */
  size = 0;
  readonly counts: MutableCounts = emptyCounts();
  constructor(readonly emit: boolean) {}

  private push(line: string): void {
    if (this.emit) this.append(line, 1);
  }

  /** Append `n` operations already joined by newlines (no trailing newline). */
  private append(text: string, n: number): void {
    this.current.push(text);
    this.size += n;
    this.currentLines += n;
    if (this.currentLines >= CHUNK_LINES) this.flushCurrent();
  }

  /**
   * Hot path for endpoint chains: "add chain" and "flush chain" of a new
   * chain as one string, which halves the strings built for the most
   * numerous object. Same text as syntax.addChain() then syntax.flushChain()
   * (the upstream fixtures pin it).
   */
  newChain(name: string): void {
    this.counts.chains++;
    this.counts.flushes++;
    if (this.emit) this.append(`add chain ${nft.TABLE} ${name}\nflush chain ${nft.TABLE} ${name}`, 2);
  }

  /** Hot path: two rules of one chain in one string (an endpoint chain's hairpin and DNAT rules). */
  rules(chain: string, a: string, b: string): void {
    this.counts.rules += 2;
    if (this.emit) this.append(`add rule ${nft.TABLE} ${chain} ${a}\nadd rule ${nft.TABLE} ${chain} ${b}`, 2);
  }

  /** Hot path: three rules of one chain (an endpoint chain with session affinity). */
  rules3(chain: string, a: string, b: string, c: string): void {
    this.counts.rules += 3;
    if (this.emit) {
      this.append(`add rule ${nft.TABLE} ${chain} ${a}\nadd rule ${nft.TABLE} ${chain} ${b}\nadd rule ${nft.TABLE} ${chain} ${c}`, 3);
    }
  }

  /**
   * Append another transaction's operations (`text` as its payload() gave
   * it, `n` operations) and add its counts: how a memoised service port's
   * text joins a transaction.
   */
  appendText(text: string, n: number, counts: Readonly<MutableCounts>): void {
    const c = this.counts;
    c.chains += counts.chains;
    c.rules += counts.rules;
    c.sets += counts.sets;
    c.maps += counts.maps;
    c.setElements += counts.setElements;
    c.mapElements += counts.mapElements;
    c.flushes += counts.flushes;
    c.deletes += counts.deletes;
    if (!this.emit || n === 0) return;
    // Kept as its own chunk (it is newline-terminated already): nothing is joined until payload().
    this.flushCurrent();
    this.chunks.push(text);
    this.size += n;
  }

  private flushCurrent(): void {
    if (this.current.length > 0) {
      this.chunks.push(joinLines(this.current));
      this.current = [];
      this.currentLines = 0;
    }
  }

  /**
   * The transaction as newline-terminated pieces, in order: what a loader
   * writes to `nft -f -` one after another, without first joining hundreds
   * of megabytes into one string (and a copy of it into a Buffer).
   */
  parts(): readonly string[] {
    this.flushCurrent();
    return this.chunks;
  }

  /** The transaction as `nft -f` input: every operation newline-terminated. */
  payload(): string {
    // Pieces are newline-terminated, so one join('') gives a flat string; a
    // trailing `+ "\n"` would leave a rope that every reader flattens again.
    return this.parts().join('');
  }

  table(comment: string): void {
    this.push(nft.addTable(comment));
  }
  /** An add that the same transaction deletes again; not counted as a created chain. */
  transientChain(name: string): void {
    this.push(nft.addChain(name));
  }
  chainWithComment(name: string, comment: string): void {
    this.counts.chains++;
    this.push(nft.addChainWithComment(name, comment));
  }
  baseChain(name: string, type: string, hook: string, priority: number): void {
    this.counts.chains++;
    this.push(nft.addBaseChain(name, type, hook, priority));
  }
  flushChain(name: string): void {
    this.counts.flushes++;
    this.push(nft.flushChain(name));
  }
  deleteChain(name: string): void {
    this.counts.deletes++;
    this.push(nft.deleteChain(name));
  }
  rule(chain: string, rule: string): void {
    this.counts.rules++;
    this.push(nft.addRule(chain, rule));
  }
  ruleWithComment(chain: string, rule: string, comment: string): void {
    this.counts.rules++;
    this.push(nft.addRuleWithComment(chain, rule, comment));
  }
  set(name: string, type: string, comment: string): void {
    this.counts.sets++;
    this.push(nft.addSet(name, type, comment));
  }
  transientSet(name: string, type: string, comment: string): void {
    this.push(nft.addSet(name, type, comment));
  }
  timeoutSet(name: string, type: string, timeoutSeconds: number): void {
    this.counts.sets++;
    this.push(nft.addTimeoutSet(name, type, timeoutSeconds));
  }
  map(name: string, type: string, comment: string): void {
    this.counts.maps++;
    this.push(nft.addMap(name, type, comment));
  }
  flushSet(name: string): void {
    this.counts.flushes++;
    this.push(nft.flushSet(name));
  }
  flushMap(name: string): void {
    this.counts.flushes++;
    this.push(nft.flushMap(name));
  }
  deleteSet(name: string): void {
    this.counts.deletes++;
    this.push(nft.deleteSet(name));
  }
  element(kind: 'set' | 'map', container: string, key: string, value: string, comment: string | null): void {
    if (kind === 'set') this.counts.setElements++;
    else this.counts.mapElements++;
    this.push(nft.addElement(container, key, value, comment));
  }
  deleteElement(container: string, key: string): void {
    this.counts.deletes++;
    this.push(nft.deleteElement(container, key));
  }
}

/** Elements of one map or set as the kernel holds them: joined key → joined value ('' for sets). */
export type ElementSnapshot = ReadonlyMap<string, string>;

/** kube-proxy's per-container element bookkeeping for one sync. */
export class ElementStore {
  private elements: Map<string, string>;
  private leftover: Set<string>;

  /** Start from what the kernel holds (empty for a fresh or just-flushed container). */
  constructor(
    readonly kind: 'set' | 'map',
    readonly name: string,
    existing: ElementSnapshot | undefined,
  ) {
    this.elements = new Map(existing);
    this.leftover = new Set(this.elements.keys());
  }

  /** Older full syncs: forget everything and flush the container in the kernel. */
  reset(tx: Tx): void {
    this.elements.clear();
    this.leftover.clear();
    if (this.kind === 'set') tx.flushSet(this.name);
    else tx.flushMap(this.name);
  }

  /** Whether the store holds `key` (from the kernel or declared earlier in this sync). */
  has(key: string): boolean {
    return this.elements.has(key);
  }

  /** The value held for `key` ('' for a set element), or undefined. */
  get(key: string): string | undefined {
    return this.elements.get(key);
  }

  /** Record an element as written without writing it: its add is part of text appended whole. */
  adopt(key: string, value: string): void {
    this.elements.set(key, value);
  }

  /** Declare an element this sync wants; writes only what differs from the kernel. */
  ensure(tx: Tx, key: string, value: string, comment: string | null): void {
    const existing = this.elements.get(key);
    if (existing === undefined) {
      tx.element(this.kind, this.name, key, value, comment);
      this.elements.set(key, value);
      return;
    }
    if (existing !== value) {
      // nft cannot overwrite a map value in place, hence delete + add.
      tx.deleteElement(this.name, key);
      tx.element(this.kind, this.name, key, value, comment);
      this.elements.set(key, value);
    }
    this.leftover.delete(key);
  }

  /**
   * Delete what no service declared this sync. A store serves one sync only
   * (the next starts from snapshot()), so nothing is reset for reuse.
   */
  cleanup(tx: Tx): void {
    for (const key of this.leftover) {
      tx.deleteElement(this.name, key);
      this.elements.delete(key);
    }
    this.leftover.clear();
  }

  snapshot(): ElementSnapshot {
    return this.elements;
  }
}
