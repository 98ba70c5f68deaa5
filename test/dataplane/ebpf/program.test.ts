// The backend's indexes over maps.ts's entries: frontends per Service and the
// contiguous service-map range of each frontend.
import { describe, expect, it } from 'vitest';
import { entriesOf, renderEbpf, serviceOf, renderImages } from '../../../src/dataplane/ebpf/program.js';
import { LB_MAPS } from '../../../src/dataplane/ebpf/loader.js';
import { generateCluster } from '../../../src/model/index.js';
import { svc, port, tcpSlice, ep } from '../helpers.js';
import type { NodeContext } from '../../../src/model/types.js';

const NODE: NodeContext = { nodeName: 'node1', nodeIP: '198.18.0.2', clusterCIDR: '172.16.0.0/12', masqueradeBit: 14 };

describe('eBPF program indexes', () => {
  it('serviceOf strips the port name', () => {
    expect(serviceOf('ns/a:http')).toBe('ns/a');
    expect(serviceOf('ns/a')).toBe('ns/a');
  });

  it('groups every frontend of a Service and each frontend\'s entries, slot 0 first', () => {
    const model = {
      services: [
        svc('ns', 'a', { clusterIP: '172.30.0.1', ports: [port('p80', 80), port('p81', 81)] }),
        svc('ns', 'b', { type: 'NodePort', clusterIP: '172.30.0.2', ports: [port('p80', 80, { nodePort: 30080 })] }),
      ],
      endpointSlices: [
        { ...tcpSlice('ns', 'a', 'p80', 80, [ep('172.16.0.1'), ep('172.16.0.2')]), ports: [{ name: 'p80', protocol: 'TCP' as const, port: 80 }, { name: 'p81', protocol: 'TCP' as const, port: 81 }] },
        tcpSlice('ns', 'b', 'p80', 80, [ep('172.16.0.3')]),
      ],
    };
    const p = renderEbpf(model, NODE);
    expect(p.byService.get('ns/a')).toEqual([0, 1]);
    // b: its cluster IP and its NodePort on the node IP.
    expect(p.byService.get('ns/b')).toEqual([2, 3]);
    for (let i = 0; i < p.maps.frontends.length; i++) {
      const entries = entriesOf(p, i);
      expect(entries[0]?.backendSlot).toBe(0);
      expect(entries.every((e) => e.revNatIndex === i + 1)).toBe(true);
      expect(entries.length).toBe(1 + (entries[0]?.count ?? 0));
    }
    expect(p.entryStart[p.maps.frontends.length]).toBe(p.maps.services.length);
  });

  it('images hold every entry, backends and reverse NAT before services', () => {
    const p = renderEbpf(generateCluster({ services: 50, endpointsPerService: 3, layout: 'kube-proxy-scale', seed: 1 }), NODE);
    const images = renderImages(p);
    expect(images.map((i) => i.map)).toEqual([LB_MAPS.backends, LB_MAPS.revNat, LB_MAPS.services]);
    expect(images.map((i) => i.keys.length / i.keySize)).toEqual([p.maps.counts.backends, p.maps.counts.revNat, p.maps.counts.serviceEntries]);
    expect(images.every((i) => i.keys.length / i.keySize === i.values.length / i.valueSize)).toBe(true);
  });
});
