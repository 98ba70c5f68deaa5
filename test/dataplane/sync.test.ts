// Every kernel-facing backend, for real (root): a small model is loaded into a
// sandbox, read back, changed three ways, read back after each, flushed; a bad
// payload fails with the tool's message; the host's own rules never change.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSandbox } from '../../src/dataplane/sandbox.js';
import type { Sandbox } from '../../src/dataplane/sandbox.js';
import { DELTAS } from '../../src/dataplane/delta.js';
import { ENDPOINT_CIDR, runSyncSweep, sandboxNode } from '../../src/dataplane/measure-sync.js';
import { iptablesLegacyBackend, iptablesNftBackend } from '../../src/dataplane/iptables/backend.js';
import { nftablesBackend } from '../../src/dataplane/nftables/backend.js';
import type { DataplaneBackend, DeltaKind } from '../../src/dataplane/backend.js';
import { generateCluster } from '../../src/model/index.js';
import { probeCapabilities } from '../../src/host/capabilities.js';
import { silentProgress } from '../../src/bench/progress.js';
import type { Measurement } from '../../src/results/types.js';

const root = process.getuid?.() === 0;
const prefix = (): string => `kscale-${randomBytes(3).toString('hex')}`;
const out = (cmd: string, ...args: string[]): string => spawnSync(cmd, args, { encoding: 'utf8' }).stdout;
/** The host namespace's rules, as the tools print them (counters zeroed so traffic does not count as change). */
const hostRules = (): string[] => [
  out('iptables-nft-save').replace(/\[\d+:\d+\]/g, ''),
  out('iptables-legacy-save').replace(/\[\d+:\d+\]/g, ''),
  out('nft', 'list', 'ruleset'),
];

async function withSandbox<T>(f: (sb: Sandbox) => Promise<T>): Promise<T> {
  const sb = await createSandbox({ prefix: prefix(), endpointCidrs: [ENDPOINT_CIDR] });
  try {
    return await f(sb);
  } finally {
    await sb.destroy();
  }
}

const backends = [iptablesNftBackend, iptablesLegacyBackend, nftablesBackend] as DataplaneBackend<unknown>[];

describe.skipIf(!root)('dataplane sync (root, real kernel)', () => {
  it.each(backends.map((b) => [b.name, b] as const))('%s: load, three changes and flush, each read back from the kernel', async (_name, backend) => {
    const before = hostRules();
    await withSandbox(async (sb) => {
      const node = sandboxNode(sb);
      let model = generateCluster({ services: 20, endpointsPerService: 3, layout: 'kube-proxy-scale', seed: 7 });
      let program = backend.render(model, node);
      const load = await backend.load(sb, program);
      expect(load.wallMs).toBeGreaterThan(0);
      expect(load.payloadBytes).toBeGreaterThan(1000);
      const v = await backend.verify(sb, program);
      expect(v.mismatches).toEqual([]);
      expect(v.counts.rules).toBeGreaterThan(60);
      for (const kind of Object.keys(DELTAS) as DeltaKind[]) {
        const delta = DELTAS[kind](model);
        const next = backend.render(delta.after, node);
        await backend.update(sb, program, next, delta, 'partial');
        expect((await backend.verify(sb, next)).mismatches, kind).toEqual([]);
        // The kernel no longer matches the old program: the check can fail.
        if (kind !== 'change-endpoint') expect((await backend.verify(sb, program)).ok, kind).toBe(false);
        program = next;
        model = delta.after;
      }
      await backend.flush(sb);
      expect((await backend.verify(sb, program)).ok).toBe(false);
      const leftover = backend.name === 'nftables'
        ? (await sb.exec(sb.node, 'nft', ['list', 'ruleset'])).stdout
        : (await sb.exec(sb.node, backend.name === 'iptables-nft' ? 'iptables-nft-save' : 'iptables-legacy-save', [])).stdout;
      expect(leftover).not.toMatch(/KUBE-|kube-proxy/);
    });
    expect(hostRules()).toEqual(before);
  });

  it('iptables: a partial restore after a change writes less than a full one and leaves the same kernel state', async () => {
    await withSandbox(async (sb) => {
      const node = sandboxNode(sb);
      const model = generateCluster({ services: 30, endpointsPerService: 2, layout: 'kube-proxy-scale', seed: 3 });
      const p0 = iptablesNftBackend.render(model, node);
      await iptablesNftBackend.load(sb, p0);
      const d = DELTAS['change-endpoint'](model);
      const p1 = iptablesNftBackend.render(d.after, node);
      const partial = await iptablesNftBackend.update(sb, p0, p1, d, 'partial');
      expect((await iptablesNftBackend.verify(sb, p1)).mismatches).toEqual([]);
      const full = await iptablesNftBackend.update(sb, p1, p1, { ...d, before: d.after }, 'full');
      expect((await iptablesNftBackend.verify(sb, p1)).mismatches).toEqual([]);
      expect(partial.payloadBytes).toBeLessThan(full.payloadBytes / 2);
    });
  });

  it('a rejected payload fails with the tool\'s own message, and the sweep records it as failed and goes on', async () => {
    await withSandbox(async (sb) => {
      const bad = { ...iptablesNftBackend.render(generateCluster({ services: 2, endpointsPerService: 1, layout: 'kube-proxy-scale', seed: 1 }), sandboxNode(sb)) };
      const rejected = '*nat\n-A NO-SUCH-CHAIN -j ACCEPT\nCOMMIT\n';
      bad.program = { ...bad.program, payload: rejected, chunks: [rejected] };
      await expect(iptablesNftBackend.load(sb, bad)).rejects.toThrow(/iptables-nft-restore exited \d+: .*(NO-SUCH-CHAIN|line 2)/s);
    });
    const recorded: Measurement[] = [];
    const broken: DataplaneBackend<unknown> = { ...nftablesBackend, name: 'nftables', load: async (sb, p) => nftablesBackend.load(sb, { ...(p as object), program: { chunks: ['add rule ip nope nope drop\n'] } } as never) } as DataplaneBackend<unknown>;
    await runSyncSweep({ backends: [broken, iptablesLegacyBackend as DataplaneBackend<unknown>], services: [5], endpoints: [1], repeats: 1, caps: await probeCapabilities(), prefix: prefix(), seed: 1, progress: silentProgress(), record: (m) => recorded.push(m) });
    const failed = recorded.filter((m) => m.params.backend === 'nftables');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((m) => m.status === 'failed' && /nft -f exited 1/.test(m.reason ?? ''))).toBe(true);
    expect(recorded.filter((m) => m.params.backend === 'iptables-legacy' && m.status === 'ok').map((m) => m.name)).toContain('full-load');
  });
});
