// NodePorts (filter): a wanted host port conflicts with one in use on the node
// when protocol and port are equal and either address is the wildcard or both
// are the same (upstream HostPortInfo.CheckConflict).
import type { PortKey } from '../state.js';

export const REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

export function portsConflict(a: PortKey, b: PortKey): boolean {
  return a.port === b.port && a.protocol === b.protocol && (a.hostIP === '' || b.hostIP === '' || a.hostIP === b.hostIP);
}

/** used[at … at + usedCount): port key ids in use on the node; wanted: the pod's. */
export function nodePortsFit(ports: PortKey[], used: Int32Array, at: number, usedCount: number, wanted: number[]): boolean {
  for (const w of wanted) {
    const pw = ports[w] as PortKey;
    for (let i = 0; i < usedCount; i++) if (portsConflict(pw, ports[used[at + i] as number] as PortKey)) return false;
  }
  return true;
}
