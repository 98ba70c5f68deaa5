#!/usr/bin/env node
// How the scheduler's per-thread caches hold up when every pending pod is a
// class of its own, as real manifests can make them: `selector` gives pod i a
// nodeSelector naming its own host (a static part per pod), `requests` gives
// it a cpu request of its own (as VerticalPodAutoscaler leaves pods: a
// resource shape per pod). Schedules the basic workload that way on the
// reference path and prints the pods placed, the time and the RSS at the end.
//
//   node scripts/scheduler-unique-classes.mjs selector|requests [--nodes 20000] [--pods 3000]
//
// Needs `npm run build` (dist/).
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { nodes: { type: 'string', default: '20000' }, pods: { type: 'string', default: '3000' } } });
const kind = positionals[0];
if (kind !== 'selector' && kind !== 'requests') {
  process.stderr.write('usage: scheduler-unique-classes.mjs selector|requests [--nodes N] [--pods N]\n');
  process.exit(2);
}
const nodes = Number(values.nodes);
const pods = Number(values.pods);
const m = await import(new URL('../dist/src/scheduler/index.js', import.meta.url).href);
const { scheduleReference } = await import(new URL('../dist/src/scheduler/scheduler.js', import.meta.url).href);
const own = (p, i) => (kind === 'selector'
  ? { ...p, nodeSelector: { 'kubernetes.io/hostname': `node-${(i * 7) % nodes}` } }
  : { ...p, requests: { ...p.requests, cpu: 100 + i }, nonZeroRequests: { ...p.nonZeroRequests, cpu: 100 + i } });
const b = m.buildState(m.generateNodes(nodes, 1), m.generatePods('basic', pods, 1).map(own));
const t0 = performance.now();
const r = scheduleReference(b.state, b.pending, { percentageOfNodesToScore: 0, seed: 1 });
const placed = r.placements.filter((x) => x >= 0).length;
console.log(`${kind}: ${pods} pods onto ${nodes} nodes: placed ${placed}, ${((performance.now() - t0) / 1000).toFixed(1)} s, RSS at the end ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
