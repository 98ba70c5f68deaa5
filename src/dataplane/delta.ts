// The three changes a sync benchmark applies to a loaded model, as the API
// server would deliver them to kube-proxy: a Service appears (with its
// EndpointSlice), one endpoint of an existing Service changes address, a
// Service goes away (with its slices). Pure; the models share every object
// that did not change, so a 50,000-Service model is not copied.
import type { ClusterModel, EndpointSlice, Service } from '../model/types.js';
import { formatIPv4, parseIPv4 } from '../model/ip.js';
import type { DeltaKind, ModelDelta } from './backend.js';

/** Address the changed endpoint moves to: inside 172.16.0.0/12 (the sandbox's endpoint range), above what generators hand out. */
export const MOVED_ENDPOINT_IP = '172.31.255.1';
/** First address of the added Service's endpoints. */
const ADDED_ENDPOINTS_BASE = '172.31.254.1';

/** A model without the Service: its objects before an add, after a delete. */
const NOTHING: ClusterModel = { services: [], endpointSlices: [] };

function keyOf(s: { namespace: string; name: string }): string {
  return `${s.namespace}/${s.name}`;
}

/** The Service a change is made to: the middle one, so neither end of KUBE-SERVICES is favoured. */
function middleService(model: ClusterModel): Service {
  const svc = model.services[Math.floor(model.services.length / 2)];
  if (!svc) throw new Error('a change needs a model with at least one Service');
  return svc;
}

function slicesOf(model: ClusterModel, svc: Service): EndpointSlice[] {
  return model.endpointSlices.filter((s) => s.namespace === svc.namespace && s.serviceName === svc.name);
}

/** One past the highest cluster IP in use, so the added Service cannot collide. */
function nextClusterIP(model: ClusterModel): string {
  let max = 0;
  for (const s of model.services) {
    const ip = parseIPv4(s.clusterIP);
    if (ip !== undefined && ip > max) max = ip;
  }
  return formatIPv4(max + 1);
}

export function addService(model: ClusterModel): ModelDelta {
  const template = middleService(model);
  const templateSlice = slicesOf(model, template)[0];
  // Unique per application, so repeated adds to one model never collide.
  const name = `kscale-added-${model.services.filter((s) => s.name.startsWith('kscale-added-')).length}`;
  const clusterIP = nextClusterIP(model);
  const svc: Service = { ...template, name, clusterIP, clusterIPs: [clusterIP], source: 'kscale delta' };
  const base = (parseIPv4(ADDED_ENDPOINTS_BASE) ?? 0) + 16 * (model.services.length % 64);
  const endpoints = (templateSlice?.endpoints ?? []).map((e, i) => ({ ...e, addresses: [formatIPv4(base + i)] }));
  const slice: EndpointSlice | undefined = templateSlice && { ...templateSlice, name: `${name}-abcde`, serviceName: name, endpoints };
  const after: ClusterModel = { services: [...model.services, svc], endpointSlices: slice ? [...model.endpointSlices, slice] : model.endpointSlices };
  return { kind: 'add-service', before: model, after, service: keyOf(svc), objects: { before: NOTHING, after: { services: [svc], endpointSlices: slice ? [slice] : [] } } };
}

/**
 * Where the changed endpoint goes: MOVED_ENDPOINT_IP, or, when a previous
 * change already put it in that block, the next address of the block, so
 * every repeat of the change is a real change (never a no-op sync).
 */
function movedAddress(current: string | undefined): string {
  const base = parseIPv4(MOVED_ENDPOINT_IP) ?? 0;
  const at = current === undefined ? undefined : parseIPv4(current);
  const step = at !== undefined && at >= base && at < base + 250 ? at - base + 1 : 0;
  return formatIPv4(base + (step % 250));
}

export function changeEndpoint(model: ClusterModel): ModelDelta {
  const svc = middleService(model);
  const slice = slicesOf(model, svc).find((s) => s.endpoints.length > 0);
  if (!slice) throw new Error(`Service ${keyOf(svc)} has no endpoints to change`);
  const [first, ...rest] = slice.endpoints;
  const moved = { ...slice, endpoints: [{ ...first!, addresses: [movedAddress(first!.addresses[0])] }, ...rest] };
  const after: ClusterModel = { services: model.services, endpointSlices: model.endpointSlices.map((s) => (s === slice ? moved : s)) };
  const slices = slicesOf(model, svc);
  const objects = { before: { services: [svc], endpointSlices: slices }, after: { services: [svc], endpointSlices: slices.map((s) => (s === slice ? moved : s)) } };
  return { kind: 'change-endpoint', before: model, after, service: keyOf(svc), objects };
}

export function deleteService(model: ClusterModel): ModelDelta {
  const svc = middleService(model);
  const gone = new Set(slicesOf(model, svc));
  const after: ClusterModel = { services: model.services.filter((s) => s !== svc), endpointSlices: model.endpointSlices.filter((s) => !gone.has(s)) };
  return { kind: 'delete-service', before: model, after, service: keyOf(svc), objects: { before: { services: [svc], endpointSlices: [...gone] }, after: NOTHING } };
}

export const DELTAS: Record<DeltaKind, (model: ClusterModel) => ModelDelta> = {
  'add-service': addService,
  'change-endpoint': changeEndpoint,
  'delete-service': deleteService,
};
