// filterShard skips a run of nodes the static filters reject in one step
// (StaticEntry.nextPass) and writes their reasons only when the shard finds
// fewer than numToFind. Every path shares filterShard, so comparing paths
// would miss a skip that lands one node off or a reason left unwritten: here
// one shard over a crafted cluster is checked against each node's own Filter
// chain (evaluateNode) and against the positions worked out by hand.
import { describe, expect, it } from 'vitest';
import { createThreadCtx } from '../../src/scheduler/context.js';
import { evaluateNode, filterShard, prepareCycle, reasonStrings, shardBuf, shardBufBytes, shardFeasibleCount, takeShards } from '../../src/scheduler/framework.js';
import { buildState } from '../../src/scheduler/state.js';
import { node, pod } from './helpers.js';

const N = 10;
/** disk=ssd on nodes 3 and 8 only; node 5 is cordoned as well. */
function setup() {
  const nodes = Array.from({ length: N }, (_, i) => node(`n${i}`, { cpu: 4000, memory: 8 * 1024 ** 3 }, {
    labels: i === 3 || i === 8 ? { disk: 'ssd' } : {}, unschedulable: i === 5,
  }));
  const b = buildState(nodes, [pod('p', [{ cpu: '100m' }], { nodeSelector: { disk: 'ssd' } })]);
  const ctx = createThreadCtx(b.state);
  const c = prepareCycle(ctx, 0);
  const buf = shardBuf(b.state, new ArrayBuffer(shardBufBytes(b.state, N)), N);
  const reasons = new Int32Array(N).fill(-1);
  const pass = (start: number, numToFind: number) => {
    reasons.fill(-1);
    filterShard(ctx, c, start, 0, N, numToFind, buf, reasons);
    const taken = takeShards([buf], [{ from: 0, to: N }], numToFind, new Int32Array(1));
    return { feasible: shardFeasibleCount(buf), nodes: Array.from(buf.node.subarray(0, shardFeasibleCount(buf))), processed: taken.processed };
  };
  return { st: b.state, ctx, c, reasons, pass };
}

describe('filterShard over runs of statically rejected nodes', () => {
  it('finding fewer than numToFind, it examines every node and writes every rejected position its own Filter chain reason', () => {
    const { st, ctx, c, reasons, pass } = setup();
    const r = pass(6, 5);
    expect(r).toEqual({ feasible: 2, nodes: [8, 3], processed: N });
    const own = new Int32Array(N);
    const unused = new Int32Array(N);
    for (let q = 0; q < N; q++) {
      const n = (6 + q) % N;
      evaluateNode(ctx, c, n, own, unused, unused, new Int32Array(N * 4));
      if (n === 3 || n === 8) expect(own[n]).toBe(0);
      else expect(reasons[q]).toBe(own[n]);
    }
    // Upstream's filter order: the cordon is reported before the selector.
    expect(reasonStrings(st, reasons[(5 - 6 + N) % N] as number)).toEqual(['node(s) were unschedulable']);
    expect(reasonStrings(st, reasons[1] as number)).toEqual(["node(s) didn't match Pod's node affinity/selector"]);
  });

  it('stops at the feasible node that completes numToFind, across the wrap to node 0 too', () => {
    const { pass } = setup();
    // From node 6: 6 and 7 rejected, 8 feasible: three positions.
    expect(pass(6, 1)).toEqual({ feasible: 1, nodes: [8], processed: 3 });
    // From node 9: 9, then (wrapping) 0, 1, 2 rejected, 3 feasible: five positions.
    expect(pass(9, 1)).toEqual({ feasible: 1, nodes: [3], processed: 5 });
    // From node 4: 4-7 rejected (one run, the cordoned node inside it), 8 feasible, 9-2 rejected, 3 feasible.
    expect(pass(4, 2)).toEqual({ feasible: 2, nodes: [8, 3], processed: N });
  });
});
