// kube-proxy's iptables mode loaded into a sandbox's node namespace, for the
// nft-backed (iptables-nft-restore) and the legacy (iptables-legacy-restore)
// iptables. Both get byte-identical payloads; only the tool differs.
import { performance } from 'node:perf_hooks';
import type { Capabilities } from '../../host/capabilities.js';
import { inputBytes } from '../../host/exec.js';
import type { ClusterModel, NodeContext } from '../../model/types.js';
import { changedServices, ProxyStateMemo } from '../proxy/index.js';
import type { ProxyState } from '../proxy/index.js';
import { DataplaneError } from '../backend.js';
import type { Availability, DataplaneBackend, ModelDelta, ObjectCounts, SyncTiming, VerifyResult } from '../backend.js';
import type { Sandbox } from '../sandbox.js';
import { IptablesRenderer, renderIptablesJumps } from './render.js';
import type { IptablesJump, IptablesProgram } from './types.js';
import { chainsInSave, partialPayload, staleServiceChains, withChainDeletions } from './sync.js';

export interface IptablesLoadable {
  program: IptablesProgram;
  state: ProxyState;
  jumps: IptablesJump[];
  node: NodeContext;
}

type Flavour = 'nft' | 'legacy';

/** kube-proxy restores with these flags: keep non-kube chains, keep counters, wait for the xtables lock. */
const RESTORE_ARGS = ['-w', '5', '--noflush', '--counters'];

function tools(flavour: Flavour): { restore: string; save: string; iptables: string } {
  return { restore: `iptables-${flavour}-restore`, save: `iptables-${flavour}-save`, iptables: `iptables-${flavour}` };
}

/**
 * Count, in iptables-save output, the KUBE-* chains and the rules in those of
 * them the program declares. Chains outside the program are stale: upstream
 * leaves unused chains (rules and all) in place in large clusters, unreferenced.
 */
export function countSaved(saved: string, programChains: ReadonlySet<string>): { chains: number; rules: number; staleChains: number } {
  let chains = 0;
  let rules = 0;
  let staleChains = 0;
  for (const line of saved.split('\n')) {
    if (line.startsWith(':KUBE-')) {
      if (programChains.has(line.slice(1, line.indexOf(' ')))) chains++;
      else staleChains++;
    } else if (line.startsWith('-A KUBE-')) {
      const end = line.indexOf(' ', 3);
      if (programChains.has(line.slice(3, end < 0 ? undefined : end))) rules++;
    }
  }
  return { chains, rules, staleChains };
}

/** The DNAT targets ("ip:port") a rendered nat table sends traffic to, a sample of them. */
function sampleDnatTargets(program: IptablesProgram, max: number): string[] {
  const all: string[] = [];
  for (const line of program.nat) {
    const i = line.indexOf('--to-destination ');
    if (i >= 0) all.push(line.slice(i + '--to-destination '.length).split(' ')[0] ?? '');
  }
  if (all.length <= max) return all;
  const step = all.length / max;
  return Array.from({ length: max }, (_, k) => all[Math.floor(k * step)] ?? '');
}

