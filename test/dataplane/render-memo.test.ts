// The memoising renderers (IptablesRenderer, NftRenderer) against fresh,
// uncached renders: over random sequences of cluster changes, every full
// payload and every partial payload must be byte-identical, counts included.
// The changes go beyond the sync benchmark's three so that every memo key is
// exercised: Service type, affinity, traffic policies, LB source ranges,
// endpoint conditions and locality, zone hints, duplicate cluster IPs (map
// element keys shared by two Services), and the large-cluster threshold.

import { describe, expect, it } from 'vitest';

import { DELTAS } from '../../src/dataplane/delta.js';
import { IptablesRenderer, renderIptablesFromState } from '../../src/dataplane/iptables/render.js';
import type { IptablesRenderOptions } from '../../src/dataplane/iptables/render.js';
import { partialPayload } from '../../src/dataplane/iptables/sync.js';
import { NftRenderer, renderNftablesFromState, renderNftablesIncrementalFromStates } from '../../src/dataplane/nftables/index.js';
import type { NftRenderOptions } from '../../src/dataplane/nftables/index.js';
import { buildProxyState, changedServices, ProxyStateMemo } from '../../src/dataplane/proxy/index.js';
import type { ProxyState } from '../../src/dataplane/proxy/index.js';
import { generateCluster } from '../../src/model/index.js';
import type { ClusterModel, Endpoint, EndpointSlice, NodeContext, Service } from '../../src/model/types.js';
import { TEST_NODE } from './helpers.js';
import { mulberry32 } from '../../src/stats/summary.js';

const NODE: NodeContext = { ...TEST_NODE, nodeName: 'node1' };

/** Seeded picks of changes: the project's own PRNG. */
const rng = mulberry32;

type Change = (m: ClusterModel, r: () => number) => ClusterModel;

const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)] as T;

function patchService(m: ClusterModel, r: () => number, patch: (s: Service, r: () => number) => Partial<Service>): ClusterModel {
  if (m.services.length === 0) return m;
  const target = pick(m.services, r);
  return { ...m, services: m.services.map((s) => (s === target ? { ...s, ...patch(s, r) } : s)) };
}

function patchEndpoint(m: ClusterModel, r: () => number, patch: (e: Endpoint, r: () => number) => Partial<Endpoint>): ClusterModel {
  const withEps = m.endpointSlices.filter((s) => s.endpoints.length > 0);
  if (withEps.length === 0) return m;
  const slice = pick(withEps, r);
  const k = Math.floor(r() * slice.endpoints.length);
  const endpoints = slice.endpoints.map((e, i) => (i === k ? { ...e, ...patch(e, r) } : e));
  const moved: EndpointSlice = { ...slice, endpoints };
  return { ...m, endpointSlices: m.endpointSlices.map((s) => (s === slice ? moved : s)) };
}

