import { describe, expect, it } from 'vitest';
import { nodeTreeOrder, zoneKey } from '../../src/scheduler/nodetree.js';
import { generateNodes } from '../../src/scheduler/synthetic.js';

const n = (name: string, labels: Record<string, string>) => ({ name, labels });
const names = (list: { name: string }[]) => list.map((x) => x.name);

describe('node-tree order (backend/cache/node_tree.go list)', () => {
  it('lists zones round-robin, zones in order of their first node, each zone in input order', () => {
    const z = (zone: string) => ({ 'topology.kubernetes.io/zone': zone });
    // A dump sorted by name, grouped by zone: a1 a2 a3 b1 b2 c1.
    const nodes = [n('a1', z('a')), n('a2', z('a')), n('a3', z('a')), n('b1', z('b')), n('b2', z('b')), n('c1', z('c'))];
    expect(names(nodeTreeOrder(nodes))).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });
  it('keeps an already interleaved order, and puts unlabelled nodes in a zone of their own', () => {
    const z = (zone: string) => ({ 'topology.kubernetes.io/zone': zone });
    expect(names(nodeTreeOrder([n('x', {}), n('a1', z('a')), n('b1', z('b')), n('y', {}), n('a2', z('a'))]))).toEqual(['x', 'a1', 'b1', 'y', 'a2']);
  });
  it('keys by region and zone, the beta labels before the GA ones (GetZoneKey)', () => {
    expect(zoneKey({})).toBe('');
    expect(zoneKey({ 'topology.kubernetes.io/zone': 'a', 'topology.kubernetes.io/region': 'r' })).toBe('r:\u0000:a');
    expect(zoneKey({ 'failure-domain.beta.kubernetes.io/zone': 'a' })).toBe(':\u0000:a');
    expect(zoneKey({ 'topology.kubernetes.io/zone': 'a', 'failure-domain.beta.kubernetes.io/zone': 'b' })).toBe(':\u0000:b');
    expect(zoneKey({ 'topology.kubernetes.io/region': 'r', 'failure-domain.beta.kubernetes.io/region': 'old' })).toBe('old:\u0000:');
    // One zone name in two regions is two zones.
    const nodes = [n('r1a', { 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': 'a' }), n('r1b', { 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': 'a' }), n('r2a', { 'topology.kubernetes.io/region': 'r2', 'topology.kubernetes.io/zone': 'a' })];
    expect(names(nodeTreeOrder(nodes))).toEqual(['r1a', 'r2a', 'r1b']);
  });
  it('the synthetic cluster is generated in node-tree order already (zones interleaved)', () => {
    const nodes = generateNodes(1000, 7);
    expect(names(nodeTreeOrder(nodes))).toEqual(names(nodes));
  });
});
