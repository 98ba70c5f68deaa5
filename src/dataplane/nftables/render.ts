// Public entry points: the full-sync transaction kube-proxy writes for a
// model, the partial-sync transaction between two models, and the separate
// transaction that later deletes chains a partial sync left flushed.

import { InputError } from '../../errors.js';
import type { ClusterModel, NodeContext } from '../../model/types.js';
import type { ProxyState } from '../proxy/index.js';
import { normalizeIPv4, parseCIDRv4Sloppy, parseIPv4Sloppy } from '../../model/ip.js';
import { buildProxyState, changedServices, masqueradeMarkFor, ServicePortMemo } from '../proxy/index.js';
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

/**
 * A Program around a finished payload. `lines` is split from the payload on
 * first use: loaders only need the payload, and keeping 2 million line
 * strings alive next to it would double memory and GC work at 50k services.
 */
function toProgram(profile: NftProfile, text: string | (() => string), operations: number, counts: NftCounts, result: SyncResult | null): NftProgram {
  let lines: readonly string[] | null = null;
  let payload: string | null = typeof text === 'string' ? text : null;
  const payloadOf = (): string => (payload ??= (text as () => string)());
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
    operations,
    counts,
    servicePorts: result?.servicePorts ?? 0,
    endpointChains: result?.endpointChains ?? 0,
  };
}

function programOf(profile: NftProfile, result: SyncResult): NftProgram {
  return toProgram(profile, result.tx.payload(), result.tx.size, { ...result.tx.counts }, result);
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
  cached: readonly PortEntry[] | null,
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

/** Memo entries of one rendered state, with the settings they were rendered under. */
interface RenderedState {
  readonly settings: string;
  readonly entries: readonly PortEntry[];
}

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

  /** The full-sync transaction for `state` (as renderNftablesFromState). */
  render(state: ProxyState, node: NodeContext, opts: NftRenderOptions = {}): NftProgram {
    const cfg = resolveConfig(node, opts);
    const settings = settingsOf(state, cfg, opts);
    const { entries: cached } = this.#memo.lookup(state, settings);
    const { result, entries } = runFullSyncMemo(state, cfg, cached);
    this.#memo.commit(state, settings, entries);
    this.#rendered.set(state, { settings, entries });
    // The text is joined when first read: a sync after the first loads only the partial transaction.
    return toProgram(opts.profile ?? 'v1.34', () => result.tx.payload(), result.tx.size, { ...result.tx.counts }, result);
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
    if (ctx.pendingStaleChains === undefined || ctx.pendingStaleChains.length === 0) {
      const result = runPartialSyncMemo(prev, a.entries, next, b.entries, cfg, updated);
      if (result !== null) return { program: programOf(opts.profile ?? 'v1.34', result), staleChains: result.staleChains, updatedServices: [...updated] };
    }
    return partialSync(prev, next, cfg, opts, ctx, kernelViewOf(a.entries), b.entries);
  }
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
  const payload = chains.length === 0 ? '' : `${chains.map(deleteChain).join('\n')}\n`;
  return toProgram(opts.profile ?? 'v1.34', payload, chains.length, { ...emptyCounts(), deletes: chains.length }, null);
}
