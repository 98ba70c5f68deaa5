// Partial syncs. Reproduces upstream's TestSyncProxyRulesRepeated: a series of
// cluster changes, each followed by a sync, checking the kernel state after
// every sync (upstream's Dump(), our ruleset model, both normalised the same
// way) and the number of operations in that sync's transaction.
//
// Upstream drives one long-lived proxier; we render each step from the
// previous and the next model, and pass along the chains a step left flushed
// ("stale"), which upstream deletes in a separate transaction once they are
// older than a second (its test fakes that with ageStaleChains()).

import { describe, expect, it } from 'vitest';

import type { NftProgram, Ruleset } from '../../../src/dataplane/nftables/index.js';
import {
  applyTransaction,
  dumpRuleset,
  emptyRuleset,
  renderNftables,
  renderNftablesIncremental,
  renderStaleChainCleanup,
} from '../../../src/dataplane/nftables/index.js';
import { generateCluster } from '../../../src/model/index.js';
import type { ClusterModel, EndpointSlice, Service } from '../../../src/model/types.js';
import { TEST_NODE, ep, port, svc, tcpSlice } from '../helpers.js';
import { dumpAfter, fixture, fixtureSteps, normalize, UPSTREAM_OPTS } from './helpers.js';

const svc1 = svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [port('p80', 80)] });
const svc2 = svc('ns2', 'svc2', { clusterIP: '172.30.0.42', ports: [port('p8080', 8080)] });
const svc3 = svc('ns3', 'svc3', { clusterIP: '172.30.0.43', ports: [port('p80', 80)] });
const svc4 = svc('ns4', 'svc4', { clusterIP: '172.30.0.44', ports: [port('p80', 80)] });
const eps1 = tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.0.1.1')]);
const eps2 = tcpSlice('ns2', 'svc2', 'p8080', 8080, [ep('10.0.2.1')]);
const eps3 = (...ips: string[]): EndpointSlice => tcpSlice('ns3', 'svc3', 'p80', 80, ips.map((ip) => ep(ip)));
const eps4 = tcpSlice('ns4', 'svc4', 'p80', 80, [ep('10.0.4.1')]);

function model(services: Service[], endpointSlices: EndpointSlice[]): ClusterModel {
  return { services, endpointSlices };
}

describe('TestSyncProxyRulesRepeated (upstream, v1.34 profile)', () => {
  const base = fixture('v1.34/base-rules.nft');
  const steps = new Map(fixtureSteps('v1.34/sync-repeated.nft').map((s) => [s.name, s]));
  const step = (name: string): { text: string; ops: number | null } => {
    const s = steps.get(name);
    if (s === undefined) throw new Error(`no fixture step ${name}`);
    return s;
  };

  const rs: Ruleset = emptyRuleset();
  let current: ClusterModel = model([], []);
  let pendingStale: readonly string[] = [];

  function expectState(name: string): void {
    expect(normalize(dumpRuleset(rs)), name).toBe(normalize(base + step(name).text));
  }
  function expectOps(name: string, program: NftProgram): void {
    const ops = step(name).ops;
    if (ops !== null) expect(program.lines.length, `${name} operations`).toBe(ops);
  }
  /** Upstream deletes aged stale chains first, in a transaction of its own. */
  function ageStaleChains(): void {
    applyTransaction(rs, renderStaleChainCleanup(pendingStale, UPSTREAM_OPTS).lines);
    pendingStale = [];
  }
  function sync(next: ClusterModel): NftProgram {
    const r = renderNftablesIncremental(current, next, TEST_NODE, UPSTREAM_OPTS, { pendingStaleChains: pendingStale });
    applyTransaction(rs, r.program.lines);
    pendingStale = r.staleChains;
    current = next;
    return r.program;
  }

  it('runs the whole sequence', () => {
    // Initial full sync.
    current = model([svc1, svc2], [eps1, eps2]);
    applyTransaction(rs, renderNftables(current, TEST_NODE, UPSTREAM_OPTS).lines);
    expectState('initial');

    // Add a new service and its endpoints.
    let p = sync(model([svc1, svc2, svc3], [eps1, eps2, eps3('10.0.3.1')]));
    expectState('add-svc3');
    expectOps('add-svc3', p);

    // Delete a service (its slice stays): chains are flushed, not deleted.
    p = sync(model([svc1, svc3], [eps1, eps2, eps3('10.0.3.1')]));
    expectState('delete-svc2');
    expectOps('delete-svc2', p);
    expect([...pendingStale].sort()).toEqual([
      'endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080',
      'service-MHHHYRWA-ns2/svc2/tcp/p8080',
    ]);

    // Time passes: stale chains go, and a sync without changes writes nothing.
    ageStaleChains();
    p = sync(current);
    expectState('stale-deleted');
    expectOps('stale-deleted', p);

    // Add a service without endpoints, then its endpoints.
    p = sync(model([svc1, svc3, svc4], [eps1, eps2, eps3('10.0.3.1')]));
    expectState('add-svc4-no-endpoints');
    expectOps('add-svc4-no-endpoints', p);
    p = sync(model([svc1, svc3, svc4], [eps1, eps2, eps3('10.0.3.1'), eps4]));
    expectState('add-svc4-endpoints');
    expectOps('add-svc4-endpoints', p);

    // Change an endpoint of an existing service; the old endpoint chain stays, flushed.
    p = sync(model([svc1, svc3, svc4], [eps1, eps2, eps3('10.0.3.2'), eps4]));
    expectState('change-svc3-endpoint');
    expectOps('change-svc3-endpoint', p);

    // Add an endpoint (after the old chain aged out).
    ageStaleChains();
    p = sync(model([svc1, svc3, svc4], [eps1, eps2, eps3('10.0.3.2', '10.0.3.3'), eps4]));
    expectState('add-svc3-endpoint');
    expectOps('add-svc3-endpoint', p);

    // Empty a service's endpoints: three chains flushed and pending deletion.
    const full = current;
    p = sync(model([svc1, svc3, svc4], [eps1, eps2, eps3(), eps4]));
    expectState('empty-svc3');
    expectOps('empty-svc3', p);
    expect([...pendingStale].sort()).toEqual([
      'endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80',
      'endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80',
      'service-4AT6LBPK-ns3/svc3/tcp/p80',
    ]);

    // Restore at once: the stale chains are re-created and no longer stale.
    p = sync(full);
    expectState('restore-svc3');
    expectOps('restore-svc3', p);
    expect(pendingStale).toEqual([]);

    // Empty, let the chains age out, restore: same state as after the first restore.
    const empty = model([svc1, svc3, svc4], [eps1, eps2, eps3(), eps4]);
    sync(empty);
    ageStaleChains();
    sync(full);
    expectState('restore-svc3');

    // No changes: nothing to write.
    p = sync(full);
    expectState('restore-svc3');
    expect(p.lines.length).toBe(0);
  });
});