const CHANGES: Record<string, Change> = {
  add: (m) => DELTAS['add-service'](m).after,
  delete: (m) => (m.services.length > 1 ? DELTAS['delete-service'](m).after : m),
  moveEndpoint: (m) => DELTAS['change-endpoint'](m).after,
  type: (m, r) =>
    patchService(m, r, (s, r2) => {
      const type = pick(['ClusterIP', 'NodePort', 'LoadBalancer'] as const, r2);
      const ports = s.ports.map((p, i) => ({ ...p, nodePort: type === 'ClusterIP' ? 0 : 30100 + i + Math.floor(r2() * 500) }));
      return { type, ports, loadBalancerIngressIPs: type === 'LoadBalancer' ? [`198.51.100.${1 + Math.floor(r2() * 200)}`] : [] };
    }),
  affinity: (m, r) => patchService(m, r, (s) => ({ sessionAffinity: s.sessionAffinity === 'ClientIP' ? 'None' : 'ClientIP', sessionAffinityTimeoutSeconds: 600 })),
  externalPolicy: (m, r) => patchService(m, r, (s) => ({ externalTrafficPolicy: s.externalTrafficPolicy === 'Local' ? 'Cluster' : 'Local', healthCheckNodePort: 32500 })),
  internalPolicy: (m, r) => patchService(m, r, (s) => ({ internalTrafficPolicy: s.internalTrafficPolicy === 'Local' ? 'Cluster' : 'Local' })),
  sourceRanges: (m, r) =>
    patchService(m, r, (s) => ({
      type: 'LoadBalancer',
      loadBalancerIngressIPs: ['198.51.100.250'],
      loadBalancerSourceRanges: s.loadBalancerSourceRanges.length > 0 ? [] : ['203.0.113.0/25', '192.168.0.0/24'],
      ports: s.ports.map((p, i) => ({ ...p, nodePort: p.nodePort || 31000 + i })),
    })),
  externalIP: (m, r) => patchService(m, r, (s) => ({ externalIPs: s.externalIPs.length > 0 ? [] : ['192.0.2.7'] })),
  // Two Services on one cluster IP and port: their map elements share keys.
  duplicateIP: (m, r) => {
    if (m.services.length < 2) return m;
    const other = pick(m.services, r);
    return patchService(m, r, () => ({ clusterIP: other.clusterIP, clusterIPs: [other.clusterIP], ports: other.ports }));
  },
  notReady: (m, r) => patchEndpoint(m, r, (e) => ({ conditions: { ready: !e.conditions.ready, serving: true, terminating: e.conditions.ready } })),
  local: (m, r) => patchEndpoint(m, r, (e) => ({ nodeName: e.nodeName === NODE.nodeName ? 'elsewhere' : NODE.nodeName })),
  zoneHints: (m, r) => patchEndpoint(m, r, (e) => ({ zoneHints: e.zoneHints.length > 0 ? [] : ['zone-a'] })),
  nothing: (m) => ({ ...m }),
};

function startModel(seed: number): ClusterModel {
  return generateCluster({ services: 30, endpointsPerService: 3, seed, layout: 'realistic', typeMix: { NodePort: 0.3, LoadBalancer: 0.2 }, nodeName: NODE.nodeName });
}

/** Per step, the proxy state built fresh and the one built by a ProxyStateMemo (which the memoising renderers get). */
function states(seed: number, steps: number): Array<{ fresh: ProxyState; memo: ProxyState }> {
  const r = rng(seed);
  const names = Object.keys(CHANGES);
  const memo = new ProxyStateMemo();
  let model = startModel(seed);
  const out = [{ fresh: buildProxyState(model, NODE), memo: memo.build(model, NODE) }];
  for (let i = 0; i < steps; i++) {
    // Several changes per step sometimes, so a sync covers more than one Service.
    const n = 1 + Math.floor(r() * 3);
    for (let k = 0; k < n; k++) model = (CHANGES[pick(names, r)] as Change)(model, r);
    out.push({ fresh: buildProxyState(model, NODE), memo: memo.build(model, NODE) });
  }
  return out;
}

