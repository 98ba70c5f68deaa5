// Public entry points: the full-sync transaction kube-proxy writes for a
// model, the partial-sync transaction between two models, and the separate
// transaction that later deletes chains a partial sync left flushed.

import { InputError } from '../../errors.js';
import type { ClusterModel, NodeContext } from '../../model/types.js';
import type { ProxyState, ServicePortInfo } from '../proxy/index.js';
import { normalizeIPv4, parseCIDRv4Sloppy, parseIPv4Sloppy } from '../../model/ip.js';
import { buildProxyState, changedServices, masqueradeMarkFor, serviceKey, ServicePortMemo } from '../proxy/index.js';
import { profileSpec } from './profile.js';
import type { KernelView, SyncConfig, SyncResult } from './sync.js';
import type { PortEntry } from './sync.js';
import { kernelViewOf, runFullSyncMemo, runPartialSyncMemo, runSync } from './sync.js';
import { deleteChain } from './syntax.js';
import { emptyCounts } from './transaction.js';
import type { NftCounts, NftIncremental, NftIncrementalContext, NftProfile, NftProgram, NftRenderOptions } from './types.js';

export { changedServices, masqueradeMarkFor };

function isLoopback(ip: string): boolean {
  const v = parseIPv4Sloppy(ip);
  return v !== undefined && v >>> 24 === 127;
}

function canonicalCidr(subject: string, text: string): string {
  const cidr = parseCIDRv4Sloppy(text);
  if (cidr === undefined) throw new InputError(subject, `not an IPv4 CIDR: ${JSON.stringify(text)}`);
  return cidr.text;
}

/** Validate options against the node and fill in upstream's defaults. */
export function resolveConfig(node: NodeContext, opts: NftRenderOptions = {}): SyncConfig {
  const profile: NftProfile = opts.profile ?? 'v1.34';
  const nodeIP = normalizeIPv4(node.nodeIP);
  if (nodeIP === undefined) throw new InputError('nodeIP', `not an IPv4 address: ${JSON.stringify(node.nodeIP)}`);

  let nodePortIPs: string[] | null = null;
  if (opts.nodePortAddresses !== 'all') {
    nodePortIPs = [];
    for (const raw of opts.nodePortAddresses ?? [nodeIP]) {
      const ip = normalizeIPv4(raw);
      if (ip === undefined) throw new InputError('nodePortAddresses', `not an IPv4 address: ${JSON.stringify(raw)}`);
      // Upstream logs and skips loopback: localhost NodePorts are not supported.
      if (!isLoopback(ip) && !nodePortIPs.includes(ip)) nodePortIPs.push(ip);
    }
  }

  const mark = opts.masqueradeMark ?? masqueradeMarkFor(node.masqueradeBit);
  if (!/^0x[0-9a-f]+$/.test(mark)) throw new InputError('masqueradeMark', `not a lower-case hex mark: ${JSON.stringify(mark)}`);

  return {
    spec: profileSpec(profile),
    masqueradeMark: mark,
    masqueradeAll: opts.masqueradeAll ?? false,
    clusterCIDR: node.clusterCIDR === '' ? '' : canonicalCidr('clusterCIDR', node.clusterCIDR),
    nodeIP,
    nodePortIPs,
    serviceCIDRs: (opts.serviceCIDRs ?? []).map((c) => canonicalCidr('serviceCIDRs', c)).join(','),
    firstSync: opts.firstSync ?? true,
  };
}

/** What a program is made of: its transaction's newline-terminated pieces and counts. */
interface ProgramSource {
  readonly pieces: readonly string[];
  readonly operations: number;
  readonly counts: NftCounts;
  readonly result: SyncResult | null;
}

const sourceOf = (result: SyncResult): ProgramSource => ({ pieces: result.tx.parts(), operations: result.tx.size, counts: { ...result.tx.counts }, result });

/**
 * A Program whose source is produced on first read (NftRenderer defers the
 * rendering itself that way). The joined `payload` and the `lines` split
 * from it are built only when read too: loaders and `kscale rules` write the
 * pieces, and at 50k services a joined copy and 2 million line strings would
 * double memory and GC work.
 */
