import { describe, expect, it } from 'vitest';
import { addService, changeEndpoint, deleteService, MOVED_ENDPOINT_IP } from '../../src/dataplane/delta.js';
import { generateCluster } from '../../src/model/index.js';
import { validateModel } from '../../src/model/index.js';

const model = generateCluster({ services: 5, endpointsPerService: 3, layout: 'kube-proxy-scale', seed: 1 });

describe('model deltas', () => {
  it('add-service appends a valid Service with a fresh cluster IP and as many endpoints, sharing the rest', () => {
    const d = addService(model);
    expect(d.after.services).toHaveLength(6);
    const added = d.after.services[5]!;
    expect(model.services.map((s) => s.clusterIP)).not.toContain(added.clusterIP);
    expect(d.after.endpointSlices.at(-1)?.endpoints).toHaveLength(3);
    expect(d.after.services[0]).toBe(model.services[0]);
    expect(validateModel(d.after)).toEqual([]);
    // Applied twice, the names still differ.
    expect(addService(d.after).service).not.toBe(d.service);
  });
  it('change-endpoint moves one endpoint of the middle Service and nothing else', () => {
    const d = changeEndpoint(model);
    expect(d.service).toBe('namespace/svc2');
    const changed = d.after.endpointSlices.filter((s, i) => s !== model.endpointSlices[i]);
    expect(changed).toHaveLength(1);
    expect(changed[0]?.endpoints[0]?.addresses).toEqual([MOVED_ENDPOINT_IP]);
    expect(model.endpointSlices[2]?.endpoints[0]?.addresses).not.toEqual([MOVED_ENDPOINT_IP]);
    // Applied again to its own result, the change moves the endpoint again: repeats are never no-op syncs.
    const again = changeEndpoint(d.after);
    const address = (m: typeof model): string[] | undefined => m.endpointSlices.find((s) => s.serviceName === changed[0]?.serviceName)?.endpoints[0]?.addresses;
    expect(address(again.after)).toEqual(['172.31.255.2']);
    expect(address(changeEndpoint(again.after).after)).toEqual(['172.31.255.3']);
  });
  it("carries the changed Service's own objects in each model, as its watch events would", () => {
    const own = (m: typeof model, key: string): typeof model => ({
      services: m.services.filter((s) => `${s.namespace}/${s.name}` === key),
      endpointSlices: m.endpointSlices.filter((s) => `${s.namespace}/${s.serviceName}` === key),
    });
    for (const make of [addService, changeEndpoint, deleteService]) {
      const d = make(model);
      expect(d.objects.before, d.kind).toEqual(own(d.before, d.service));
      expect(d.objects.after, d.kind).toEqual(own(d.after, d.service));
      // The very objects of the models, not copies.
      for (const [objs, m] of [[d.objects.before, d.before], [d.objects.after, d.after]] as const) {
        for (const s of objs.services) expect(m.services).toContain(s);
        for (const s of objs.endpointSlices) expect(m.endpointSlices).toContain(s);
      }
    }
  });
  it('delete-service removes the middle Service and its slices', () => {
    const d = deleteService(model);
    expect(d.after.services.map((s) => s.name)).toEqual(['svc0', 'svc1', 'svc3', 'svc4']);
    expect(d.after.endpointSlices.some((s) => s.serviceName === 'svc2')).toBe(false);
  });
});
