// The IPVS loader's pure parts (what a sync changes) and its capability check.
import { describe, expect, it } from 'vitest';
import { countIpsetEntries, countIpvsadmSave, ipsetDiff, ipvsadmDiff, ipvsBackend } from '../../../src/dataplane/ipvs/backend.js';
import { DELTAS } from '../../../src/dataplane/delta.js';
import { generateCluster } from '../../../src/model/index.js';
import { probeCapabilities } from '../../../src/host/capabilities.js';

const node = { nodeName: 'node1', nodeIP: '198.18.0.2', clusterCIDR: '172.16.0.0/12', masqueradeBit: 14 };
const model = generateCluster({ services: 6, endpointsPerService: 2, layout: 'kube-proxy-scale', seed: 1 });
const p0 = ipvsBackend.render(model, node);

describe('IPVS sync differences', () => {
  it('adding a Service adds one virtual server with its real servers and its cluster-IP set entry', () => {
    const d = DELTAS['add-service'](model);
    const p1 = ipvsBackend.render(d.after, node);
    const added = d.after.services.at(-1)!;
    const vip = `${added.clusterIP}:${added.ports[0]!.port}`;
    const lines = ipvsadmDiff(p0, p1).trim().split('\n');
    expect(lines[0]).toBe(`-A -t ${vip} -s rr`);
    expect(lines.slice(1).every((l) => l.startsWith(`-a -t ${vip} -r 172.31.254.`) && l.endsWith(' -m -w 1'))).toBe(true);
    expect(lines).toHaveLength(3);
    // Its cluster IP joins the cluster-IP set and the set of addresses on kube-ipvs0.
    expect(ipsetDiff(p0, p1)).toBe(`add KUBE-CLUSTER-IP ${added.clusterIP},tcp:${added.ports[0]!.port}\nadd KUBE-IPVS-IPS ${added.clusterIP}\n`);
  });
  it('changing an endpoint swaps one real server; deleting a Service removes its virtual server', () => {
    const c = DELTAS['change-endpoint'](model);
    const diff = ipvsadmDiff(p0, ipvsBackend.render(c.after, node)).trim().split('\n');
    expect(diff.map((l) => l.split(' ')[0])).toEqual(['-d', '-a']);
    const del = DELTAS['delete-service'](model);
    const gone = model.services.find((s) => `${s.namespace}/${s.name}` === del.service)!;
    expect(ipvsadmDiff(p0, ipvsBackend.render(del.after, node))).toBe(`-D -t ${gone.clusterIP}:${gone.ports[0]!.port}\n`);
    expect(ipvsadmDiff(p0, p0)).toBe('');
  });
  it('counts what ipvsadm -Sn and ipset list -t print', () => {
    expect(countIpvsadmSave('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 172.16.0.1:8080 -m -w 1\n-a -t 10.0.0.1:80 -r 172.16.0.2:8080 -m -w 1\n')).toEqual({ virtualServers: 1, realServers: 2 });
    expect(countIpsetEntries('Name: A\nNumber of entries: 3\nName: B\nNumber of entries: 0\nName: C\nNumber of entries: 12\n')).toBe(15);
  });
  it('is skipped where the kernel has no ip_vs, with the kernel named', async () => {
    const caps = await probeCapabilities();
    const a = ipvsBackend.probe(caps);
    if (caps.ip_vs.available && caps.root.available) expect(a.available).toBe(true);
    else expect(a).toEqual({ available: false, reason: expect.stringMatching(/ip_vs|IP Virtual Server|root/) });
  });
});
