// The cluster a user plans for, as they state it in profile.yaml. Untrusted
// input: every field is checked and a bad one is an InputError naming it.
import { InputError } from '../errors.js';

export interface ClusterProfile {
  nodes: number;
  pods: number;
  services: number;
  /** Average endpoints (ready pods) behind one Service. */
  endpointsPerService: number;
  /** Services or endpoints changing per second, cluster-wide (each change makes every kube-proxy sync). */
  serviceChurnPerSecond: number;
  newConnectionsPerSecondPerNode: number;
  /** Pods created at once (a Deployment scale-up, a batch job) the scheduler must place. */
  podBurst: number;
  /** scheduler workload shape to project with (one of the synthetic WORKLOADS: basic, spread, antiaffinity, nodeaffinity, daemonset, mixed); default basic. */
  workload?: string;
}

interface FieldRule {
  integer: boolean;
  min: number;
  /** Exclusive lower bound (endpointsPerService must be > 0). */
  positive?: boolean;
  max: number;
  help: string;
}

const FIELDS: Record<Exclude<keyof ClusterProfile, 'workload'>, FieldRule> = {
  nodes: { integer: true, min: 1, max: 1_000_000, help: 'number of nodes' },
  pods: { integer: true, min: 0, max: 100_000_000, help: 'number of pods' },
  services: { integer: true, min: 0, max: 10_000_000, help: 'number of Services' },
  endpointsPerService: { integer: false, min: 0, positive: true, max: 100_000, help: 'average endpoints per Service' },
  serviceChurnPerSecond: { integer: false, min: 0, max: 1_000_000, help: 'Service/endpoint changes per second' },
  newConnectionsPerSecondPerNode: { integer: false, min: 0, max: 100_000_000, help: 'new connections per second per node' },
  podBurst: { integer: true, min: 0, max: 10_000_000, help: 'pods created in one burst' },
};

export const PROFILE_FIELDS = Object.keys(FIELDS) as (keyof typeof FIELDS)[];

/**
 * A rejected value as the message shows it. Beyond 2^53 the parsed double is
 * no longer the number the file wrote (123456789012345678901 reads as
 * 123456789012345680000), so echoing it would misquote the file.
 */
function shown(v: number): string {
  return Math.abs(v) <= Number.MAX_SAFE_INTEGER ? `, got ${v}` : '';
}

function checkNumber(file: string, key: string, v: unknown, rule: FieldRule): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${file}: ${key}`, `expected a number (${rule.help}), got ${v === null ? 'null' : typeof v === 'string' ? `"${v}"` : typeof v}`);
  if (rule.integer && !Number.isInteger(v)) throw new InputError(`${file}: ${key}`, `expected a whole number, got ${v}`);
  if (rule.positive ? v <= rule.min : v < rule.min) throw new InputError(`${file}: ${key}`, `must be ${rule.positive ? '>' : '≥'} ${rule.min}${shown(v)}`);
  if (v > rule.max) throw new InputError(`${file}: ${key}`, `too large: the supported maximum is ${rule.max}${shown(v)}`);
  return v;
}

/**
 * Validate a profile document. `fromSnapshot` supplies counts measured from a
 * real cluster (nodes, pods, services, endpointsPerService); fields the file
 * states win over them, and whatever neither gives is an error.
 */
export function validateProfile(doc: unknown, file: string, fromSnapshot: Partial<ClusterProfile> = {}): ClusterProfile {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new InputError(file, 'expected a mapping of cluster profile fields');
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!Object.hasOwn(FIELDS, k) && k !== 'workload' && k !== 'snapshot') {
      throw new InputError(`${file}: ${k}`, `unknown field (known: ${[...PROFILE_FIELDS, 'workload', 'snapshot'].join(', ')})`);
    }
  }
  const out: Partial<ClusterProfile> = {};
  for (const k of PROFILE_FIELDS) {
    const v = Object.hasOwn(o, k) ? o[k] : fromSnapshot[k];
    if (v === undefined) throw new InputError(`${file}: ${k}`, `is required (${FIELDS[k].help})`);
    out[k] = checkNumber(file, k, v, FIELDS[k]);
  }
  if (o.workload !== undefined) {
    if (typeof o.workload !== 'string' || o.workload === '') throw new InputError(`${file}: workload`, 'expected a scheduler workload name such as basic or mixed');
    out.workload = o.workload;
  }
  const p = out as ClusterProfile;
  if (p.pods > 0 && p.nodes === 0) throw new InputError(`${file}: nodes`, 'pods need at least one node');
  return p;
}

/** The profile file's `snapshot:` directory, if it names one. */
export function snapshotOf(doc: unknown, file: string): string | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const s = (doc as Record<string, unknown>).snapshot;
  if (s === undefined) return undefined;
  if (typeof s !== 'string' || s === '') throw new InputError(`${file}: snapshot`, 'expected the path of a `kscale snapshot` directory');
  return s;
}