function toProgram(profile: NftProfile, source: () => ProgramSource): NftProgram {
  let made: ProgramSource | null = null;
  const src = (): ProgramSource => (made ??= source());
  let lines: readonly string[] | null = null;
  let payload: string | null = null;
  const payloadOf = (): string => (payload ??= src().pieces.join(''));
  return {
    backend: 'nftables',
    profile,
    family: 'ip',
    table: 'kube-proxy',
    get lines(): readonly string[] {
      const p = payloadOf();
      lines ??= p === '' ? [] : p.slice(0, -1).split('\n');
      return lines;
    },
    get payload(): string {
      return payloadOf();
    },
    get chunks(): readonly string[] {
      return src().pieces;
    },
    get operations(): number {
      return src().operations;
    },
    get counts(): NftCounts {
      return src().counts;
    },
    get servicePorts(): number {
      return src().result?.servicePorts ?? 0;
    },
    get endpointChains(): number {
      return src().result?.endpointChains ?? 0;
    },
  };
}

function programOf(profile: NftProfile, result: SyncResult): NftProgram {
  return toProgram(profile, () => sourceOf(result));
}

/**
 * The transaction kube-proxy (nftables mode) writes for its first full sync
 * of `model` on `node`, into a kernel without a kube-proxy table.
 */
export function renderNftables(model: ClusterModel, node: NodeContext, opts: NftRenderOptions = {}): NftProgram {
  return renderNftablesFromState(buildProxyState(model, node), node, opts);
}

/**
 * renderNftables for an already built proxy state, so a harness that renders
 * several backends from one model computes the service/endpoint view once.
 * `state` must have been built for `node`.
 */
export function renderNftablesFromState(state: ProxyState, node: NodeContext, opts: NftRenderOptions = {}): NftProgram {
  const cfg = resolveConfig(node, opts);
  const result = runSync(state, cfg, { kind: 'full' }, null, { emit: true, trackState: false });
  return programOf(opts.profile ?? 'v1.34', result);
}


/**
 * The partial-sync transaction kube-proxy writes when the cluster goes from
 * `prev` to `next`, given that the kernel holds what a sync of `prev` left:
 * rewritten chains only for changed Services, element adds/deletes for every
 * map and set difference, flushes for chains no longer used.
 */
export function renderNftablesIncremental(
  prev: ClusterModel,
  next: ClusterModel,
  node: NodeContext,
  opts: NftRenderOptions = {},
  ctx: NftIncrementalContext = {},
): NftIncremental {
  return renderNftablesIncrementalFromStates(buildProxyState(prev, node), buildProxyState(next, node), node, opts, ctx);
}

/** renderNftablesIncremental for already built proxy states (both for `node`). */
export function renderNftablesIncrementalFromStates(
  prevState: ProxyState,
  nextState: ProxyState,
  node: NodeContext,
  opts: NftRenderOptions = {},
  ctx: NftIncrementalContext = {},
): NftIncremental {
  const cfg = resolveConfig(node, opts);
  const before = runSync(prevState, cfg, { kind: 'full' }, null, { emit: false, trackState: true }).after;
  return partialSync(prevState, nextState, cfg, opts, ctx, before, null);
}

function partialSync(
  prevState: ProxyState,
  nextState: ProxyState,
  cfg: SyncConfig,
  opts: NftRenderOptions,
  ctx: NftIncrementalContext,
  before: KernelView,
  cached: readonly (PortEntry | undefined)[] | null,
): NftIncremental {
  let kernel: KernelView = before;
  if (ctx.pendingStaleChains !== undefined && ctx.pendingStaleChains.length > 0) {
    const chains = new Set(before.chains);
    for (const c of ctx.pendingStaleChains) chains.add(c);
    kernel = { ...before, chains };
  }
  const updated = changedServices(prevState, nextState);
  const result = runSync(nextState, cfg, { kind: 'partial', updated }, kernel, { emit: true, trackState: true }, cached);
  return {
    program: programOf(opts.profile ?? 'v1.34', result),
    staleChains: result.staleChains,
    updatedServices: [...updated],
  };
}

/**
 * Memo entries of one state NftRenderer.render was given, with the settings
 * they are for. `entries` has holes (ports of changed Services) until either
 * the full program is read (`full` renders them) or a partial sync into this
 * state records them.
 */
interface RenderedState {
  readonly settings: string;
  entries: (PortEntry | undefined)[];
  /** The full sync's result once rendered. */
  full: SyncResult | null;
}

const complete = (entries: readonly (PortEntry | undefined)[]): entries is PortEntry[] => !entries.includes(undefined);

/**
 * A renderer that, like a long-lived kube-proxy, keeps what each service
 * port rendered to and reuses it while the change tracker reports its
 * Service unchanged: a full render re-renders only changed Services, and a
 * partial sync between two states it rendered replays unchanged ports'
 * declarations (chains, elements) instead of recomputing them. Output is
 * byte-identical to renderNftablesFromState and
 * renderNftablesIncrementalFromStates.
 */
