// Every suite `npm run bench` knows, by name. Later suites register here.
import type { Suite } from '../../src/bench/types.js';
import { fsyncSuite } from './fsync.js';
import { syncSuite } from './sync.js';
import { schedulerSuite } from './scheduler.js';
import { ebpfSuite } from './ebpf.js';
import { renderSuite } from './render.js';
import { etcdSuite } from './etcd.js';
import { datapathSuite } from './datapath.js';
import { calibrationSuite } from './calibration.js';

export const SUITES: Record<string, Suite> = {
  [calibrationSuite.name]: calibrationSuite,
  [fsyncSuite.name]: fsyncSuite,
  [syncSuite.name]: syncSuite,
  [schedulerSuite.name]: schedulerSuite,
  [ebpfSuite.name]: ebpfSuite,
  [renderSuite.name]: renderSuite,
  [etcdSuite.name]: etcdSuite,
  [datapathSuite.name]: datapathSuite,
};