function makeBackend(flavour: Flavour): DataplaneBackend<IptablesLoadable> {
  const name = flavour === 'nft' ? 'iptables-nft' : 'iptables-legacy';
  const t = tools(flavour);
  // One renderer per node, as one kube-proxy per node: successive renders reuse unchanged Services' rules.
  const renderers = new WeakMap<NodeContext, { states: ProxyStateMemo; rules: IptablesRenderer }>();

  async function restore(sandbox: Sandbox, payload: string | readonly string[], extraMs: number): Promise<SyncTiming> {
    const r = await sandbox.exec(sandbox.node, t.restore, RESTORE_ARGS, { input: payload });
    if (r.code !== 0) throw new DataplaneError(name, `${t.restore} exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
    return { wallMs: r.wallMs, loaderCpuMs: r.cpuMs, payloadBytes: inputBytes(payload), overheadMs: extraMs };
  }

  async function save(sandbox: Sandbox, table: 'nat' | 'filter'): Promise<{ text: string; wallMs: number; cpuMs: number }> {
    const r = await sandbox.exec(sandbox.node, t.save, ['-t', table], {});
    if (r.code !== 0) throw new DataplaneError(name, `${t.save} -t ${table} exited ${r.code}: ${r.stderr.trim()}`);
    return { text: r.stdout, wallMs: r.wallMs, cpuMs: r.cpuMs };
  }

  return {
    name,
    probe(caps: Capabilities): Availability {
      if (!caps.root.available) return { available: false, reason: `needs root: ${caps.root.reason}` };
      if (!caps.netns_veth.available) return { available: false, reason: caps.netns_veth.reason };
      const c = flavour === 'nft' ? caps.iptables_nft : caps.iptables_legacy;
      return c.available ? { available: true } : { available: false, reason: c.reason };
    },
    render(model: ClusterModel, node: NodeContext): IptablesLoadable {
      let renderer = renderers.get(node);
      if (renderer === undefined) {
        renderer = { states: new ProxyStateMemo(), rules: new IptablesRenderer() };
        renderers.set(node, renderer);
      }
      const state = renderer.states.build(model, node);
      // Kernels without xt_nfacct reject -m nfacct; kube-proxy probes for it and leaves those rules out.
      return { program: renderer.rules.render(state, node, { nfacct: false }), state, jumps: renderIptablesJumps(), node };
    },
    finishRender(p: IptablesLoadable): void {
      void p.program.chunks;
    },
    counts(p: IptablesLoadable): ObjectCounts {
      return { rules: p.program.counts.rules, chains: p.program.counts.chains };
    },
    async load(sandbox: Sandbox, p: IptablesLoadable): Promise<SyncTiming> {
      // First sync: kube-proxy ensures its chains and the jumps from the built-in chains, then restores.
      const started = performance.now();
      let cpu = 0;
      for (const j of p.jumps) {
        for (const args of [['-t', j.table, '-N', j.target], ['-t', j.table, '-I', j.chain, ...j.args]]) {
          const r = await sandbox.exec(sandbox.node, t.iptables, ['-w', '5', ...args]);
          // -N of a chain that exists (shared targets like KUBE-PROXY-FIREWALL) is fine, as EnsureChain treats it.
          if (r.code !== 0 && !(args[2] === '-N' && /exists/i.test(r.stderr))) {
            throw new DataplaneError(name, `${t.iptables} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
          }
          cpu += r.cpuMs;
        }
      }
      const jumpsMs = performance.now() - started;
      // Its pieces are taken on first read (kscale's work, not the tool's) and written one after another, never joined.
      const t0 = performance.now();
      const pieces = p.program.chunks;
      const timing = await restore(sandbox, pieces, performance.now() - t0);
      return { ...timing, wallMs: timing.wallMs + jumpsMs, loaderCpuMs: timing.loaderCpuMs + cpu };
    },
    async update(sandbox: Sandbox, before: IptablesLoadable, after: IptablesLoadable, _delta: ModelDelta, mode: 'full' | 'partial'): Promise<SyncTiming> {
      const started = performance.now();
      const renderer = renderers.get(after.node)?.rules;
      const changed = (): ReadonlySet<string> => renderer?.changesBetween(before.state, after.state) ?? changedServices(before.state, after.state);
      let payload = mode === 'full' ? after.program.payload : partialPayload(after.program, after.state, changed());
      let assembleMs = performance.now() - started;
      let saveMs = 0;
      let saveCpu = 0;
      if (!after.program.largeClusterMode) {
        // Below the large-cluster threshold kube-proxy lists the nat table on every sync to delete stale chains.
        const saved = await save(sandbox, 'nat');
        saveMs = saved.wallMs;
        saveCpu = saved.cpuMs;
        const t0 = performance.now();
        payload = withChainDeletions(payload, staleServiceChains(chainsInSave(saved.text), after.state));
        assembleMs += performance.now() - t0;
      }
      const timing = await restore(sandbox, payload, assembleMs);
      return { ...timing, wallMs: timing.wallMs + saveMs, loaderCpuMs: timing.loaderCpuMs + saveCpu };
    },
    async verify(sandbox: Sandbox, p: IptablesLoadable): Promise<VerifyResult> {
      const nat = await save(sandbox, 'nat');
      const filter = await save(sandbox, 'filter');
      const declared = new Set([...chainsInSave(p.program.nat.join('\n')), ...chainsInSave(p.program.filter.join('\n'))]);
      const n = countSaved(nat.text, declared);
      const f = countSaved(filter.text, declared);
      const counts: ObjectCounts = { rules: n.rules + f.rules, chains: n.chains + f.chains };
      const mismatches: string[] = [];
      const want = p.program.counts;
      if (n.rules !== want.nat.rules) mismatches.push(`nat rules: kernel ${n.rules}, rendered ${want.nat.rules}`);
      if (f.rules !== want.filter.rules) mismatches.push(`filter rules: kernel ${f.rules}, rendered ${want.filter.rules}`);
      if (n.chains !== want.nat.chains) mismatches.push(`nat chains: kernel ${n.chains}, rendered ${want.nat.chains}`);
      if (f.chains !== want.filter.chains) mismatches.push(`filter chains: kernel ${f.chains}, rendered ${want.filter.chains}`);
      for (const target of sampleDnatTargets(p.program, 32)) {
        if (!nat.text.includes(`--to-destination ${target}`)) mismatches.push(`DNAT to ${target} missing in the kernel`);
      }
      for (const j of p.jumps) {
        const text = j.table === 'nat' ? nat.text : filter.text;
        if (!text.includes(`-A ${j.chain} `) || !text.includes(`-j ${j.target}`)) mismatches.push(`jump ${j.chain} → ${j.target} missing`);
      }
      return { ok: mismatches.length === 0, counts, mismatches };
    },
    async flush(sandbox: Sandbox): Promise<SyncTiming> {
      // kube-proxy --cleanup: remove the jumps, then flush and delete every KUBE- chain.
      const started = performance.now();
      const payloads: string[] = [];
      let cpu = 0;
      for (const table of ['filter', 'nat'] as const) {
        const saved = await save(sandbox, table);
        cpu += saved.cpuMs;
        const chains = chainsInSave(saved.text).filter((c) => c.startsWith('KUBE-'));
        const jumps = saved.text.split('\n').filter((l) => /^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) .*-j KUBE-/.test(l)).map((l) => `-D${l.slice(2)}`);
        payloads.push(`*${table}\n${jumps.join('\n')}${jumps.length ? '\n' : ''}${chains.map((c) => `:${c} - [0:0]\n`).join('')}${chains.map((c) => `-X ${c}\n`).join('')}COMMIT\n`);
      }
      const payload = payloads.join('');
      const r = await restore(sandbox, payload, 0);
      return { ...r, wallMs: performance.now() - started, loaderCpuMs: r.loaderCpuMs + cpu };
    },
  };
}

export const iptablesNftBackend = makeBackend('nft');
export const iptablesLegacyBackend = makeBackend('legacy');
