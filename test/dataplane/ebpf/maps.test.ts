import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { EbpfMaps, ServiceEntry } from '../../../src/dataplane/ebpf/maps.js';
import {
  BE_STATE,
  encodeBackendValue,
  encodeEbpfMaps,
  encodeServiceKey,
  encodeServiceValue,
  LB4_BACKEND_KEY_SIZE,
  LB4_BACKEND_SIZE,
  LB4_KEY_SIZE,
  LB4_REVNAT_KEY_SIZE,
  LB4_REVNAT_SIZE,
  LB4_SERVICE_SIZE,
  LB_LOOKUP_SCOPE_INT,
  MAX_BACKENDS_PER_FRONTEND,
  renderEbpfMaps,
  SVC_FLAG,
  SVC_FLAG2,
} from '../../../src/dataplane/ebpf/maps.js';
import { ServiceEntries } from '../../../src/dataplane/ebpf/table.js';
import { formatIPv4, parseIPv4 } from '../../../src/model/ip.js';
import { generateCluster } from '../../../src/model/index.js';
import type { ClusterModel } from '../../../src/model/types.js';
import { TEST_NODE, ep, overallModel, port, slice, svc, tcpSlice } from '../helpers.js';

const ip = (s: string): number => parseIPv4(s) ?? -1;
const frontend = (m: EbpfMaps, addr: string, p: number, scope = 0): ServiceEntry | undefined =>
  m.services.slice().find((e) => e.address === ip(addr) && e.dport === p && e.backendSlot === 0 && e.scope === scope);
const slotsOf = (m: EbpfMaps, addr: string, p: number, scope = 0): string[] =>
  m.services
    .slice()
    .filter((e) => e.address === ip(addr) && e.dport === p && e.backendSlot > 0 && e.scope === scope)
    .sort((a, b) => a.backendSlot - b.backendSlot)
    .map((e) => {
      const b = m.backends.find((x) => x.id === e.backendId);
      return b === undefined ? '?' : `${formatIPv4(b.address)}:${b.port}`;
    });

