// The results document: one per run, the only thing the report and the gate read.
// schema/results-v1.schema.json is the machine-checked form of these types;
// change both together and bump SCHEMA_VERSION on any incompatible change.
import type { Summary } from '../stats/summary.js';
import type { Capability } from '../host/capabilities.js';

export const SCHEMA_VERSION = 1;

export type MeasurementStatus = 'ok' | 'skipped' | 'failed';
export type ParamValue = string | number | boolean;

export interface Histogram {
  /** Upper bounds (inclusive) and counts, as Prometheus-style cumulative-free buckets. */
  buckets: { le: number; count: number }[];
}

export interface Measurement {
  suite: string;
  name: string;
  unit: string;
  params: Record<string, ParamValue>;
  status: MeasurementStatus;
  /** Why it was skipped or failed (a tool's stderr, a missing capability…). */
  reason?: string;
  samples?: number[];
  histogram?: Histogram;
  summary?: Summary;
  /** Derived values that belong with the measurement: fits, kernel object counts, ratios. */
  extra?: Record<string, unknown>;
}

export interface HostProvenance {
  hostname: string;
  cpu: { manufacturer: string; brand: string; cores: number; physicalCores: number; speedGHz: number; speedMaxGHz: number };
  memory: { totalBytes: number };
  os: { platform: string; distro: string; release: string; kernel: string; arch: string };
  virtualization: { virtual: boolean; host: string };
  disk: { dataDir: string; device: string; fsType: string; model: string; type: string };
  node: string;
  tools: Record<string, string>;
}

export interface RunResults {
  schemaVersion: typeof SCHEMA_VERSION;
  runId: string;
  seed: number;
  command: string[];
  gitSha: string | null;
  profile: string;
  suites: string[];
  startedAt: string;
  endedAt: string;
  host: HostProvenance;
  capabilities: Capability[];
  measurements: Measurement[];
}
