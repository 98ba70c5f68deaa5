// `kscale schedule`: schedule a seeded synthetic cluster with kube-scheduler's
// default plugins and print throughput, latency and where the pods went.
import { writeFileSync, renameSync } from 'node:fs';
import { InputError, EXIT } from '../errors.js';
import { isWorkload, runSynthetic, WORKLOADS } from '../scheduler/index.js';
import { parseSize, str } from './options.js';
import type { Command } from '../cli.js';

export const scheduleCommand: Command = {
  summary: "kube-scheduler's filter/score pipeline on a synthetic cluster: throughput and placements",
  usage: 'kscale schedule [--nodes N] [--pods N] [--workload basic|spread|antiaffinity|nodeaffinity|mixed] [--workers N] '
    + '[--percentage-of-nodes-to-score P] [--seed N] [--placements FILE] [--json]',
  options: {
    nodes: { type: 'string' }, pods: { type: 'string' }, workload: { type: 'string' }, workers: { type: 'string' },
    'percentage-of-nodes-to-score': { type: 'string' }, seed: { type: 'string' }, placements: { type: 'string' }, json: { type: 'boolean' },
  },
  async run(values) {
    const nodes = parseSize('nodes', str(values.nodes) ?? '5000', 100_000);
    const pods = parseSize('pods', str(values.pods) ?? '10000', 10_000_000, 0);
    const workload = str(values.workload) ?? 'mixed';
    if (!isWorkload(workload)) throw new InputError('--workload', `unknown workload "${workload}" (known: ${WORKLOADS.join(', ')})`);
    // 0 = the single-threaded reference path; N ≥ 1 = N threads over node shards (the main thread and N - 1 workers).
    const workers = parseSize('workers', str(values.workers) ?? '2', 64, 0);
    const percentage = parseSize('percentage-of-nodes-to-score', str(values['percentage-of-nodes-to-score']) ?? '0', 100, 0);
    const seed = parseSize('seed', str(values.seed) ?? '1', 2 ** 31, 0);
    const r = await runSynthetic({ workload, nodes, pods, workers, percentage, seed });
    const rssBytes = process.resourceUsage().maxRSS * 1024;
    const placementsFile = str(values.placements);
    if (placementsFile) {
      const { tables } = r.built.state;
      const lines = r.built.pending.slice(0, r.scheduled).map((p, i) => `${tables.podNames[p]} ${r.result.placements[i]! >= 0 ? tables.nodeNames[r.result.placements[i]!] : '-'}`);
      const tmp = `${placementsFile}.tmp-${process.pid}`;
      writeFileSync(tmp, lines.join('\n') + '\n');
      renameSync(tmp, placementsFile);
    }
    const summary = {
      workload, nodes, pods, workers, mode: r.mode, percentageOfNodesToScore: percentage || 'adaptive', seed,
      scheduled: r.scheduled, placed: r.placed, unschedulable: r.unschedulable, elapsedMs: Math.round(r.elapsedMs),
      podsPerSecond: Math.round(r.podsPerSecond), latencyMs: r.latency ? { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max } : null,
      topReasons: Object.fromEntries(r.topReasons), firstUnschedulable: r.result.unschedulable[0]?.message ?? null,
      rescored: r.result.rescored, buildMs: Math.round(r.buildMs), peakRssBytes: rssBytes,
    };
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else {
      const lat = r.latency ? `p50 ${r.latency.p50.toFixed(3)} ms, p99 ${r.latency.p99.toFixed(3)} ms` : 'n/a';
      process.stdout.write([
        `${workload}: ${r.scheduled} pods onto ${nodes} nodes, ${r.mode}${workers ? ` with ${workers} workers` : ''}, percentageOfNodesToScore ${percentage || 'adaptive'}`,
        `throughput ${summary.podsPerSecond} pods/s (${summary.elapsedMs} ms), per-pod latency ${lat}`,
        `placed ${r.placed}, unschedulable ${r.unschedulable}${summary.firstUnschedulable ? ` (e.g. ${summary.firstUnschedulable})` : ''}`,
        `peak RSS ${(rssBytes / 1024 ** 2).toFixed(0)} MiB, cluster build ${summary.buildMs} ms`, '',
      ].join('\n'));
    }
    return EXIT.ok;
  },
};
