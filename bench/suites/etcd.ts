// etcd under the disk and host being measured: put latency and throughput at
// concurrency 1/16/64 on an empty and a preloaded keyspace, watch latency per
// watcher count, and etcd's own WAL-fsync / backend-commit histograms and db
// size. See src/etcd/measure.ts. The fsync probe of the same disk is the
// `fsync` suite.
import type { ProfileName, Suite } from '../../src/bench/types.js';
import { ETCD_SUITE, etcdSteps, runEtcdMeasurements } from '../../src/etcd/measure.js';
import type { EtcdSizes } from '../../src/etcd/measure.js';

export const ETCD_SIZES: Record<ProfileName, EtcdSizes> = {
  // ~20 s on a 2-core VM: enough puts for a p99 to mean something, a small keyspace, up to 100 watchers.
  smoke: { puts: 200, concurrency: [1, 16, 64], preloadPods: 2000, watchers: [1, 10, 100], watchEvents: 30 },
  quick: { puts: 1000, concurrency: [1, 16, 64], preloadPods: 20_000, watchers: [1, 100, 1000], watchEvents: 50 },
  // The sizes: a 150,000-pod keyspace (5,000 nodes × 30 pods) and 1,000 watchers.
  full: { puts: 5000, concurrency: [1, 16, 64], preloadPods: 150_000, watchers: [1, 100, 1000], watchEvents: 100 },
  ci: { puts: 1000, concurrency: [1, 16, 64], preloadPods: 10_000, watchers: [1, 100], watchEvents: 50 },
};

export const etcdSuite: Suite = {
  name: ETCD_SUITE,
  description: 'etcd put latency/throughput (concurrency 1, 16, 64; empty and preloaded keyspace), watch latency per watcher count, WAL fsync and backend commit histograms',
  steps: (profile) => etcdSteps(ETCD_SIZES[profile.name]),
  async run(ctx) {
    await runEtcdMeasurements({
      sizes: ETCD_SIZES[ctx.profile.name],
      caps: ctx.caps,
      runId: ctx.runId,
      prefix: ctx.prefix,
      dataDir: ctx.dataDir,
      seed: ctx.seed,
      progress: ctx.progress,
      record: (m) => ctx.record(m),
    });
  },
};
