#!/usr/bin/env node
// Compares two scheduler variants on this machine at the same moments: each
// variant gets its own copy of one synthetic cluster, and they take turns on
// chunks of the pending queue (A then B, then B then A, …) in one process, so a
// drift of the VM's speed hits both alike. Prints each variant's pods/s and B's
// speed-up over A per chunk pair, with the median: the figure to quote. Separate
// back-to-back runs on the 2-vCPU VMs this was written on scattered by ±30%.
//
// A variant is ROOT:ENGINE:WORKERS:BATCH, ROOT a built checkout (its dist/), e.g.
//   node scripts/compare-scheduler.mjs /tmp/base:full:1:1 .:incremental:2:8 --percentage 0
// (build the other checkout first: git worktree add /tmp/base <commit> && cd /tmp/base && npm ci && npm run build).
// Each schedule() call starts afresh (start index, tie-breaking stream, engine state),
// in the same way for both variants. The first chunk pair carries the warm-up (JIT,
// per-class tables), and for two variants of one checkout A's warm-up of the shared
// code also serves B: read the median over all pairs, not a single pair.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    percentage: { type: 'string', default: '0' }, nodes: { type: 'string', default: '5000' }, pods: { type: 'string', default: '150000' },
    workload: { type: 'string', default: 'mixed' }, chunk: { type: 'string', default: '15000' }, seed: { type: 'string', default: '1' },
  },
});
if (positionals.length !== 2) {
  process.stderr.write('usage: compare-scheduler.mjs ROOT:ENGINE:WORKERS:BATCH ROOT:ENGINE:WORKERS:BATCH [--percentage P] [--nodes N] [--pods N] [--workload W] [--chunk N] [--seed N]\n');
  process.exit(2);
}
const [pct, nodes, pods, chunk, seed] = ['percentage', 'nodes', 'pods', 'chunk', 'seed'].map((k) => Number(values[k]));

async function variant(spec) {
  const [root, engine, workers, batch] = spec.split(':');
  if (!root || !engine || !(Number(workers) >= 1) || !(Number(batch) >= 1)) throw new Error(`variant "${spec}" is not ROOT:ENGINE:WORKERS:BATCH`);
  const m = await import(pathToFileURL(resolve(root, 'dist', 'src', 'scheduler', 'index.js')).href);
  const b = m.buildState(m.generateNodes(nodes, seed), m.generatePods(values.workload, pods, seed, nodes));
  const pool = new m.SchedulerPool(b.state, Number(workers));
  return { spec, b, pool, opts: { percentageOfNodesToScore: pct, seed, engine, pluginSampleEvery: 0, batch: Number(batch) }, ms: [] };
}

const a = await variant(positionals[0]);
const b = await variant(positionals[1]);
const ratios = [];
try {
  for (let i = 0, k = 0; i < pods; i += chunk, k++) {
    for (const v of k % 2 === 0 ? [a, b] : [b, a]) {
      const r = await v.pool.schedule(v.b.pending.slice(i, i + chunk), v.opts);
      v.ms.push(r.elapsedMs);
    }
    ratios.push(a.ms.at(-1) / b.ms.at(-1));
  }
} finally {
  await Promise.all([a.pool.close(), b.pool.close()]);
}
// The project's own median (this checkout's build).
const { median } = await import(new URL('../dist/src/stats/summary.js', import.meta.url).href);
const pps = (v) => Math.round(pods / (v.ms.reduce((s, x) => s + x, 0) / 1000));
process.stdout.write(`A ${a.spec}: ${pps(a)} pods/s\nB ${b.spec}: ${pps(b)} pods/s\nB over A per chunk pair: ${ratios.map((r) => r.toFixed(2)).join(' ')}\nmedian ${median(ratios).toFixed(3)}×\n`);
