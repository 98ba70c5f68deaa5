// A snapshot directory → the counts a capacity plan needs (nodes, pods,
// Services kube-proxy programs, endpoints per Service). Services and
// EndpointSlices go through the model loader, so what is counted is what kscale would replay.
// Nodes and Pods are read by the same reader and decoder (model/manifests.ts,
// model/decode.ts) as `kscale schedule --cluster`, so a snapshot file one
// command reads the other reads the same way (encoding, merge keys, limits).
import { join } from 'node:path';
import { forEachManifestObject, loadManifestFiles, readManifestTexts } from '../model/manifests.js';
import type { Obj } from '../model/manifests.js';
import type { ClusterProfile } from '../plan/profile.js';
import { KINDS } from './capture.js';
import type { KindSpec } from './capture.js';

/** The core-group objects of `kind` in its snapshot file, Lists unwrapped; objects of other kinds are not counted. */
async function objectsOf(dir: string, kind: 'Node' | 'Pod'): Promise<Obj[]> {
  const out: Obj[] = [];
  await readManifestTexts([join(dir, fileOf(kind))], (text, fileName) => forEachManifestObject(text, fileName, (m) => {
    if (m.kind === kind && m.group === '') out.push(m.o);
  }));
  return out;
}

function fileOf(kind: KindSpec['kind']): string {
  return KINDS.find((k) => k.kind === kind)?.file ?? '';
}

export async function snapshotCounts(dir: string): Promise<Pick<ClusterProfile, 'nodes' | 'pods' | 'services' | 'endpointsPerService'>> {
  const model = await loadManifestFiles([join(dir, fileOf('Service')), join(dir, fileOf('EndpointSlice'))]);
  // kube-proxy programs nothing for headless or ExternalName Services.
  const programmed = model.services.filter((s) => s.type !== 'ExternalName' && s.clusterIP !== '' && s.clusterIP !== 'None');
  const names = new Set(programmed.map((s) => `${s.namespace}/${s.name}`));
  let ready = 0;
  for (const sl of model.endpointSlices) {
    if (!names.has(`${sl.namespace}/${sl.serviceName}`)) continue;
    ready += sl.endpoints.filter((e) => e.conditions.ready).length;
  }
  const pods = (await objectsOf(dir, 'Pod')).filter((p) => {
    const phase = (p.status as { phase?: unknown } | undefined)?.phase;
    return phase !== 'Succeeded' && phase !== 'Failed';
  });
  return {
    nodes: (await objectsOf(dir, 'Node')).length,
    pods: pods.length,
    services: programmed.length,
    // The plan needs a positive average; a cluster without endpoints counts as one per Service.
    endpointsPerService: programmed.length > 0 && ready > 0 ? Math.round((ready / programmed.length) * 100) / 100 : 1,
  };
}
