// Per-service-port memo over successive proxy states, for renderers that
// sync repeatedly (as a long-lived kube-proxy does): what a service port
// rendered to is reused as long as the change tracker says its Service did
// not change and the render settings are the same. The memo holds only the
// entries of the last state it was told about, so it never grows past one
// state's worth.

import { changedServices, serviceKey } from './changes.js';
import type { ProxyState } from './types.js';

interface Generation<T> {
  readonly state: ProxyState;
  readonly settings: string;
  /** Entries per Service (namespace/name), in the order of its ports in state.servicePorts. */
  readonly byService: ReadonlyMap<string, readonly T[]>;
}

/** Entries of one state, aligned with its servicePorts, plus which Services were rendered afresh. */
export interface MemoLookup<T> {
  /** Cached entry per service port; undefined where it must be rendered. */
  readonly entries: (T | undefined)[];
  /** Services (namespace/name) that changed since the memo's state, or null when nothing could be reused. */
  readonly changed: ReadonlySet<string> | null;
}

export class ServicePortMemo<T> {
  #last: Generation<T> | null = null;
  /** The change set the last lookup computed, kept for changesBetween. */
  #lastChange: { readonly from: ProxyState; readonly to: ProxyState; readonly changed: ReadonlySet<string> } | null = null;

  /**
   * The entries reusable for `state`: those of service ports whose Service
   * is unchanged since the last committed state, rendered with the same
   * `settings` (a string naming every option and node fact the entries
   * depend on). Ports pair up by position within their Service, as the
   * change tracker compares them.
   */
  lookup(state: ProxyState, settings: string): MemoLookup<T> {
    const last = this.#last;
    const entries = new Array<T | undefined>(state.servicePorts.length);
    if (last === null || last.settings !== settings) return { entries, changed: null };
    const changed = last.state === state ? new Set<string>() : changedServices(last.state, state);
    this.#lastChange = { from: last.state, to: state, changed };
    const ordinal = new Map<string, number>();
    for (let i = 0; i < state.servicePorts.length; i++) {
      const key = serviceKey(state.servicePorts[i]!);
      const k = ordinal.get(key) ?? 0;
      ordinal.set(key, k + 1);
      if (!changed.has(key)) entries[i] = last.byService.get(key)?.[k];
    }
    return { entries, changed };
  }

  /** Remember `entries` (aligned with state.servicePorts) as the memo's state. */
  commit(state: ProxyState, settings: string, entries: readonly T[]): void {
    const byService = new Map<string, T[]>();
    for (let i = 0; i < state.servicePorts.length; i++) {
      const key = serviceKey(state.servicePorts[i]!);
      const list = byService.get(key);
      if (list === undefined) byService.set(key, [entries[i]!]);
      else list.push(entries[i]!);
    }
    this.#last = { state, settings, byService };
  }

  /** changedServices(prev, next), without recomputing it when the last lookup went from prev to next. */
  changesBetween(prev: ProxyState, next: ProxyState): ReadonlySet<string> {
    const c = this.#lastChange;
    return c !== null && c.from === prev && c.to === next ? c.changed : changedServices(prev, next);
  }

  /** Forget everything (the next lookup reuses nothing). */
  clear(): void {
    this.#last = null;
  }
}