describe('incremental sync against a full re-render', () => {
  const opts = { serviceCIDRs: ['10.96.0.0/12'] };
  const node = { ...TEST_NODE, nodeName: 'node1' };

  function mutate(m: ClusterModel): ClusterModel {
    // Drop every 7th service, change endpoints of every 5th slice, leave the rest untouched.
    const services = m.services.filter((_, i) => i % 7 !== 3);
    const endpointSlices = m.endpointSlices.map((s, i) =>
      i % 5 === 1 ? { ...s, endpoints: s.endpoints.slice(0, Math.max(0, s.endpoints.length - 1)) } : s,
    );
    return { services, endpointSlices };
  }

  it('reaches the state a fresh full sync of the new model has (after stale chains are deleted)', () => {
    const a = generateCluster({ services: 300, endpointsPerService: 3, seed: 7, layout: 'realistic' });
    const b = mutate(a);
    const full = renderNftables(a, node, opts);
    const incr = renderNftablesIncremental(a, b, node, opts);
    const cleanup = renderStaleChainCleanup(incr.staleChains);
    expect(incr.staleChains.length).toBeGreaterThan(0);
    expect(normalize(dumpAfter(full, incr.program, cleanup))).toBe(normalize(dumpAfter(renderNftables(b, node, opts))));
    // Only changed services are rewritten.
    expect(incr.program.lines.length).toBeLessThan(full.lines.length / 2);
  });

  it('flushes still-present stale chains again on the next sync, as upstream lists them from the kernel', () => {
    const a = model([svc1, svc2], [eps1, eps2]);
    const b = model([svc1], [eps1, eps2]);
    const first = renderNftablesIncremental(a, b, TEST_NODE, UPSTREAM_OPTS);
    expect(first.staleChains).toHaveLength(2);
    // Less than a second later: nothing was deleted, nothing changed.
    const again = renderNftablesIncremental(b, b, TEST_NODE, UPSTREAM_OPTS, { pendingStaleChains: first.staleChains });
    expect(again.program.lines).toEqual(first.staleChains.map((c) => `flush chain ip kube-proxy ${c}`));
    expect(again.staleChains).toEqual(first.staleChains);
  });

  it('rewrites every port of a service when one port changes', () => {
    const two = svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [port('p80', 80), port('p443', 443)] });
    const twoEps: EndpointSlice = { ...tcpSlice('ns1', 'svc1', 'p80', 80, [ep('10.0.1.1')]), ports: [{ name: 'p80', protocol: 'TCP', port: 80 }, { name: 'p443', protocol: 'TCP', port: 443 }] };
    const changed = { ...two, ports: [port('p80', 80), port('p443', 8443)] };
    const r = renderNftablesIncremental(model([two], [twoEps]), model([changed], [twoEps]), TEST_NODE, UPSTREAM_OPTS);
    expect(r.updatedServices).toEqual(['ns1/svc1']);
    expect(r.program.lines.some((l) => l.startsWith('flush chain ip kube-proxy service-') && l.endsWith('/p80'))).toBe(true);
  });

  it('writes nothing when nothing changed', () => {
    const a = generateCluster({ services: 50, endpointsPerService: 2, seed: 3, layout: 'realistic' });
    const r = renderNftablesIncremental(a, a, node, opts);
    expect(r.program.lines).toEqual([]);
    expect(r.updatedServices).toEqual([]);
  });

  it('replaces a map element whose verdict changes with delete + add', () => {
    const a = model([svc1], [eps1]);
    const b = model([svc1], []);
    const r = renderNftablesIncremental(a, b, TEST_NODE, UPSTREAM_OPTS);
    expect(r.program.lines).toContain('delete element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 }');
    expect(r.program.lines).toContain(
      'add element ip kube-proxy no-endpoint-services { 172.30.0.41 . tcp . 80 comment "ns1/svc1:p80" : goto reject-chain }',
    );
  });
});
