// Every dataplane kscale can measure, in the order reports list them.
import type { DataplaneBackend } from './backend.js';
import { iptablesLegacyBackend, iptablesNftBackend } from './iptables/backend.js';
import { nftablesBackend } from './nftables/backend.js';
import { ebpfBackend } from './ebpf/backend.js';
import { ipvsBackend } from './ipvs/backend.js';

export const BACKENDS: readonly DataplaneBackend<unknown>[] = [
  iptablesNftBackend as DataplaneBackend<unknown>,
  iptablesLegacyBackend as DataplaneBackend<unknown>,
  nftablesBackend as DataplaneBackend<unknown>,
  ipvsBackend as DataplaneBackend<unknown>,
  ebpfBackend as DataplaneBackend<unknown>,
];
