// NodeName (filter): a pod that names a node fits only that node.
export const REASON_NODE_NAME = "node(s) didn't match the requested node name";

export function nodeNameFits(podNodeName: string, nodeName: string): boolean {
  return podNodeName === '' || podNodeName === nodeName;
}
