// The incremental-change bookkeeping against an in-memory copy of the maps:
// after any sequence of Service adds, endpoint changes and deletes, the maps
// read back equal to a fresh render of the resulting model — every frontend,
// every map count — and backends shared by several Services survive until the
// last user goes.
import { describe, expect, it } from 'vitest';
import { DELTAS } from '../../../src/dataplane/delta.js';
import { renderEbpf, renderImages } from '../../../src/dataplane/ebpf/program.js';
import type { EbpfProgram } from '../../../src/dataplane/ebpf/program.js';
import { LoadedState } from '../../../src/dataplane/ebpf/state.js';
import type { MapWriter } from '../../../src/dataplane/ebpf/state.js';
import { compareMaps } from '../../../src/dataplane/ebpf/verify.js';
import type { MapReader } from '../../../src/dataplane/ebpf/verify.js';
import { generateCluster } from '../../../src/model/index.js';
import type { ClusterModel, NodeContext } from '../../../src/model/types.js';
import type { DeltaKind } from '../../../src/dataplane/backend.js';

const NODE: NodeContext = { nodeName: 'node1', nodeIP: '198.18.0.2', clusterCIDR: '172.16.0.0/12', masqueradeBit: 14 };

class MemoryMaps implements MapWriter, MapReader {
  readonly maps = new Map<string, Map<string, Buffer>>();
  writes = 0;
  private of(map: string): Map<string, Buffer> {
    let m = this.maps.get(map);
    if (!m) this.maps.set(map, (m = new Map()));
    return m;
  }
  update(map: string, key: Buffer, value: Buffer): void {
    this.writes++;
    this.of(map).set(key.toString('hex'), Buffer.from(value));
  }
  delete(map: string, key: Buffer): void {
    this.writes++;
    this.of(map).delete(key.toString('hex'));
  }
  lookup(map: string, key: Buffer): Buffer | undefined {
    return this.of(map).get(key.toString('hex'));
  }
  count(map: string): number {
    return this.of(map).size;
  }
}

function load(p: EbpfProgram): { mem: MemoryMaps; state: LoadedState } {
  const mem = new MemoryMaps();
  for (const img of renderImages(p)) {
    for (let i = 0; i < img.keys.length / img.keySize; i++) {
      mem.update(img.map, img.keys.subarray(i * img.keySize, (i + 1) * img.keySize), img.values.subarray(i * img.valueSize, (i + 1) * img.valueSize));
    }
  }
  mem.writes = 0;
  return { mem, state: new LoadedState(p) };
}

/**
 * Applies the changes one by one and checks the maps against a whole render
 * each time. `perService`: apply each from the changed Service's own programs
 * (rendered from the change's objects), as the backend does, unless the state needs the whole ones.
 */
function run(model: ClusterModel, kinds: DeltaKind[], perService = false): { mismatches: string[]; writes: number[]; whole: number } {
  let p = renderEbpf(model, NODE);
  const { mem, state } = load(p);
  const mismatches: string[] = [];
  const writes: number[] = [];
  let whole = 0;
  let current = model;
  for (const kind of kinds) {
    const delta = DELTAS[kind](current);
    const next = renderEbpf(delta.after, NODE);
    const before = mem.writes;
    let from = p;
    let to = next;
    if (perService) {
      from = renderEbpf(delta.objects.before, NODE);
      to = renderEbpf(delta.objects.after, NODE);
      if (state.needsWholePrograms(from, to)) {
        whole++;
        from = p;
        to = next;
      }
    }
    state.syncService(mem, delta.service, from, to);
    writes.push(mem.writes - before);
    mismatches.push(...compareMaps(mem, next, Number.MAX_SAFE_INTEGER).mismatches.map((m) => `${kind}: ${m}`));
    if (mem.count('kscale_lb4_backends') !== state.backendsInUse()) mismatches.push(`${kind}: allocator out of step`);
    p = next;
    current = delta.after;
  }
  return { mismatches, writes, whole };
}

describe('eBPF loaded state', () => {
  it('a fresh load reads back equal to its program', () => {
    const p = renderEbpf(generateCluster({ services: 30, endpointsPerService: 4, layout: 'realistic', seed: 3 }), NODE);
    const { mem } = load(p);
    expect(compareMaps(mem, p, Number.MAX_SAFE_INTEGER).mismatches).toEqual([]);
  });

  it('shared endpoints (kube-proxy-scale: every Service has the same ones) stay while any Service uses them', () => {
    const model = generateCluster({ services: 20, endpointsPerService: 3, layout: 'kube-proxy-scale', seed: 1 });
    const r = run(model, ['add-service', 'change-endpoint', 'delete-service', 'delete-service', 'change-endpoint', 'add-service']);
    expect(r.mismatches).toEqual([]);
  });

  it('a varied cluster (several ports, NodePorts, LoadBalancers, two traffic-policy scopes) stays equal through many changes', () => {
    const model = generateCluster({ services: 40, endpointsPerService: 5, layout: 'realistic', seed: 11 });
    const kinds: DeltaKind[] = [];
    for (let i = 0; i < 8; i++) kinds.push('add-service', 'change-endpoint', 'delete-service');
    const r = run(model, kinds);
    expect(r.mismatches).toEqual([]);
  });

  it("a change applied from the changed Service's own programs leaves the maps as the whole programs would", () => {
    const kinds: DeltaKind[] = [];
    for (let i = 0; i < 6; i++) kinds.push('add-service', 'change-endpoint', 'delete-service');
    for (const [layout, seed] of [['kube-proxy-scale', 1], ['realistic', 11], ['realistic', 4]] as const) {
      const model = generateCluster({ services: 60, endpointsPerService: 4, layout, seed });
      const whole = run(model, kinds);
      const own = run(model, kinds, true);
      expect(own.mismatches, layout).toEqual([]);
      expect(own.writes, layout).toEqual(whole.writes);
      // The realistic layout's added Service copies a NodePort Service, NodePort and all: a contested key, so those changes went whole.
      if (layout === 'kube-proxy-scale') expect(own.whole).toBe(0);
    }
  });

  it('falls back to the whole programs for good once two Services contest a frontend key', () => {
    // Every Service on one external IP and port: all but the first lose that frontend in a whole render.
    const base = generateCluster({ services: 12, endpointsPerService: 3, layout: 'kube-proxy-scale', seed: 2 });
    const model: ClusterModel = { ...base, services: base.services.map((s) => ({ ...s, externalIPs: ['198.51.100.7'], ports: s.ports.map((sp) => ({ ...sp, port: 80 })) })) };
    expect(renderEbpf(model, NODE).maps.warnings.length).toBeGreaterThan(0);
    const r = run(model, ['delete-service', 'add-service', 'change-endpoint'], true);
    expect(r.mismatches).toEqual([]);
    expect(r.whole).toBe(3);
  });

  it('a change writes only the changed Service\'s entries', () => {
    const model = generateCluster({ services: 500, endpointsPerService: 10, layout: 'kube-proxy-scale', seed: 1 });
    const r = run(model, ['change-endpoint', 'add-service', 'delete-service']);
    expect(r.mismatches).toEqual([]);
    // One port, ten slots: slot writes, slot 0, at most a backend or two and a reverse-NAT entry.
    for (const w of r.writes) expect(w).toBeLessThanOrEqual(30);
  });
});
