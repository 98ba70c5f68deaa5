// A snapshot directory → the counts a capacity plan needs (nodes, pods,
// Services kube-proxy programs, endpoints per Service). Services and
// EndpointSlices go through the model loader, so what is counted is what kscale would replay.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { InputError } from '../errors.js';
import { loadManifestFiles } from '../model/manifests.js';
import type { ClusterProfile } from '../plan/profile.js';
import { KINDS } from './capture.js';

function listItems(dir: string, file: string): Record<string, unknown>[] {
  const path = join(dir, file);
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'), { logLevel: 'error' });
  } catch (err) {
    throw new InputError(path, `cannot read snapshot list: ${(err as Error).message.split('\n')[0]}`);
  }
  const items = (doc as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw new InputError(path, 'expected a kind: List with items');
  return items.filter((i): i is Record<string, unknown> => typeof i === 'object' && i !== null);
}

export async function snapshotCounts(dir: string): Promise<Pick<ClusterProfile, 'nodes' | 'pods' | 'services' | 'endpointsPerService'>> {
  const file = (kind: string): string => KINDS.find((k) => k.kind === kind)?.file ?? '';
  const model = await loadManifestFiles([join(dir, file('Service')), join(dir, file('EndpointSlice'))]);
  // kube-proxy programs nothing for headless or ExternalName Services.
  const programmed = model.services.filter((s) => s.type !== 'ExternalName' && s.clusterIP !== '' && s.clusterIP !== 'None');
  const names = new Set(programmed.map((s) => `${s.namespace}/${s.name}`));
  let ready = 0;
  for (const sl of model.endpointSlices) {
    if (!names.has(`${sl.namespace}/${sl.serviceName}`)) continue;
    ready += sl.endpoints.filter((e) => e.conditions.ready).length;
  }
  const pods = listItems(dir, file('Pod')).filter((p) => {
    const phase = (p.status as { phase?: unknown } | undefined)?.phase;
    return phase !== 'Succeeded' && phase !== 'Failed';
  });
  return {
    nodes: listItems(dir, file('Node')).length,
    pods: pods.length,
    services: programmed.length,
    // The plan needs a positive average; a cluster without endpoints counts as one per Service.
    endpointsPerService: programmed.length > 0 && ready > 0 ? Math.round((ready / programmed.length) * 100) / 100 : 1,
  };
}
