// kube-proxy's nftables mode loaded into a sandbox's node namespace with
// `nft -f -`, one transaction per sync, as knftables does. Every sync after
// the first is a partial one (only changed chains and map/set elements), which
// is the only way the nftables proxier syncs between its periodic full syncs.
import { performance } from 'node:perf_hooks';
import type { Capabilities } from '../../host/capabilities.js';
import { inputBytes } from '../../host/exec.js';
import type { ClusterModel, NodeContext } from '../../model/types.js';
import { DataplaneError } from '../backend.js';
import type { Availability, DataplaneBackend, ModelDelta, ObjectCounts, SyncTiming, VerifyResult } from '../backend.js';
import type { Sandbox } from '../sandbox.js';
import { ProxyStateMemo } from '../proxy/index.js';
import type { ProxyState } from '../proxy/index.js';
import { NftRenderer } from './render.js';
import { applyTransaction, emptyRuleset } from './ruleset.js';
import type { Ruleset } from './ruleset.js';
import type { NftProgram } from './types.js';

export interface NftLoadable {
  program: NftProgram;
  model: ClusterModel;
  node: NodeContext;
  state: ProxyState;
}

// One renderer per node, as one kube-proxy per node: successive syncs reuse unchanged Services' work.
const renderers = new WeakMap<NodeContext, { states: ProxyStateMemo; rules: NftRenderer }>();

function rendererFor(node: NodeContext): { states: ProxyStateMemo; rules: NftRenderer } {
  let r = renderers.get(node);
  if (r === undefined) {
    r = { states: new ProxyStateMemo(), rules: new NftRenderer() };
    renderers.set(node, r);
  }
  return r;
}


/** Objects of a ruleset (ours, modelled) or of `nft -j list table` output (the kernel's), counted alike. */
export interface NftObjectCounts {
  chains: number;
  rules: number;
  setElements: number;
  mapElements: number;
}

export function countRuleset(rs: Ruleset, options: { nonEmptyChainsOnly?: boolean } = {}): NftObjectCounts {
  let chains = 0;
  let rules = 0;
  for (const c of rs.chains.values()) {
    if (options.nonEmptyChainsOnly && c.rules.length === 0) continue;
    chains++;
    rules += c.rules.length;
  }
  let setElements = 0;
  for (const s of rs.sets.values()) setElements += s.elements.size;
  let mapElements = 0;
  for (const m of rs.maps.values()) mapElements += m.elements.size;
  return { chains, rules, setElements, mapElements };
}

interface NftJsonObject {
  chain?: { name: string };
  rule?: { chain: string };
  set?: { elem?: unknown[] };
  map?: { elem?: unknown[] };
}

/** Count what `nft -j list table ip kube-proxy` shows. */
export function countNftJson(json: string): NftObjectCounts & { chainsWithRules: number } {
  const doc = JSON.parse(json) as { nftables?: NftJsonObject[] };
  const out = { chains: 0, rules: 0, setElements: 0, mapElements: 0, chainsWithRules: 0 };
  const withRules = new Set<string>();
  for (const o of doc.nftables ?? []) {
    if (o.chain) out.chains++;
    else if (o.rule) {
      out.rules++;
      withRules.add(o.rule.chain);
    } else if (o.set) out.setElements += o.set.elem?.length ?? 0;
    else if (o.map) out.mapElements += o.map.elem?.length ?? 0;
  }
  out.chainsWithRules = withRules.size;
  return out;
}

async function nftApply(sandbox: Sandbox, payload: string | readonly string[], overheadMs: number): Promise<SyncTiming> {
  const r = await sandbox.exec(sandbox.node, 'nft', ['-f', '-'], { input: payload });
  if (r.code !== 0) throw new DataplaneError('nftables', `nft -f exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
  return { wallMs: r.wallMs, loaderCpuMs: r.cpuMs, payloadBytes: inputBytes(payload), overheadMs };
}

export const nftablesBackend: DataplaneBackend<NftLoadable> = {
  name: 'nftables',
  probe(caps: Capabilities): Availability {
    if (!caps.root.available) return { available: false, reason: `needs root: ${caps.root.reason}` };
    if (!caps.netns_veth.available) return { available: false, reason: caps.netns_veth.reason };
    return caps.nftables.available ? { available: true } : { available: false, reason: caps.nftables.reason };
  },
  render(model: ClusterModel, node: NodeContext): NftLoadable {
    const r = rendererFor(node);
    const state = r.states.build(model, node);
    return { program: r.rules.render(state, node), model, node, state };
  },
  finishRender(p: NftLoadable): void {
    void p.program.chunks;
  },
  counts(p: NftLoadable): ObjectCounts {
    const c = countRuleset(applyTransaction(emptyRuleset(), p.program.lines));
    return { chains: c.chains, rules: c.rules, setElements: c.setElements + c.mapElements };
  },
  load(sandbox: Sandbox, p: NftLoadable): Promise<SyncTiming> {
    // Its pieces are taken on first read (kscale's work, not nft's) and written to nft one after another, never joined.
    const t0 = performance.now();
    const pieces = p.program.chunks;
    return nftApply(sandbox, pieces, performance.now() - t0);
  },
  async update(sandbox: Sandbox, before: NftLoadable, after: NftLoadable, _delta: ModelDelta): Promise<SyncTiming> {
    // kscale's share: computing the partial transaction from the two models, as the proxier does in-process.
    const started = performance.now();
    const inc = rendererFor(after.node).rules.renderIncremental(before.state, after.state, after.node);
    return nftApply(sandbox, inc.program.chunks, performance.now() - started);
  },
  async verify(sandbox: Sandbox, p: NftLoadable): Promise<VerifyResult> {
    const r = await sandbox.exec(sandbox.node, 'nft', ['-j', 'list', 'table', 'ip', 'kube-proxy'], {});
    if (r.code !== 0) return { ok: false, counts: {}, mismatches: [`nft list table exited ${r.code}: ${r.stderr.trim()}`] };
    const got = countNftJson(r.stdout);
    const want = countRuleset(applyTransaction(emptyRuleset(), p.program.lines));
    const mismatches: string[] = [];
    if (got.rules !== want.rules) mismatches.push(`rules: kernel ${got.rules}, rendered ${want.rules}`);
    if (got.setElements !== want.setElements) mismatches.push(`set elements: kernel ${got.setElements}, rendered ${want.setElements}`);
    if (got.mapElements !== want.mapElements) mismatches.push(`map elements: kernel ${got.mapElements}, rendered ${want.mapElements}`);
    // Partial syncs leave unused chains flushed but present until a later cleanup transaction.
    if (got.chains < want.chains) mismatches.push(`chains: kernel ${got.chains}, rendered ${want.chains}`);
    const sample = p.program.lines.filter((l) => l.includes('dnat to ')).filter((_, i, a) => i % Math.max(1, Math.floor(a.length / 32)) === 0);
    const kernelText = r.stdout;
    for (const l of sample) {
      const target = /dnat to ([0-9.]+):(\d+)/.exec(l);
      if (target && !(kernelText.includes(`"addr": "${target[1]}"`) && kernelText.includes(`"port": ${target[2]}`))) mismatches.push(`dnat to ${target[1]}:${target[2]} missing in the kernel`);
    }
    return { ok: mismatches.length === 0, counts: { chains: got.chains, rules: got.rules, setElements: got.setElements + got.mapElements }, mismatches };
  },
  async flush(sandbox: Sandbox): Promise<SyncTiming> {
    // kube-proxy's cleanup deletes its table; everything in it goes with it.
    return nftApply(sandbox, 'delete table ip kube-proxy\n', 0);
  },
};
