// Profiles decide the sizes; suites decide what is measured. `smoke` is what
// tests and CI run (< 1 min), `quick` is the default of `npm run bench`
// (≤ 5 min on a 2-core VM), `full` goes to the top of every sweep (≤ 30 min),
// `ci` is a fixed, repeatable set for the regression gate.
import type { Profile, ProfileName } from '../src/bench/types.js';

export const PROFILES: Record<ProfileName, Profile> = {
  smoke: {
    name: 'smoke',
    description: 'seconds; proves every suite runs end to end',
    defaultSuites: ['render', 'sync', 'datapath', 'ebpf', 'scheduler', 'fsync', 'etcd'],
    fsync: { blockBytes: 2300, writes: 300, fioCrossCheck: false },
    render: { services: [100, 1000], endpointsPerService: [1, 10], repeats: 3 },
  },
  quick: {
    name: 'quick',
    description: 'the default: a few minutes on a 2-core VM',
    defaultSuites: ['render', 'sync', 'datapath', 'ebpf', 'scheduler', 'fsync', 'etcd'],
    // etcd's documented fio recipe writes 22 MiB in 2,300-byte blocks.
    fsync: { blockBytes: 2300, writes: 10_000, fioCrossCheck: true },
    render: { services: [100, 1000, 10_000], endpointsPerService: [1, 10], repeats: 5 },
  },
  full: {
    name: 'full',
    description: 'top of every sweep: 50,000 Services, 5,000 nodes / 150,000 pods',
    defaultSuites: ['render', 'sync', 'datapath', 'ebpf', 'scheduler', 'fsync', 'etcd'],
    fsync: { blockBytes: 2300, writes: 10_000, fioCrossCheck: true },
    render: { services: [100, 1000, 5000, 10_000, 25_000, 50_000], endpointsPerService: [1, 10], repeats: 5 },
  },
  ci: {
    name: 'ci',
    description: 'fixed sizes for the regression gate',
    // Disk-bound suites (fsync, etcd) stay out: their noise on a shared VM's disk is not the code's.
    defaultSuites: ['calibration', 'render', 'sync', 'datapath', 'ebpf', 'scheduler'],
    fsync: { blockBytes: 2300, writes: 2000, fioCrossCheck: false },
    render: { services: [1000, 10_000], endpointsPerService: [10], repeats: 5 },
  },
};

export function isProfileName(name: string): name is ProfileName {
  return Object.hasOwn(PROFILES, name);
}
