// Sync cost of every dataplane on the same models: full load, one Service
// added / one endpoint changed / one Service deleted (full and partial
// restores for iptables), flush. See src/dataplane/measure-sync.ts.
import type { ProfileName, Suite } from '../../src/bench/types.js';
import { BACKENDS } from '../../src/dataplane/backends.js';
import { runSyncSweep, SYNC_SUITE, syncSteps } from '../../src/dataplane/measure-sync.js';

interface SyncSizes {
  services: number[];
  endpoints: number[];
  /** When set, these (Services, endpoints) points instead of the grid: keeps the slowest tools' corner out of short profiles. */
  points?: [number, number][];
  repeats: number;
  /** Longest one iptables-restore / nft run may take before larger sizes of that backend are skipped. */
  toolBudgetMs: number;
}

export const SYNC_SIZES: Record<ProfileName, SyncSizes> = {
  smoke: { services: [100], endpoints: [10], repeats: 2, toolBudgetMs: 60_000 },
  quick: { services: [], endpoints: [], points: [[100, 1], [100, 10], [1000, 1], [1000, 10], [2000, 1]], repeats: 2, toolBudgetMs: 60_000 },
  full: { services: [100, 1000, 5000, 10_000, 25_000, 50_000], endpoints: [1, 10], repeats: 3, toolBudgetMs: 600_000 },
  // Sizes every backend loads in well under a second, so five repeats of everything fit a CI run.
  ci: { services: [1000], endpoints: [1], repeats: 5, toolBudgetMs: 60_000 },
};

export const syncSuite: Suite = {
  name: SYNC_SUITE,
  description: 'programming the kernel: full load, incremental changes and flush per backend, 100 to 50,000 Services',
  steps: (profile) => syncSteps({ backends: BACKENDS, ...SYNC_SIZES[profile.name] }),
  async run(ctx) {
    const sizes = SYNC_SIZES[ctx.profile.name];
    await runSyncSweep({ backends: BACKENDS, ...sizes, caps: ctx.caps, prefix: ctx.prefix, seed: ctx.seed, progress: ctx.progress, record: (m) => ctx.record(m) });
  },
};
