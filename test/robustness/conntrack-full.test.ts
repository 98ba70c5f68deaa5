// Conntrack table full (root): new flows through a dataplane whose node
// namespace's connection-tracking table has no room left are dropped by the
// kernel, and kscale must count that loss and say it was conntrack — not hang,
// and not fold the lost flows into the latency.
//
// How the table is filled, and why this way: on this kernel (6.18)
// net.netfilter.nf_conntrack_max is read-only inside a child namespace (mode
// 0444; writing it gives EINVAL) and only the host's value applies, which a
// test must never change. But the limit is counted per namespace, so the node
// namespace alone can be filled to the host's limit: helpers/conntrack-fill.py
// inserts ASSURED entries over ctnetlink (what `conntrack -I` does, batched)
// until the kernel answers ENOMEM — that is the table-full condition itself,
// since assured entries are never early-dropped — then frees exactly 64 slots.
// A rule that merely limits connections (iptables connlimit, nft `ct count`)
// would drop in the ruleset instead, never reaching the allocation failure that
// a full table causes, so it would not test the same thing. The entries die
// with the namespace.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS } from '../../src/dataplane/backends.js';
import { ENDPOINT_CIDR, sandboxNode } from '../../src/dataplane/measure-sync.js';
import { createSandbox } from '../../src/dataplane/sandbox.js';
import { conntrackDrops, conntrackStatColumn, runUdpFlows, startResponder, targetsAt, verifyHits, withDistinctEndpoints } from '../../src/dataplane/traffic.js';
import { generateCluster } from '../../src/model/index.js';
import { loadNative } from '../../src/native/index.js';

const root = process.getuid?.() === 0;
const native = loadNative().ok;
const FILL = join(import.meta.dirname, 'helpers', 'conntrack-fill.py');
const FREE_SLOTS = 64;
const FLOWS = 300;

/** Kernel log lines after `afterSeconds` (dmesg's own timestamps), or [] when the log is not readable. */
function kernelLogSince(afterSeconds: number): string[] {
  const r = spawnSync('dmesg', [], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter((l) => Number(/^\[\s*([\d.]+)\]/.exec(l)?.[1] ?? -1) > afterSeconds);
}
const kernelLogNow = (): number => Number(/^\[\s*([\d.]+)\]/.exec(kernelLogSince(-1).at(-1) ?? '')?.[1] ?? 0);

describe('conntrack counters', () => {
  it('sums a /proc/net/stat/nf_conntrack column over CPUs (hex)', () => {
    const text = 'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop\n'
      + '00000010  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 0000000a 00000001\n'
      + '00000010  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 000000ff 00000000\n';
    expect(conntrackStatColumn(text, 'drop')).toBe(10 + 255);
    expect(conntrackStatColumn(text, 'early_drop')).toBe(1);
    expect(conntrackStatColumn(text, 'no-such-column')).toBe(0);
  });
});

describe.skipIf(!root || !native)('conntrack table full (root)', () => {
  it('nf_conntrack_max cannot be lowered inside a child namespace on this kernel (so the test fills to the host limit)', async () => {
    const sb = await createSandbox({ prefix: `kscale-ct${process.pid}`, label: 'ctmax', endpointCidrs: [ENDPOINT_CIDR] });
    try {
      const before = (await sb.exec(sb.node, 'cat', ['/proc/sys/net/netfilter/nf_conntrack_max'])).stdout.trim();
      await sb.exec(sb.node, 'sh', ['-c', 'echo 64 > /proc/sys/net/netfilter/nf_conntrack_max']);
      expect((await sb.exec(sb.node, 'cat', ['/proc/sys/net/netfilter/nf_conntrack_max'])).stdout.trim()).toBe(before);
      expect(Number(before)).toBeGreaterThan(64);
    } finally {
      await sb.destroy();
    }
  });

  it('flows beyond the free slots are dropped by conntrack, counted as loss and named; the answered ones alone make the latency', async () => {
    const nft = BACKENDS.find((b) => b.name === 'nftables');
    expect(nft).toBeDefined();
    if (!nft) return;
    const model = withDistinctEndpoints(generateCluster({ services: 20, endpointsPerService: 4, layout: 'kube-proxy-scale', seed: 1 }), 'UDP');
    const sb = await createSandbox({ prefix: `kscale-ct${process.pid}`, label: 'ctfull', endpointCidrs: [ENDPOINT_CIDR] });
    const responder = startResponder(sb, { udp: [8080] });
    try {
      await nft.load(sb, nft.render(model, sandboxNode(sb)));
      const fill = await sb.exec(sb.node, 'python3', [FILL, String(FREE_SLOTS)], { timeoutMs: 120_000 });
      expect(fill.code, fill.stderr).toBe(0);
      const filled = JSON.parse(fill.stdout) as { inserted: number; max: number; free: number };
      expect(filled.inserted).toBe(filled.max - FREE_SLOTS);
      // The fill's own refusals are in the kernel log; the flows' drops must log again after the rate limit (10 per 5 s) resets.
      await new Promise((r) => setTimeout(r, 5500));
      const logMark = kernelLogNow();
      const dropsBefore = await conntrackDrops(sb);
      const targets = targetsAt(model, 'random', FLOWS, 1);
      const started = Date.now();
      const run = await runUdpFlows(sb, targets, { count: FLOWS, warmup: 0, flushConntrack: false, timeoutMs: 200, window: 16, responder });
      // Bounded by the deadlines: (flows / window) × 200 ms, not a hang.
      expect(Date.now() - started).toBeLessThan(15_000);
      const dropped = (await conntrackDrops(sb)) - dropsBefore;
      console.info(`conntrack full: ${run.answered} of ${FLOWS} flows answered, ${dropped} dropped by conntrack, loss ${(run.loss * 100).toFixed(1)}%, median ${[...run.latencyUs].sort((x, y) => x - y)[run.latencyUs.length >> 1]?.toFixed(1)} µs`);
      // Every flow is either answered or was dropped by conntrack, and counted as such.
      expect(run.answered).toBeGreaterThanOrEqual(FREE_SLOTS);
      expect(run.answered).toBeLessThan(FLOWS);
      expect(run.errors).toBe(0);
      expect(run.timeouts).toBe(FLOWS - run.answered);
      expect(dropped).toBe(run.timeouts);
      expect(run.conntrackDrops).toBe(dropped);
      expect(run.loss).toBeCloseTo(run.timeouts / FLOWS, 12);
      expect(run.firstError).toMatch(new RegExp(`^nf_conntrack table full in ${sb.node.name} \\(${dropped} packets dropped\\)$`));
      // The latency is that of the answered flows only (no 200 ms deadline folded in), and they hit the right Services.
      expect(run.latencyUs.length).toBe(run.answered);
      expect(Math.max(...run.latencyUs)).toBeLessThan(200_000);
      expect(verifyHits(targets, run.outcome, responder.hits()).problems).toEqual([]);
      // The kernel says so too, for this namespace (its inode), unless the log is not readable here.
      const log = kernelLogSince(logMark);
      if (log.length > 0) expect(log.some((l) => l.includes(`table full in netns ${statSync(sb.node.path).ino}`))).toBe(true);
    } finally {
      responder.stop();
      await sb.destroy();
    }
  }, 180_000);
});
