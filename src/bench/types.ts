// The contract between the runner and the suites that later issues plug in.
import type { Capabilities } from '../host/capabilities.js';
import type { Measurement } from '../results/types.js';
import type { Progress } from './progress.js';

export type ProfileName = 'smoke' | 'quick' | 'full' | 'ci';

/** Sizes and repetitions for each suite; one object per profile in bench/profiles.ts. */
export interface Profile {
  name: ProfileName;
  description: string;
  /** The suites `npm run bench` runs with this profile when --suites is not given. */
  defaultSuites: string[];
  fsync: { blockBytes: number; writes: number; fioCrossCheck: boolean };
  render: { services: number[]; endpointsPerService: number[]; repeats: number };
}

export interface SuiteContext {
  profile: Profile;
  caps: Capabilities;
  runId: string;
  /** Prefix every kernel object and temp path of this run carries. */
  prefix: string;
  seed: number;
  runDir: string;
  /** Directory on the disk under test (fsync, etcd data). */
  dataDir: string;
  progress: Progress;
  record(m: Measurement): void;
}

export interface Suite {
  name: string;
  description: string;
  /** How many progress steps run() will take with this profile (for the ETA). */
  steps(profile: Profile): number;
  run(ctx: SuiteContext): Promise<void>;
}
