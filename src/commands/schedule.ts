// `kscale schedule`: schedule a seeded synthetic cluster, or the pending pods
// of real manifests (--cluster), with kube-scheduler's default plugins and
// print throughput, latency and where the pods went; or (--explain) show every
// node's filter verdict and per-plugin scores for one pod, or (--capacity) how
// many more copies of one pod the cluster takes.
import { writeFileSync, renameSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { InputError, EXIT } from '../errors.js';
import { buildState, ENGINES, explainPod, isWorkload, MAX_BATCH, runSynthetic, scheduleBuilt, WORKLOADS } from '../scheduler/index.js';
import type { Engine } from '../scheduler/index.js';
import type { BuiltRunSummary, NodeExplanation, ScheduleSpec } from '../scheduler/index.js';
import { SCORE_PLUGINS } from '../scheduler/framework.js';
import { loadClusterManifests } from '../scheduler/manifests.js';
import { capacityReport, copiesToTry, formatCapacity, MAX_CAPACITY_COPIES, podCopies } from '../scheduler/capacity.js';
import type { ClusterCounts, ManifestCluster } from '../scheduler/manifests.js';
import { checkOutputFile, parseSize, str } from './options.js';
import { progressFor } from '../bench/progress.js';
import type { Progress } from '../bench/progress.js';
import type { Command } from '../cli.js';

type Values = Record<string, unknown>;

interface Run {
  r: BuiltRunSummary;
  buildMs: number;
  workload: string;
  nodes: number;
  pods: number;
  /** For --cluster: what the manifests held. */
  cluster?: { files: string[]; counts: ClusterCounts; ignored: ManifestCluster['ignored'] };
}

const SYNTHETIC_FLAGS = ['nodes', 'pods', 'workload'];

function fileList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Flags of a scheduling run that --explain has no use for. */
const EXPLAIN_IGNORES = ['workers', 'percentage-of-nodes-to-score', 'engine', 'batch', 'seed'] as const;

/**
 * --cluster and the synthetic flags exclude each other; --pod goes with
 * exactly one of --explain and --capacity, and either needs --cluster.
 */
function checkClusterFlags(values: Values, cluster: string[]): void {
  const synthetic = SYNTHETIC_FLAGS.filter((k) => values[k] !== undefined);
  if (cluster.length > 0 && synthetic.length > 0) {
    throw new InputError(`--${synthetic[0]}`, 'cannot be combined with --cluster (manifests or a synthetic cluster, not both)');
  }
  const explain = values.explain === true;
  const capacity = values.capacity === true;
  const pod = str(values.pod);
  if (explain && capacity) throw new InputError('--capacity', 'cannot be combined with --explain (one question about the pod at a time)');
  // Standard input can be read once: --cluster would take it all and the pod file would read as empty.
  if (pod === '-' && cluster.includes('-')) throw new InputError('--pod', '"-" (standard input) is already read by --cluster -; give one of them as a file');
  const mode = capacity ? '--capacity' : '--explain';
  if ((explain || capacity) !== (pod !== undefined)) throw new InputError(explain || capacity ? mode : '--pod', `give --pod FILE and ${mode} together`);
  if ((explain || capacity) && cluster.length === 0) throw new InputError(mode, `needs --cluster FILE… (the cluster to ${capacity ? 'fill with copies of' : 'explain'} the pod against)`);
  if ((explain || capacity) && values.placements !== undefined) throw new InputError('--placements', `cannot be combined with ${mode}`);
  if (values['max-copies'] !== undefined && !capacity) throw new InputError('--max-copies', 'goes with --capacity');
  // --explain filters and scores every node once, on this thread: none of these would change what it shows.
  const unused = explain ? EXPLAIN_IGNORES.find((k) => values[k] !== undefined) : undefined;
  if (unused !== undefined) throw new InputError(`--${unused}`, 'cannot be combined with --explain (it filters and scores every node once, on one thread)');
  if (capacity && values.batch !== undefined && str(values.batch) !== '1') throw new InputError('--batch', 'cannot be combined with --capacity (the copies go one at a time, as kube-scheduler places them)');
}

async function runSyntheticFlags(values: Values, spec: ScheduleSpec): Promise<Run> {
  const nodes = parseSize('nodes', str(values.nodes) ?? '5000', 100_000);
  const pods = parseSize('pods', str(values.pods) ?? '10000', 10_000_000, 0);
  const workload = str(values.workload) ?? 'mixed';
  if (!isWorkload(workload)) throw new InputError('--workload', `unknown workload "${workload}" (known: ${WORKLOADS.join(', ')})`);
  const r = await runSynthetic({ workload, nodes, pods, ...spec });
  return { r, buildMs: r.buildMs, workload, nodes, pods };
}

async function runCluster(files: string[], spec: ScheduleSpec): Promise<Run> {
  const b0 = performance.now();
  const m = await loadClusterManifests(files);
  const built = buildState(m.nodes, m.pods);
  const buildMs = performance.now() - b0;
  const r = await scheduleBuilt(built, spec);
  return { r, buildMs, workload: 'manifests', nodes: m.counts.nodes, pods: m.counts.pendingPods, cluster: { files, counts: m.counts, ignored: m.ignored } };
}

const SHORT_PLUGIN: Record<string, string> = {
  TaintToleration: 'Taint', NodeAffinity: 'NodeAff', NodeResourcesFit: 'Fit', PodTopologySpread: 'Spread',
  InterPodAffinity: 'InterPod', NodeResourcesBalancedAllocation: 'Balanced', ImageLocality: 'Image',
};

/** The readable --explain table: feasible nodes by total (best first), then the rest with their reasons; ties by name. */
export function formatExplanation(pod: string, nodes: NodeExplanation[]): string {
  const order = [...nodes].sort((a, b) => (b.total ?? -1) - (a.total ?? -1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header = ['NODE', 'FEASIBLE', 'TOTAL', ...SCORE_PLUGINS.map(([p, w]) => `${SHORT_PLUGIN[p] ?? p}×${w}`), 'REASONS'];
  const rows = order.map((n) => [
    n.name, n.feasible ? 'yes' : 'no', n.total === null ? '-' : String(n.total),
    ...SCORE_PLUGINS.map(([p]) => (n.scores[p] === undefined ? '-' : String(n.scores[p]))), n.reasons.join('; '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const feasible = nodes.filter((n) => n.feasible).length;
  return [
    `pod ${pod}: ${feasible} of ${nodes.length} nodes feasible; scores are normalized 0-100 before weight (×w), TOTAL = Σ w × score`,
    line(header), ...rows.map(line), '',
  ].join('\n');
}

function clusterLine(c: ClusterCounts): string {
  const skipped = [[c.terminalPods, 'terminal'], [c.otherSchedulerPods, 'for another scheduler'], [c.gatedPods, 'gated']]
    .filter(([n]) => (n as number) > 0).map(([n, what]) => `${n} ${what}`);
  return `cluster: ${c.nodes} nodes, ${c.boundPods} bound pod${c.boundPods === 1 ? '' : 's'} (existing load), ${c.pendingPods} pending${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}`;
}

async function explainCommand(files: string[], podFile: string, json: boolean): Promise<number> {
  const m = await loadClusterManifests(files, { explainPod: podFile });
  const pod = m.explain as NonNullable<typeof m.explain>;
  // The cluster's current state: its bound pods only; other pending pods are not placed.
  const built = buildState(m.nodes, [...m.pods.slice(0, m.counts.boundPods), pod]);
  const nodes = explainPod(built.state, m.counts.boundPods);
  const name = `${pod.namespace}/${pod.name}`;
  if (json) process.stdout.write(JSON.stringify({ pod: name, nodes }, null, 2) + '\n');
  else process.stdout.write(formatExplanation(name, nodes));
  return EXIT.ok;
}

/**
 * --capacity: copies of the pod, one at a time against the cluster's bound
 * pods (its other pending pods are not placed), until one fits no node.
 */
async function capacityCommand(files: string[], podFile: string, values: Values, spec: ScheduleSpec): Promise<number> {
  const m = await loadClusterManifests(files, { explainPod: podFile });
  const pod = m.explain as NonNullable<typeof m.explain>;
  const bound = m.pods.slice(0, m.counts.boundPods);
  const max = parseSize('max-copies', str(values['max-copies']) ?? String(MAX_CAPACITY_COPIES), MAX_CAPACITY_COPIES);
  const built = buildState(m.nodes, [...bound, ...podCopies(pod, copiesToTry(m.nodes, bound, max))]);
  const r = await scheduleBuilt(built, { ...spec, batch: 1, stopAtUnschedulable: true });
  const report = capacityReport(built, m.nodes, pod, r.result);
  if (values.json === true) process.stdout.write(JSON.stringify({ ...report, elapsedMs: Math.round(report.elapsedMs), workers: spec.workers, percentageOfNodesToScore: spec.percentage || 'adaptive', seed: spec.seed }, null, 2) + '\n');
  else process.stdout.write(`${clusterLine(m.counts)}\n${formatCapacity(report)}`);
  return EXIT.ok;
}

/** Steps of the progress line: one per this share of the pending pods. */
const PROGRESS_STEPS = 20;

/** Feeds a Progress one step per 1/PROGRESS_STEPS of the pending pods scheduled. */
export function podProgress(progress: Progress): (scheduled: number, pending: number) => void {
  let shown = -1;
  return (scheduled, pending) => {
    if (shown < 0) { progress.plan(PROGRESS_STEPS); shown = 0; }
    const k = Math.min(PROGRESS_STEPS, Math.floor((scheduled * PROGRESS_STEPS) / Math.max(1, pending)));
    while (shown < k) {
      shown++;
      progress.step(`scheduling: ${scheduled.toLocaleString('en-US')} of ${pending.toLocaleString('en-US')} pods`);
    }
  };
}

function isEngine(name: string): name is Engine {
  return (ENGINES as readonly string[]).includes(name);
}

export const scheduleCommand: Command = {
  summary: "kube-scheduler's filter/score pipeline on a synthetic cluster or real manifests: throughput, placements, --explain",
  usage: 'kscale schedule [--nodes N] [--pods N] [--workload basic|spread|antiaffinity|nodeaffinity|daemonset|mixed] [--workers N] '
    + '[--percentage-of-nodes-to-score P] [--engine incremental|full] [--batch B] [--seed N] [--placements FILE] [--json]\n'
    + '       kscale schedule --cluster FILE… [--workers N] [--percentage-of-nodes-to-score P] [--engine incremental|full] [--batch B] [--seed N] [--placements FILE] [--json]\n'
    + '       kscale schedule --cluster FILE… --pod FILE --explain [--json]\n'
    + '       kscale schedule --cluster FILE… --pod FILE --capacity [--max-copies N] [--workers N] [--percentage-of-nodes-to-score P] [--seed N] [--json]\n'
    + '  --cluster takes Nodes and Pods (kubectl get nodes,pods -A -o yaml|json; a file, directory or -; repeatable):\n'
    + '  bound pods are existing load, pending pods are scheduled. --explain shows, for one pending pod, every\n'
    + "  node's filter reasons and each score plugin's normalized score against the cluster's current state.\n"
    + '  --capacity: how many more copies of that pod fit, as cluster-capacity answers it: copies scheduled one at\n'
    + '  a time (each sees the ones before it) until one fits no node, whose reasons are the answer\'s limit; per\n'
    + '  node and zone where they went. --max-copies caps the copies tried (default: the free pod slots + 1).\n'
    + '  --engine incremental (default) re-evaluates, when every node is scored (P = 100) or few nodes fit a pod\n'
    + '  shape (its cycle examines every node), only the nodes whose inputs changed since the last pod of the same\n'
    + '  shape, with placements identical to full; full filters and scores every node every cycle, as\n'
    + '  kube-scheduler does. The reference path (--workers 0) is always full.\n'
    + `  --batch B (2–${MAX_BATCH}; default 1, one pod at a time as kube-scheduler) is the batched optimistic mode: B pods\n`
    + '  scored against one snapshot in parallel, re-checked in order before commit (re-run on conflict); feasible\n'
    + '  placements, not identical to one at a time. It gains below 100%; with every node scored it runs about as\n'
    + '  fast as the incremental engine one pod at a time.',
  options: {
    nodes: { type: 'string' }, pods: { type: 'string' }, workload: { type: 'string' }, workers: { type: 'string' },
    'percentage-of-nodes-to-score': { type: 'string' }, engine: { type: 'string' }, batch: { type: 'string' }, seed: { type: 'string' }, placements: { type: 'string' }, json: { type: 'boolean' },
    cluster: { type: 'string', multiple: true }, pod: { type: 'string' }, explain: { type: 'boolean' }, capacity: { type: 'boolean' }, 'max-copies': { type: 'string' },
  },
  async run(values) {
    const clusterFiles = fileList(values.cluster);
    checkClusterFlags(values, clusterFiles);
    if (values.explain === true) return explainCommand(clusterFiles, str(values.pod) as string, values.json === true);
    // 0 = the single-threaded reference path; N ≥ 1 = N threads over node shards (the main thread and N - 1 workers).
    const workers = parseSize('workers', str(values.workers) ?? '2', 64, 0);
    const percentage = parseSize('percentage-of-nodes-to-score', str(values['percentage-of-nodes-to-score']) ?? '0', 100, 0);
    const seed = parseSize('seed', str(values.seed) ?? '1', 2 ** 31 - 1, 0);
    // Checked now: a bad path should not cost the whole run first.
    const placementsFile = str(values.placements) === undefined ? undefined : checkOutputFile('placements', str(values.placements) as string);
    const engine = str(values.engine) ?? 'incremental';
    if (!isEngine(engine)) throw new InputError('--engine', `unknown engine "${engine}" (known: ${ENGINES.join(', ')})`);
    const batch = parseSize('batch', str(values.batch) ?? '1', MAX_BATCH, 1);
    // On a terminal, a rewritten stderr line while the pods go through (stdout stays the result).
    const progress = progressFor(values.json === true);
    const spec: ScheduleSpec = { workers, percentage, seed, engine, batch, onProgress: podProgress(progress) };
    if (values.capacity === true) {
      try {
        return await capacityCommand(clusterFiles, str(values.pod) as string, values, spec);
      } finally {
        progress.done();
      }
    }
    let run: Run;
    try {
      run = clusterFiles.length > 0 ? await runCluster(clusterFiles, spec) : await runSyntheticFlags(values, spec);
    } finally {
      progress.done();
    }
    const { r, workload, nodes, pods } = run;
    const rssBytes = process.resourceUsage().maxRSS * 1024;
    if (placementsFile !== undefined) {
      const { tables } = r.built.state;
      const lines = r.built.pending.slice(0, r.scheduled).map((p, i) => `${tables.podNames[p]} ${r.result.placements[i]! >= 0 ? tables.nodeNames[r.result.placements[i]!] : '-'}`);
      const tmp = `${placementsFile}.tmp-${process.pid}`;
      writeFileSync(tmp, lines.join('\n') + '\n');
      renameSync(tmp, placementsFile);
    }
    const summary = {
      workload, nodes, pods, workers, mode: r.mode, engine: r.engine, incrementalCycles: r.incrementalCycles,
      // The batched optimistic mode's counts (null: one pod at a time).
      batch: r.result.batch ? { size: batch, ...r.result.batch } : null, percentageOfNodesToScore: percentage || 'adaptive', seed,
      scheduled: r.scheduled, placed: r.placed, unschedulable: r.unschedulable, elapsedMs: Math.round(r.elapsedMs),
      podsPerSecond: Math.round(r.podsPerSecond), latencyMs: r.latency ? { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max } : null,
      topReasons: Object.fromEntries(r.topReasons), firstUnschedulable: r.result.unschedulable[0]?.message ?? null,
      rescored: r.result.rescored, buildMs: Math.round(run.buildMs), peakRssBytes: rssBytes,
      // The plugin-time sampler's own time, left out of elapsedMs and the latencies.
      pluginSamplingMs: Math.round(r.result.samplingMs),
      // Sampled (one cycle in `every`): fraction of the filter + score time per plugin.
      pluginTimeShare: r.pluginTimeShare
        ? { sampledCycles: r.pluginTimeShare.sampledCycles, every: r.pluginTimeShare.every, share: Object.fromEntries(Object.entries(r.pluginTimeShare.share).map(([k, v]) => [k, Math.round(v * 1000) / 1000])) }
        : null,
      ...(run.cluster ? { cluster: run.cluster } : {}),
    };
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else {
      const lat = r.latency ? `p50 ${r.latency.p50.toFixed(3)} ms, p99 ${r.latency.p99.toFixed(3)} ms` : 'n/a';
      process.stdout.write([
        ...(run.cluster ? [clusterLine(run.cluster.counts)] : []),
        `${workload}: ${r.scheduled} pods onto ${nodes} nodes, ${r.mode}${workers ? ` with ${workers} workers` : ''}, ${r.engine} engine, percentageOfNodesToScore ${percentage || 'adaptive'}`
          + (r.result.batch ? `, batches of ${batch} (optimistic: ${r.result.batch.reruns} pods re-run, ${r.result.batch.conflicts} of them on a conflict; ${r.result.batch.alone} run alone)` : ''),
        `throughput ${summary.podsPerSecond} pods/s (${summary.elapsedMs} ms), per-pod latency ${lat}`,
        `placed ${r.placed}, unschedulable ${r.unschedulable}${summary.firstUnschedulable ? ` (e.g. ${summary.firstUnschedulable})` : ''}`,
        `peak RSS ${(rssBytes / 1024 ** 2).toFixed(0)} MiB, cluster build ${summary.buildMs} ms`,
        ...(r.pluginTimeShare && r.pluginTimeShare.sampledCycles > 0 ? [`plugin time share (${r.pluginTimeShare.sampledCycles} cycles sampled, 1 in ${r.pluginTimeShare.every}): ${
          Object.entries(r.pluginTimeShare.share).sort((a, b) => b[1] - a[1]).filter(([, v]) => v >= 0.005).map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%`).join(', ')}`] : []),
        '',
      ].join('\n'));
    }
    return EXIT.ok;
  },
};