describe('renderEbpfMaps on the upstream overall model', () => {
  const m = renderEbpfMaps(overallModel(), TEST_NODE);

  it('has a frontend per cluster IP, external IP, LB IP and node port, each with its own rev-NAT index', () => {
    // 6 cluster IPs + 2 external IPs + 2 LB IPs + 3 node ports on 192.168.0.2.
    expect(m.counts.frontends).toBe(13);
    expect(m.revNat.map((r) => r.index)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    const fe = frontend(m, '172.30.0.41', 80);
    expect(fe).toMatchObject({ count: 1, flags: 0, proto: 0 });
    expect(m.revNat[(fe?.revNatIndex ?? 0) - 1]).toEqual({ index: fe?.revNatIndex, address: ip('172.30.0.41'), port: 80 });
  });

  it('shares one backend id between the frontends of a service port and across services', () => {
    // svc3 and svc5 both use 10.180.0.3:80.
    const ids = m.backends.filter((b) => b.address === ip('10.180.0.3'));
    expect(ids).toHaveLength(1);
    expect(slotsOf(m, '192.168.0.2', 3003)).toEqual(['10.180.0.3:80']);
    expect(new Set(m.backends.map((b) => b.id)).size).toBe(m.backends.length);
  });

  it('sets Cilium flags per frontend kind and policy', () => {
    // svc2: LoadBalancer, ETP Local, no local endpoint → external frontends have no backends (drop), cluster IP has one.
    expect(frontend(m, '1.2.3.4', 80)).toMatchObject({ count: 0, flags: SVC_FLAG.LOADBALANCER | SVC_FLAG.ROUTABLE | SVC_FLAG.EXT_LOCAL_SCOPE });
    expect(frontend(m, '192.168.99.22', 80)).toMatchObject({ count: 0, flags: SVC_FLAG.EXTERNAL_IP | SVC_FLAG.ROUTABLE | SVC_FLAG.EXT_LOCAL_SCOPE });
    expect(frontend(m, '192.168.0.2', 3001)).toMatchObject({ count: 0, flags: SVC_FLAG.NODEPORT | SVC_FLAG.ROUTABLE | SVC_FLAG.EXT_LOCAL_SCOPE });
    expect(frontend(m, '172.30.0.42', 80)).toMatchObject({ count: 1 });
    // The pod-side (INT scope) copies keep the cluster endpoints.
    expect(frontend(m, '1.2.3.4', 80)?.flags2).toBe(SVC_FLAG2.TWO_SCOPES);
    expect(slotsOf(m, '1.2.3.4', 80, LB_LOOKUP_SCOPE_INT)).toEqual(['10.180.0.2:80']);
    // svc5: ClientIP affinity (timeout in slot 0) and source ranges.
    expect(frontend(m, '5.6.7.8', 80)).toMatchObject({
      backendId: 10800,
      flags: SVC_FLAG.LOADBALANCER | SVC_FLAG.ROUTABLE | SVC_FLAG.SOURCE_RANGE | SVC_FLAG.AFFINITY,
    });
    // svc6 has no endpoints.
    expect(frontend(m, '172.30.0.46', 80)?.count).toBe(0);
  });

  it('puts ETP Local external traffic only on local endpoints', () => {
    // svc4: endpoints 10.180.0.4 (remote) and 10.180.0.5 (test-node); ETP Cluster, so all of them.
    expect(slotsOf(m, '192.168.99.33', 80)).toEqual(['10.180.0.4:80', '10.180.0.5:80']);
    const local: ClusterModel = {
      services: [svc('ns', 's', { type: 'NodePort', clusterIP: '172.30.0.50', externalTrafficPolicy: 'Local', ports: [port('p', 80, { nodePort: 30080 })] })],
      endpointSlices: [tcpSlice('ns', 's', 'p', 80, [ep('10.1.0.1'), ep('10.1.0.2', { nodeName: 'test-node' })])],
    };
    const l = renderEbpfMaps(local, TEST_NODE);
    expect(slotsOf(l, '192.168.0.2', 30080)).toEqual(['10.1.0.2:80']);
    expect(slotsOf(l, '172.30.0.50', 80)).toEqual(['10.1.0.1:80', '10.1.0.2:80']);
  });
});

describe('details', () => {
  const tcpAndUdp: ClusterModel = {
    services: [svc('kube-system', 'dns', { clusterIP: '10.96.0.10', ports: [port('dns-tcp', 53), port('dns', 53, { protocol: 'UDP' })] })],
    endpointSlices: [
      slice('kube-system', 'dns', 1, [ep('10.1.0.9')], [
        { name: 'dns-tcp', protocol: 'TCP', port: 53 },
        { name: 'dns', protocol: 'UDP', port: 53 },
      ]),
    ],
  };

  it('keeps one frontend per address:port without protocol differentiation, and warns', () => {
    const m = renderEbpfMaps(tcpAndUdp, TEST_NODE);
    expect(m.counts.frontends).toBe(1);
    expect(m.warnings).toHaveLength(1);
    expect(m.warnings[0]).toContain('10.96.0.10:53/UDP');
  });

  it('keeps both with protocolInKey, with IPPROTO numbers in the key and separate backends', () => {
    const m = renderEbpfMaps(tcpAndUdp, TEST_NODE, { protocolInKey: true });
    expect(m.services.slice().filter((e) => e.backendSlot === 0).map((e) => e.proto)).toEqual([6, 17]);
    expect(m.backends.map((b) => b.proto)).toEqual([6, 17]);
    expect(m.warnings).toEqual([]);
  });

  it('marks terminating fallback backends', () => {
    const m = renderEbpfMaps(
      {
        services: [svc('ns', 's', { clusterIP: '172.30.0.60', ports: [port('p', 80)] })],
        endpointSlices: [tcpSlice('ns', 's', 'p', 80, [ep('10.1.0.1', { ready: false, serving: true, terminating: true })])],
      },
      TEST_NODE,
    );
    expect(m.backends).toEqual([{ id: 1, address: ip('10.1.0.1'), port: 80, proto: 6, flags: BE_STATE.TERMINATING }]);
  });

  it('scales: one slot per endpoint, backends shared by frontend kinds', () => {
    const model = generateCluster({ services: 200, endpointsPerService: 10, seed: 3, layout: 'kube-proxy-scale' });
    const m = renderEbpfMaps(model, TEST_NODE);
    expect(m.counts.frontends).toBe(200);
    expect(m.counts.serviceEntries).toBe(200 * 11);
    // kube-proxy's scale layout gives every Service the same endpoints (172.16.0.1… :8080): one backend each.
    expect(m.counts.backends).toBe(10);
  });

  it('refuses a frontend with more backends than its u16 slots can number, and takes the most it can', () => {
    const ready = (model: ClusterModel): number => renderEbpfMaps(model, TEST_NODE).counts.serviceEntries;
    const one = (endpoints: number): ClusterModel => generateCluster({ services: 1, endpointsPerService: endpoints, seed: 1, layout: 'kube-proxy-scale' });
    // kube-proxy-scale: every endpoint ready, so the slots are the endpoints.
    expect(ready(one(MAX_BACKENDS_PER_FRONTEND))).toBe(1 + MAX_BACKENDS_PER_FRONTEND);
    expect(() => renderEbpfMaps(one(MAX_BACKENDS_PER_FRONTEND + 1), TEST_NODE)).toThrow(/has 65536 backends; a frontend holds at most 65535/);
  });
});

describe('encoding', () => {
  const host16 = (b: Buffer, o: number): number => (endianness() === 'LE' ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const host32 = (b: Buffer, o: number): number => (endianness() === 'LE' ? b.readUInt32LE(o) : b.readUInt32BE(o));

  it('writes addresses and ports in network order and the rest in host order', () => {
    const e: ServiceEntry = { address: ip('10.96.0.10'), dport: 53, backendSlot: 3, proto: 17, scope: 1, backendId: 0x01020304, count: 7, revNatIndex: 513, flags: 0x42, flags2: 0x20 };
    const k = encodeServiceKey(e);
    expect([...k.subarray(0, 4)]).toEqual([10, 96, 0, 10]);
    expect([...k.subarray(4, 6)]).toEqual([0, 53]);
    expect(host16(k, 6)).toBe(3);
    expect([...k.subarray(8)]).toEqual([17, 1, 0, 0]);
    const v = encodeServiceValue(e);
    expect(host32(v, 0)).toBe(0x01020304);
    expect(host16(v, 4)).toBe(7);
    expect(host16(v, 6)).toBe(513);
    expect([...v.subarray(8)]).toEqual([0x42, 0x20, 0, 0]);
    expect([...encodeBackendValue({ id: 1, address: ip('172.16.0.1'), port: 8080, proto: 6, flags: 1 })]).toEqual([172, 16, 0, 1, 0x1f, 0x90, 6, 1]);
  });

  it('packs every map back to back with the documented sizes', () => {
    const m = renderEbpfMaps(overallModel(), TEST_NODE);
    const enc = encodeEbpfMaps(m);
    expect(enc.services.keys.length).toBe(m.services.length * LB4_KEY_SIZE);
    expect(enc.services.values.length).toBe(m.services.length * LB4_SERVICE_SIZE);
    expect(enc.backends.keys.length).toBe(m.backends.length * LB4_BACKEND_KEY_SIZE);
    expect(enc.backends.values.length).toBe(m.backends.length * LB4_BACKEND_SIZE);
    expect(enc.revNat.keys.length).toBe(m.revNat.length * LB4_REVNAT_KEY_SIZE);
    expect(enc.revNat.values.length).toBe(m.revNat.length * LB4_REVNAT_SIZE);
    // Entry i of the packed keys is the encoding of entry i.
    const i = 5;
    expect(enc.services.keys.subarray(i * LB4_KEY_SIZE, (i + 1) * LB4_KEY_SIZE)).toEqual(encodeServiceKey(m.services.at(i)));
  });

  it('holds service entries packed: what at() decodes is what was pushed, and the bytes are the single-entry encoding', () => {
    const t = new ServiceEntries();
    const entries: ServiceEntry[] = [];
    // Past the initial capacity, so the table has grown (and copied) at least once.
    for (let i = 0; i < 200; i++) {
      const e: ServiceEntry = { address: ip('10.0.0.1') + i, dport: 80 + (i % 3), backendSlot: i % 11, proto: i % 2 === 0 ? 6 : 17, scope: i % 2, backendId: 70000 + i, count: i % 11 === 0 ? 10 : 0, revNatIndex: 1 + Math.floor(i / 11), flags: i % 256, flags2: 32 };
      entries.push(e);
      t.push(e.address, e.dport, e.backendSlot, e.proto, e.scope, e.backendId, e.count, e.revNatIndex, e.flags, e.flags2);
    }
    expect(t.length).toBe(200);
    expect(t.slice()).toEqual(entries);
    expect([...t]).toEqual(entries);
    expect(t.revNatIndexAt(150)).toBe(entries[150]?.revNatIndex);
    expect(t.slotBackendIdAt(11)).toBe(0);
    expect(t.slotBackendIdAt(12)).toBe(70012);
    expect(() => t.at(200)).toThrow(RangeError);
    const { keys, values, count } = t.packed();
    expect(count).toBe(200);
    expect(keys).toEqual(Buffer.concat(entries.map((e) => encodeServiceKey(e))));
    expect(values).toEqual(Buffer.concat(entries.map((e) => encodeServiceValue(e))));
  });

  it('matches the sizes asserted in bpf/kscale_lb_maps.h', () => {
    const header = readFileSync(new URL('../../../bpf/kscale_lb_maps.h', import.meta.url), 'utf8');
    const size = (name: string): number => Number(new RegExp(`#define KSCALE_${name} (\\d+)`).exec(header)?.[1]);
    expect(size('LB4_KEY_SIZE')).toBe(LB4_KEY_SIZE);
    expect(size('LB4_SERVICE_SIZE')).toBe(LB4_SERVICE_SIZE);
    expect(size('LB4_BACKEND_KEY_SIZE')).toBe(LB4_BACKEND_KEY_SIZE);
    expect(size('LB4_BACKEND_SIZE')).toBe(LB4_BACKEND_SIZE);
    expect(size('LB4_REVNAT_KEY_SIZE')).toBe(LB4_REVNAT_KEY_SIZE);
    expect(size('LB4_REVNAT_SIZE')).toBe(LB4_REVNAT_SIZE);
    for (const [name, bit] of Object.entries(SVC_FLAG)) expect(header).toContain(`#define SVC_FLAG_${name} (1 << ${Math.log2(bit)})`);
  });
});