export class NftRenderer {
  readonly #memo = new ServicePortMemo<PortEntry>();
  readonly #rendered = new WeakMap<ProxyState, RenderedState>();

  /**
   * The full-sync transaction for `state` (as renderNftablesFromState),
   * rendered when the program is first read: a kube-proxy between full syncs
   * only ever writes partial transactions (renderIncremental), and those
   * never need the full text.
   */
  render(state: ProxyState, node: NodeContext, opts: NftRenderOptions = {}): NftProgram {
    const cfg = resolveConfig(node, opts);
    const settings = settingsOf(state, cfg, opts);
    const { entries: cached } = this.#memo.lookup(state, settings);
    const slot: RenderedState = { settings, entries: cached, full: null };
    this.#rendered.set(state, slot);
    return toProgram(opts.profile ?? 'v1.34', () => sourceOf(this.#full(state, cfg, slot)));
  }

  /** The full sync of a state render() was given; completes its entries and makes it the memo's state. */
  #full(state: ProxyState, cfg: SyncConfig, slot: RenderedState): SyncResult {
    if (slot.full === null) {
      const { result, entries } = runFullSyncMemo(state, cfg, slot.entries);
      slot.full = result;
      slot.entries = entries;
      this.#memo.commit(state, slot.settings, entries);
    }
    return slot.full;
  }

  /**
   * The partial sync from `prev` to `next` (as renderNftablesIncrementalFromStates);
   * from the memo when this renderer rendered both with the same options.
   */
  renderIncremental(prev: ProxyState, next: ProxyState, node: NodeContext, opts: NftRenderOptions = {}, ctx: NftIncrementalContext = {}): NftIncremental {
    const cfg = resolveConfig(node, opts);
    const settings = settingsOf(next, cfg, opts);
    const a = this.#rendered.get(prev);
    const b = this.#rendered.get(next);
    if (a === undefined || b === undefined || a.settings !== settings || b.settings !== settings || prev.node.nodeName !== next.node.nodeName || prev.node.zone !== next.node.zone) {
      return renderNftablesIncrementalFromStates(prev, next, node, opts, ctx);
    }
    const updated = this.#memo.changesBetween(prev, next);
    // The partial sync reads `prev`'s entries whole, and `next`'s for unchanged Services only.
    if (!complete(a.entries)) this.#full(prev, cfg, a);
    const prevEntries = a.entries as PortEntry[];
    if (!holesOnlyAt(next, b.entries, updated)) this.#full(next, cfg, b);
    if (ctx.pendingStaleChains === undefined || ctx.pendingStaleChains.length === 0) {
      const result = runPartialSyncMemo(prev, prevEntries, next, b.entries, cfg, updated);
      // The partial sync filled `next`'s holes: its entries are the memo's newest.
      if (b.full === null && complete(b.entries)) this.#memo.commit(next, settings, b.entries);
      if (result !== null) return { program: programOf(opts.profile ?? 'v1.34', result), staleChains: result.staleChains, updatedServices: [...updated] };
    }
    return partialSync(prev, next, cfg, opts, ctx, kernelViewOf(prevEntries), b.entries);
  }
}

/** Whether every hole in `entries` is a port of an updated Service. */
function holesOnlyAt(state: ProxyState, entries: readonly (PortEntry | undefined)[], updated: ReadonlySet<string>): boolean {
  const ports = state.servicePorts;
  for (let i = 0; i < ports.length; i++) if (entries[i] === undefined && !updated.has(serviceKey(ports[i] as ServicePortInfo))) return false;
  return true;
}

/** Everything writeServicePort reads besides the state's ports and endpoints. */
function settingsOf(state: ProxyState, cfg: SyncConfig, opts: NftRenderOptions): string {
  return JSON.stringify([opts.profile ?? 'v1.34', cfg.masqueradeMark, cfg.masqueradeAll, cfg.clusterCIDR, cfg.nodeIP, state.node.nodeName, state.node.zone]);
}

/**
 * The transaction that deletes stale chains; upstream runs it at the start
 * of the first sync at least one second after they were flushed.
 */
export function renderStaleChainCleanup(chains: readonly string[], opts: NftRenderOptions = {}): NftProgram {
  const pieces = chains.length === 0 ? [] : [`${chains.map(deleteChain).join('\n')}\n`];
  return toProgram(opts.profile ?? 'v1.34', () => ({ pieces, operations: chains.length, counts: { ...emptyCounts(), deletes: chains.length }, result: null }));
}