describe('IptablesRenderer (memoised) equals a fresh render', () => {
  const variants: Array<[string, (first: ProxyState) => IptablesRenderOptions]> = [
    ['defaults', () => ({})],
    ['no nfacct', () => ({ nfacct: false })],
    // At the first state's endpoint count the comment mode flips as Services come and go: the memo must notice.
    ['large-cluster threshold at the start size', (first) => ({ largeClusterEndpointsThreshold: first.totalEndpoints })],
  ];
  for (const [label, optionsFor] of variants) {
    it(`${label}: full and partial payloads over random changes`, () => {
      for (const seed of [1, 2, 3]) {
        const renderer = new IptablesRenderer();
        const seq = states(seed, 40);
        const options = optionsFor(seq[0]!.fresh);
        let prev: { fresh: ProxyState; memo: ProxyState } | undefined;
        for (const [i, state] of seq.entries()) {
          const cached = renderer.render(state.memo, NODE, options);
          const fresh = renderIptablesFromState(state.fresh, NODE, options);
          expect(cached.counts).toEqual(fresh.counts);
          if (prev !== undefined) {
            const updated = changedServices(prev.memo, state.memo);
            expect([...updated].sort()).toEqual([...changedServices(prev.fresh, state.fresh)].sort());
            expect(partialPayload(cached, state.memo, updated), `seed ${seed} step ${i} partial`).toBe(partialPayload(fresh, state.fresh, updated));
          }
          // Read after the partial: the memoised program joins its payload only when asked.
          expect(cached.payload, `seed ${seed} step ${i} full`).toBe(fresh.payload);
          prev = state;
        }
      }
    });
  }

  it('reuses unchanged Services: a render after one change re-renders only that Service', () => {
    const renderer = new IptablesRenderer();
    const a = buildProxyState(startModel(4), NODE);
    renderer.render(a, NODE);
    const model = DELTAS['change-endpoint'](startModel(4)).after;
    const b = buildProxyState(model, NODE);
    const cached = renderer.render(b, NODE);
    const fragmentsA = renderer.render(a, NODE).fragments?.ports ?? [];
    const fragmentsB = cached.fragments?.ports ?? [];
    // Same fragment objects for every port but the changed Service's: they were reused, not rebuilt.
    const changed = changedServices(a, b);
    expect(changed.size).toBe(1);
    let reused = 0;
    for (let i = 0; i < fragmentsB.length; i++) if (fragmentsA[i] === fragmentsB[i]) reused++;
    expect(reused).toBeGreaterThanOrEqual(fragmentsB.length - b.servicePorts.filter((sp) => changed.has(`${sp.namespace}/${sp.serviceName}`)).length);
  });
});

describe('NftRenderer (memoised) equals a fresh render', () => {
  const variants: Array<[string, NftRenderOptions]> = [
    ['v1.34', {}],
    ['v1.33', { profile: 'v1.33' }],
    ['masquerade-all, all node ports', { masqueradeAll: true, nodePortAddresses: 'all' }],
  ];
  // Every third: as between kube-proxy's full syncs, most states' full
  // programs are never read, so their text is never rendered and partial
  // syncs alone keep the memo's entries complete.
  const readings = [['every full program read', 1], ['every third full program read', 3]] as const;
  for (const [label, opts] of variants) for (const [reading, every] of readings) {
    it(`${label}, ${reading}: full and partial transactions over random changes`, () => {
      for (const seed of [1, 2, 3]) {
        const renderer = new NftRenderer();
        const seq = states(seed, 40);
        let prev: { fresh: ProxyState; memo: ProxyState } | undefined;
        let pending: readonly string[] = [];
        for (const [i, state] of seq.entries()) {
          const cached = renderer.render(state.memo, NODE, opts);
          if (i % every === 0 || i === seq.length - 1) {
            const fresh = renderNftablesFromState(state.fresh, NODE, opts);
            expect(cached.payload, `seed ${seed} step ${i} full`).toBe(fresh.payload);
            expect(cached.chunks.join('')).toBe(fresh.payload);
            expect(cached.counts).toEqual(fresh.counts);
            expect(cached.endpointChains).toBe(fresh.endpointChains);
          }
          if (prev !== undefined) {
            // Every other step, earlier stale chains are still in the kernel.
            const ctx = i % 2 === 0 ? { pendingStaleChains: pending } : {};
            const inc = renderer.renderIncremental(prev.memo, state.memo, NODE, opts, ctx);
            const ref = renderNftablesIncrementalFromStates(prev.fresh, state.fresh, NODE, opts, ctx);
            expect(inc.program.payload, `seed ${seed} step ${i} partial`).toBe(ref.program.payload);
            expect(inc.program.counts).toEqual(ref.program.counts);
            expect(inc.staleChains).toEqual(ref.staleChains);
            pending = ref.staleChains;
          }
          prev = state;
        }
      }
    });
  }

  it('falls back to a fresh partial sync for states it did not render', () => {
    const renderer = new NftRenderer();
    const a = buildProxyState(startModel(5), NODE);
    const b = buildProxyState(DELTAS['add-service'](startModel(5)).after, NODE);
    renderer.render(b, NODE);
    expect(renderer.renderIncremental(a, b, NODE).program.payload).toBe(renderNftablesIncrementalFromStates(a, b, NODE).program.payload);
  });
});
